"""Multi-input and shape-combining ops of the reverse-mode ``Tensor`` (split from ``tensor.py``).

Same conventions: each op records a closure mapping the output adjoint to its inputs'
adjoints (vector-Jacobian products), written with NumPy calls that ``Dual`` also supports.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .dual import Dual, primal, scatter_add
from .pow_rules import d_base, d_exponent
from .tensor import Tensor, _const, _drop_axes, _kept_shape, _make, _unbroadcast, as_tensor

__all__ = ["matmul", "divide", "power", "maximum", "minimum", "where", "amax", "logsumexp", "softmax", "log_softmax",
           "index", "concatenate", "stack"]


def _operand(x: Any) -> tuple[Tensor | None, Any]:
    """``(tensor, data)`` for a tensor, ``(None, constant)`` otherwise.

    Constants stay Python scalars: NumPy 2 promotes a float32 array against a float64 0-d
    array (what ``as_tensor(0.5)`` holds) but never against a Python float, so this keeps
    float32 graphs float32.
    """
    return (x, x.data) if isinstance(x, Tensor) else (None, _const(x))


def _binary(a: Any, b: Any, y: Any, grad_a: Callable, grad_b: Callable) -> Tensor:
    """Record ``y = op(a, b)``; ``grad_a(g)`` / ``grad_b(g)`` give the adjoints before un-broadcasting.

    Only tensor operands become parents; a constant operand gets no adjoint.
    """
    (ta, A), (tb, B) = _operand(a), _operand(b)
    pairs = [(t, fn, np.shape(D)) for t, fn, D in ((ta, grad_a, A), (tb, grad_b, B)) if t is not None]
    return _make(y, tuple(t for t, _, _ in pairs),
                 lambda g: tuple(_unbroadcast(fn(g), shape) if t.requires_grad else None for t, fn, shape in pairs))


def divide(a: Any, b: Any) -> Tensor:
    """``a / b``; ``x / 0.0`` is inf (or nan) as in NumPy, not a ZeroDivisionError."""
    A, B = _operand(a)[1], _operand(b)[1]
    y = A / B
    return _binary(a, b, y, lambda g: g / B, lambda g: -g * y / B)


def power(a: Any, b: Any) -> Tensor:
    """``a ** b``; the two partials and their conventions at 0 are in ``pow_rules``."""
    A, B = _operand(a)[1], _operand(b)[1]
    y = A**B
    return _binary(a, b, y, lambda g: g * d_base(A, B), lambda g: g * d_exponent(A, B, y))


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with NumPy's rules for 1-D and batched operands."""
    A, B = a.data, b.data
    if A.ndim == 0 or B.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got shapes {A.shape} and {B.shape}")

    def bw(g):
        ga = gb = None
        if A.ndim == 2 and B.ndim == 2:  # the common dense-layer case, kept cheap
            gb = None
            if b.requires_grad:
                # batch of one: a broadcast outer product is ~4x faster than a k=1 GEMM in OpenBLAS
                gb = A.T * g if A.shape[0] == 1 else A.T @ g
            return (g @ B.T if a.requires_grad else None, gb)
        if A.ndim == 1 and B.ndim == 1:
            return (g * B, g * A)
        A2 = A.reshape(1, -1) if A.ndim == 1 else A  # (..., n, k)
        B2 = B.reshape(-1, 1) if B.ndim == 1 else B  # (..., k, m)
        g2 = g
        if A.ndim == 1:
            g2 = np.expand_dims(g2, -2)  # (..., 1, m)
        if B.ndim == 1:
            g2 = np.expand_dims(g2, -1)  # (..., n, 1)
        if a.requires_grad:
            ga = _unbroadcast(g2 @ B2.swapaxes(-1, -2), A2.shape).reshape(A.shape)
        if b.requires_grad:
            gb = _unbroadcast(A2.swapaxes(-1, -2) @ g2, B2.shape).reshape(B.shape)
        return (ga, gb)
    return _make(A @ B, (a, b), bw)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` holds, else ``b``; the adjoint is routed the same way.

    ``cond`` may be a tensor (its non-zero entries count as true, as in ``np.where``).
    """
    c = np.asarray(primal(cond.data if isinstance(cond, Tensor) else cond)).astype(bool, copy=False)
    y = np.where(c, _operand(a)[1], _operand(b)[1])
    return _binary(a, b, y, lambda g: g * c, lambda g: g * ~c)


def maximum(a: Any, b: Any, _pick: Callable = np.greater_equal) -> Tensor:
    """Elementwise max; on ties the gradient goes to ``a``."""
    return where(_pick(primal(_operand(a)[1]), primal(_operand(b)[1])), a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min; on ties the gradient goes to ``a``."""
    return maximum(a, b, _pick=np.less_equal)


# ---- reductions along an axis (the Tensor methods call these) ----------------------------
def amax(t: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Max along ``axis``; the gradient goes to the first arg-max, as ``torch.max(dim)`` does."""
    x = t.data
    p = primal(x)
    flat = axis is None
    p2 = p.reshape(-1) if flat else p
    ax = 0 if flat else axis
    idx = np.expand_dims(np.argmax(p2, axis=ax), ax)
    mask = np.zeros(p2.shape, dtype=bool)
    np.put_along_axis(mask, idx, True, ax)
    mask = mask.reshape(p.shape)
    kept = _kept_shape(p.shape, axis)
    y = (x * mask).sum(axis=axis, keepdims=keepdims) if isinstance(x, Dual) else p.max(axis=axis, keepdims=keepdims)
    return _make(y, (t,), lambda g: (mask * g.reshape(kept),))


def logsumexp(t: Tensor, axis: Any = -1, keepdims: bool = False) -> Tensor:
    """``log sum exp`` over ``axis`` (``None``: over all elements), shifted by the max so it never overflows."""
    x = t.data
    m = primal(x).max(axis=axis, keepdims=True)
    s = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m  # (..., 1, ...)
    kept = s.shape
    out = s if keepdims else s.reshape(_drop_axes(kept, axis))
    return _make(out, (t,), lambda g: (g.reshape(kept) * np.exp(x - s),))


def softmax(t: Tensor, axis: int = -1) -> Tensor:
    x = t.data
    e = np.exp(x - primal(x).max(axis=axis, keepdims=True))
    y = e / e.sum(axis=axis, keepdims=True)
    return _make(y, (t,), lambda g: (y * (g - (g * y).sum(axis=axis, keepdims=True)),))


def log_softmax(t: Tensor, axis: int = -1) -> Tensor:
    x = t.data
    z = x - primal(x).max(axis=axis, keepdims=True)
    y = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return _make(y, (t,), lambda g: (g - np.exp(y) * g.sum(axis=axis, keepdims=True),))


def _is_basic_index(idx: Any) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


def index(t: Tensor, idx: Any) -> Tensor:
    """``t[idx]``: basic slicing, integer arrays (repeats accumulate in the adjoint), boolean masks."""
    if isinstance(idx, Tensor):
        idx = idx.numpy().astype(np.int64)
    shape, dtype = t.shape, primal(t.data).dtype
    basic = _is_basic_index(idx)

    def bw(g):
        if basic and not isinstance(g, Dual):  # positions are unique: plain assignment
            out = np.zeros(shape, dtype=dtype)
            out[idx] = g
            return (out,)
        return (scatter_add(shape, idx, g, dtype),)
    return _make(t.data[idx], (t,), bw)


def concatenate(tensors: Iterable[Any], axis: int = 0) -> Tensor:
    ts = tuple(as_tensor(t) for t in tensors)
    if not ts:
        raise ValueError("concatenate: need at least one tensor")
    ax = axis % ts[0].ndim
    bounds = np.cumsum([0] + [t.shape[ax] for t in ts])

    def bw(g):
        return tuple(g[(slice(None),) * ax + (slice(int(lo), int(hi)),)] for lo, hi in zip(bounds[:-1], bounds[1:]))
    return _make(np.concatenate([t.data for t in ts], axis=ax), ts, bw)


def stack(tensors: Iterable[Any], axis: int = 0) -> Tensor:
    ts = [as_tensor(t) for t in tensors]
    return concatenate([t.reshape(t.shape[:axis % (t.ndim + 1)] + (1,) + t.shape[axis % (t.ndim + 1):]) for t in ts],
                       axis=axis)


_ARRAY_FUNCTIONS: dict[Any, Callable] = {
    np.sum: lambda a, axis=None, keepdims=False, **k: as_tensor(a).sum(axis=axis, keepdims=keepdims),
    np.mean: lambda a, axis=None, keepdims=False, **k: as_tensor(a).mean(axis=axis, keepdims=keepdims),
    np.max: lambda a, axis=None, keepdims=False, **k: as_tensor(a).max(axis=axis, keepdims=keepdims),
    np.reshape: lambda a, shape, **k: as_tensor(a).reshape(shape),
    np.transpose: lambda a, axes=None: as_tensor(a).transpose(*(axes or ())),
    np.concatenate: lambda ts, axis=0, **k: concatenate(ts, axis=axis),
    np.stack: lambda ts, axis=0, **k: stack(ts, axis=axis),
    np.where: where,
    np.dot: lambda a, b, **k: as_tensor(a) @ b,
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
}
