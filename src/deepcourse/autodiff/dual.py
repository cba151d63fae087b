"""Forward-mode automatic differentiation with dual numbers.

A dual number is ``a + b*eps`` with ``eps**2 = 0``.  Evaluating a program on
``x + v*eps`` yields ``f(x) + (J_f(x) v) eps``: the eps part carries the
Jacobian-vector product (Griewank & Walther 2008, "Evaluating Derivatives",
ch. 3; the Taylor argument is in the module 10 notes).  Here the primal ``a``
and tangent ``b`` are NumPy arrays of the same shape, so one pass pushes one
direction ``v`` through a whole array program.

``Dual`` hooks into NumPy's dispatch (``__array_ufunc__`` and
``__array_function__``), so ``np.exp(d)``, ``d @ w`` or ``np.sum(d, axis=0)``
work unchanged.  The reverse-mode ``Tensor`` relies on this: storing duals
inside a tensor gives forward-over-reverse Hessian-vector products.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .pow_rules import d_base, d_exponent

__all__ = ["Dual", "jvp", "derivative", "jacfwd", "primal", "tangent", "scatter_add"]


def primal(x: Any) -> Any:
    """The primal (value) part of ``x``; ``x`` itself when it is not dual."""
    return x.primal if isinstance(x, Dual) else x


def tangent(x: Any) -> Any:
    """The tangent part of ``x``; ``None`` (meaning zero) when it is not dual."""
    return x.tangent if isinstance(x, Dual) else None


def _fit(t: Any, shape: tuple) -> Any:
    """Broadcast a tangent to the primal's shape (constants broadcast too)."""
    if t is None:
        return None
    t = np.asarray(t)
    return t if t.shape == shape else np.broadcast_to(t, shape)


def _add(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _scale(t: Any, s: Any) -> Any:
    return None if t is None else t * s


# ---- rules: each takes primal inputs and tangents, returns (value, tangent) ----
def _unary(fn: Callable, dfn: Callable) -> Callable:
    def rule(x, dx):
        y = fn(x)
        return y, None if dx is None else dfn(x, y, dx)
    return rule


_UNARY: dict[Any, Callable] = {
    np.negative: _unary(np.negative, lambda x, y, d: -d),
    np.positive: _unary(np.positive, lambda x, y, d: d),
    np.absolute: _unary(np.absolute, lambda x, y, d: np.sign(x) * d),
    np.exp: _unary(np.exp, lambda x, y, d: y * d),
    np.log: _unary(np.log, lambda x, y, d: d / x),
    np.sin: _unary(np.sin, lambda x, y, d: np.cos(x) * d),
    np.cos: _unary(np.cos, lambda x, y, d: -np.sin(x) * d),
    np.tan: _unary(np.tan, lambda x, y, d: (1.0 + y * y) * d),
    np.tanh: _unary(np.tanh, lambda x, y, d: (1.0 - y * y) * d),
    np.sqrt: _unary(np.sqrt, lambda x, y, d: d / (2.0 * y)),
    np.square: _unary(np.square, lambda x, y, d: 2.0 * x * d),
    np.sign: _unary(np.sign, lambda x, y, d: np.zeros_like(y)),
}


def _mul(a, da, b, db):
    return a * b, _add(_scale(da, b), _scale(db, a))


def _div(a, da, b, db):
    y = a / b
    t = _add(da, None if db is None else -y * db)
    return y, None if t is None else t / b


def _pow(a, da, b, db):
    y = a**b
    # a tangent that is exactly zero adds exactly zero: (a, b) = (-2, 2) along (1, 0) gives -4,
    # not -4 + nan * 0 (ln a is nan for a < 0); torch's forward mode on a ** b_const agrees
    with np.errstate(divide="ignore", invalid="ignore"):
        t = None if da is None else np.where(np.equal(da, 0), 0.0, d_base(a, b) * da)
        if db is not None:
            t = _add(t, np.where(np.equal(db, 0), 0.0, d_exponent(a, b, y) * db))
    return y, t


def _maximum(a, da, b, db, pick=np.greater_equal):
    y = np.maximum(a, b) if pick is np.greater_equal else np.minimum(a, b)
    if da is None and db is None:
        return y, None
    za = np.zeros(np.shape(y), dtype=np.result_type(y)) if da is None else da
    zb = np.zeros(np.shape(y), dtype=np.result_type(y)) if db is None else db
    return y, np.where(pick(a, b), za, zb)


_BINARY: dict[Any, Callable] = {
    np.add: lambda a, da, b, db: (a + b, _add(da, db)),
    np.subtract: lambda a, da, b, db: (a - b, _add(da, None if db is None else -db)),
    np.multiply: _mul,
    np.true_divide: _div,
    np.power: _pow,
    np.maximum: _maximum,
    np.minimum: lambda a, da, b, db: _maximum(a, da, b, db, pick=np.less_equal),
    np.matmul: lambda a, da, b, db: (
        a @ b, _add(None if da is None else da @ b, None if db is None else a @ db)),
}

# comparisons look at primals only and return plain boolean arrays
_COMPARE = {np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
            np.isfinite, np.isnan}


class Dual:
    """An array ``primal + tangent * eps`` with ``eps**2 = 0``.

    >>> d = Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    >>> (d * d).tangent   # d(x^2) = 2 x dx
    array([2., 0.])
    """

    __slots__ = ("primal", "tangent")
    __array_priority__ = 2000

    def __init__(self, primal: Any, tangent: Any = None) -> None:
        p = np.asarray(primal)
        if not np.issubdtype(p.dtype, np.floating):
            p = p.astype(np.float64)
        self.primal = p
        self.tangent = np.zeros_like(p) if tangent is None else _fit(np.asarray(tangent, dtype=p.dtype), p.shape)

    # -- NumPy protocol -------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            return NotImplemented
        if ufunc in _COMPARE:
            return ufunc(*[primal(x) for x in inputs], **kwargs)
        ps = [primal(x) for x in inputs]
        ts = [tangent(x) for x in inputs]
        if len(inputs) == 1 and ufunc in _UNARY:
            y, t = _UNARY[ufunc](ps[0], ts[0])
        elif len(inputs) == 2 and ufunc in _BINARY:
            y, t = _BINARY[ufunc](ps[0], ts[0], ps[1], ts[1])
        else:
            raise TypeError(f"Dual: ufunc np.{ufunc.__name__} has no forward-mode rule; "
                            f"supported: {sorted(u.__name__ for u in list(_UNARY) + list(_BINARY))}")
        return _wrap(y, t)

    def __array_function__(self, func, types, args, kwargs):
        rule = _FUNCTIONS.get(func)
        if rule is None:
            raise TypeError(f"Dual: np.{func.__name__} has no forward-mode rule; "
                            f"supported: {sorted(f.__name__ for f in _FUNCTIONS)}")
        return rule(*args, **kwargs)

    # -- array-like attributes ------------------------------------------
    shape = property(lambda self: self.primal.shape)
    ndim = property(lambda self: self.primal.ndim)
    size = property(lambda self: self.primal.size)
    dtype = property(lambda self: self.primal.dtype)
    T = property(lambda self: Dual(self.primal.T, self.tangent.T))

    def __len__(self) -> int:
        return len(self.primal)

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r})"

    # -- operators (all routed through the ufunc rules) -----------------
    __add__ = lambda s, o: np.add(s, o)
    __radd__ = lambda s, o: np.add(o, s)
    __sub__ = lambda s, o: np.subtract(s, o)
    __rsub__ = lambda s, o: np.subtract(o, s)
    __mul__ = lambda s, o: np.multiply(s, o)
    __rmul__ = lambda s, o: np.multiply(o, s)
    __truediv__ = lambda s, o: np.true_divide(s, o)
    __rtruediv__ = lambda s, o: np.true_divide(o, s)
    __pow__ = lambda s, o: np.power(s, o)
    __rpow__ = lambda s, o: np.power(o, s)
    __matmul__ = lambda s, o: np.matmul(s, o)
    __rmatmul__ = lambda s, o: np.matmul(o, s)
    __neg__ = lambda s: np.negative(s)
    __pos__ = lambda s: s
    __abs__ = lambda s: np.absolute(s)
    __gt__ = lambda s, o: np.greater(s.primal, primal(o))
    __ge__ = lambda s, o: np.greater_equal(s.primal, primal(o))
    __lt__ = lambda s, o: np.less(s.primal, primal(o))
    __le__ = lambda s, o: np.less_equal(s.primal, primal(o))

    def __getitem__(self, idx: Any) -> Dual:
        return Dual(self.primal[idx], self.tangent[idx])

    # -- methods mirroring ndarray ----------------------------------------
    def sum(self, axis=None, keepdims=False) -> Dual:
        return Dual(self.primal.sum(axis=axis, keepdims=keepdims), self.tangent.sum(axis=axis, keepdims=keepdims))

    def mean(self, axis=None, keepdims=False) -> Dual:
        return Dual(self.primal.mean(axis=axis, keepdims=keepdims), self.tangent.mean(axis=axis, keepdims=keepdims))

    def max(self, axis=None, keepdims=False) -> Dual:
        """Max along an axis; the tangent is taken at the (first) arg-max."""
        if axis is None:
            i = np.unravel_index(np.argmax(self.primal), self.shape)
            out = Dual(self.primal[i], self.tangent[i])
            return out.reshape((1,) * self.ndim) if keepdims else out
        i = np.expand_dims(np.argmax(self.primal, axis=axis), axis)
        p = np.take_along_axis(self.primal, i, axis)
        t = np.take_along_axis(self.tangent, i, axis)
        return Dual(p, t) if keepdims else Dual(np.squeeze(p, axis), np.squeeze(t, axis))

    def reshape(self, *shape) -> Dual:
        return Dual(self.primal.reshape(*shape), self.tangent.reshape(*shape))

    def transpose(self, *axes) -> Dual:
        return Dual(self.primal.transpose(*axes), self.tangent.transpose(*axes))

    def swapaxes(self, a: int, b: int) -> Dual:
        return Dual(self.primal.swapaxes(a, b), self.tangent.swapaxes(a, b))

    def astype(self, dtype) -> Dual:
        return Dual(self.primal.astype(dtype), self.tangent.astype(dtype))


def _wrap(y: Any, t: Any) -> Dual:
    d = Dual.__new__(Dual)
    d.primal = np.asarray(y)
    if t is None:
        d.tangent = np.zeros_like(d.primal)
    else:  # the tangent lives in the primal's space: a float32 primal keeps a float32 tangent
        t = _fit(t, d.primal.shape)
        d.tangent = t if t.dtype == d.primal.dtype else t.astype(d.primal.dtype)
    return d


def _both(fn: Callable) -> Callable:
    """Lift a linear NumPy function of one array: apply it to primal and tangent."""
    def rule(a, *args, **kwargs):
        if not isinstance(a, Dual):
            return fn(a, *args, **kwargs)
        return _wrap(fn(a.primal, *args, **kwargs), fn(a.tangent, *args, **kwargs))
    return rule


def _concatenate(arrays, axis=0, **kwargs):
    ps = [primal(a) for a in arrays]
    ts = [np.zeros_like(primal(a)) if tangent(a) is None else a.tangent for a in arrays]
    return _wrap(np.concatenate(ps, axis=axis), np.concatenate(ts, axis=axis))


def _stack(arrays, axis=0, **kwargs):
    ps = [primal(a) for a in arrays]
    ts = [np.zeros_like(primal(a)) if tangent(a) is None else a.tangent for a in arrays]
    return _wrap(np.stack(ps, axis=axis), np.stack(ts, axis=axis))


def _where(cond, a, b):
    y = np.where(primal(cond), primal(a), primal(b))
    ta, tb = tangent(a), tangent(b)
    ta = np.zeros_like(y) if ta is None else ta
    tb = np.zeros_like(y) if tb is None else tb
    return _wrap(y, np.where(primal(cond), ta, tb))


def _dot(a, b, out=None):
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return np.matmul(a, b) if np.ndim(a) and np.ndim(b) else np.multiply(a, b)
    raise TypeError("Dual: np.dot supports arrays of at most 2 dimensions")


_FUNCTIONS: dict[Any, Callable] = {
    np.sum: lambda a, axis=None, keepdims=False, **k: a.sum(axis=axis, keepdims=keepdims),
    np.mean: lambda a, axis=None, keepdims=False, **k: a.mean(axis=axis, keepdims=keepdims),
    np.max: lambda a, axis=None, keepdims=False, **k: a.max(axis=axis, keepdims=keepdims),
    np.reshape: _both(np.reshape),
    np.transpose: _both(np.transpose),
    np.swapaxes: _both(np.swapaxes),
    np.squeeze: _both(np.squeeze),
    np.expand_dims: _both(np.expand_dims),
    np.broadcast_to: _both(np.broadcast_to),
    np.moveaxis: _both(np.moveaxis),
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.where: _where,
    np.dot: _dot,
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
    np.zeros_like: lambda a, *args, **k: np.zeros_like(a.primal, *args, **k),
    np.ones_like: lambda a, *args, **k: np.ones_like(a.primal, *args, **k),
}


def scatter_add(shape: tuple, index: Any, values: Any, dtype: Any = np.float64) -> Any:
    """``out = zeros(shape); out[index] += values`` (repeats accumulate); dual-aware.

    Used by the backward pass of indexing, where ``values`` may be dual during
    forward-over-reverse.
    """
    def one(v):
        out = np.zeros(shape, dtype=dtype)
        np.add.at(out, index, v)
        return out
    if isinstance(values, Dual):
        return _wrap(one(values.primal), one(values.tangent))
    return one(values)


# ---- user-facing forward-mode transforms ---------------------------------------
def _as_float(x: Any) -> np.ndarray:
    a = np.asarray(x)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def jvp(f: Callable, primals: Any, tangents: Any) -> tuple[Any, Any]:
    """Jacobian-vector product: returns ``(f(x), J_f(x) v)`` in one forward pass.

    ``primals`` and ``tangents`` are an array each, or tuples of arrays (one per
    argument of ``f``).  Outputs that do not depend on the inputs get a zero tangent.
    """
    multi = isinstance(primals, (tuple, list))
    ps = tuple(primals) if multi else (primals,)
    ts = tuple(tangents) if multi else (tangents,)
    if len(ps) != len(ts):
        raise ValueError(f"jvp: got {len(ps)} primals but {len(ts)} tangents; give one tangent per primal")
    duals = []
    for i, (p, t) in enumerate(zip(ps, ts)):
        p, t = _as_float(p), _as_float(t)
        if p.shape != t.shape:
            raise ValueError(f"jvp: tangent {i} has shape {t.shape}, primal has shape {p.shape}; they must match")
        duals.append(Dual(p, t))
    out = f(*duals)

    def split(o):
        if isinstance(o, Dual):
            return o.primal, o.tangent
        o = np.asarray(o)
        return o, np.zeros_like(o, dtype=np.float64)
    if isinstance(out, (tuple, list)):
        pairs = [split(o) for o in out]
        return tuple(p for p, _ in pairs), tuple(t for _, t in pairs)
    return split(out)


def derivative(f: Callable) -> Callable:
    """``f'`` for a scalar (or elementwise) function: ``derivative(np.sin)(0.0) == 1``."""
    def df(x):
        x = _as_float(x)
        return jvp(f, x, np.ones_like(x))[1]
    df.__name__ = f"d_{getattr(f, '__name__', 'f')}"
    return df


def jacfwd(f: Callable) -> Callable:
    """Jacobian by forward mode: one JVP per input coordinate (cost ~ n passes).

    For ``f: R^(shape_in) -> R^(shape_out)`` returns an array of shape
    ``shape_out + shape_in``.
    """
    def jac(x):
        x = _as_float(x)
        n = x.size
        if n == 0:  # no input coordinates: an empty Jacobian; one zero-tangent pass gives the output shape
            _, t = jvp(f, x, np.zeros_like(x))
            return np.zeros(np.shape(t) + x.shape, dtype=np.result_type(t))
        cols = []
        basis = np.zeros(n, dtype=x.dtype)
        for j in range(n):
            basis[j] = 1.0
            _, t = jvp(f, x, basis.reshape(x.shape))
            basis[j] = 0.0
            cols.append(np.asarray(t).reshape(-1))
        return np.stack(cols, axis=-1).reshape(np.shape(t) + x.shape)
    return jac
