"""Reverse-mode automatic differentiation on a dynamically recorded graph.

Each ``Tensor`` produced by an operation remembers its parents and a closure
that maps the output's adjoint ``g = dL/dy`` to the parents' adjoints
(the vector-Jacobian products ``g^T dy/dx_i``).  ``backward`` visits the graph
in reverse topological order and sums the adjoints that reach each node --
the adjoint accumulation of Griewank & Walther (2008, "Evaluating
Derivatives", sec. 3.2), and the generalised delta rule of Rumelhart, Hinton
& Williams (1986).

Backward closures use only NumPy functions that ``Dual`` also implements, so
a tensor holding dual numbers differentiates forward-over-reverse (see
``transforms.hvp``).  Python scalars stay Python scalars, so float32 graphs
stay float32 (NumPy 2 would promote them against a float64 0-d array).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .dual import Dual, primal

__all__ = ["Tensor", "no_grad", "is_grad_enabled", "as_tensor", "concatenate", "stack", "where",
           "maximum", "minimum"]

_GRAD_ENABLED = [True]


def is_grad_enabled() -> bool:
    return _GRAD_ENABLED[0]


class no_grad:
    """Context manager (and decorator) that stops graph recording, e.g. for evaluation."""

    def __enter__(self) -> None:
        self._prev = _GRAD_ENABLED[0]
        _GRAD_ENABLED[0] = False

    def __exit__(self, *exc: Any) -> None:
        _GRAD_ENABLED[0] = self._prev

    def __call__(self, fn: Callable) -> Callable:
        def wrapped(*a, **k):
            with no_grad():
                return fn(*a, **k)
        wrapped.__name__ = getattr(fn, "__name__", "wrapped")
        return wrapped


def _array(x: Any) -> Any:
    if isinstance(x, (np.ndarray, Dual)):
        if isinstance(x, np.ndarray) and not np.issubdtype(x.dtype, np.floating):
            return x.astype(np.float64)
        return x
    a = np.asarray(x)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def _make(data: Any, parents: tuple, backward: Callable) -> Tensor:
    t = Tensor.__new__(Tensor)
    t.data = data
    t.grad = None
    if _GRAD_ENABLED[0] and any(p.requires_grad for p in parents):
        t.requires_grad, t._parents, t._backward = True, parents, backward
    else:
        t.requires_grad, t._parents, t._backward = False, (), None
    return t


def _unbroadcast(g: Any, shape: tuple) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched, back to ``shape``."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if g.shape != shape else g


def as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class Tensor:
    """An array node in a reverse-mode graph (``requires_grad=True`` for leaves to train)."""

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "__weakref__")
    __array_priority__ = 3000

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self.data = _array(data.data if isinstance(data, Tensor) else data)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple = ()
        self._backward: Callable | None = None

    # ---- basic attributes -------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)
    T = property(lambda self: self.transpose())

    def __len__(self) -> int:
        return self.data.shape[0]

    def __repr__(self) -> str:
        return f"Tensor({self.data!r}, requires_grad={self.requires_grad})"

    def numpy(self) -> np.ndarray:
        return np.asarray(primal(self.data))

    def item(self) -> float:
        if self.size != 1:
            raise ValueError(f"item: only a one-element tensor converts to a Python number; this one has shape "
                             f"{self.shape}")
        return float(np.asarray(primal(self.data)).reshape(-1)[0])

    def detach(self) -> Tensor:
        return Tensor(self.data)

    def zero_grad(self) -> None:
        self.grad = None

    # ---- backward -----------------------------------------------------------
    def _topo(self) -> list[Tensor]:
        """Nodes that need gradients, parents before children (iterative DFS)."""
        order: list[Tensor] = []
        seen: set[int] = set()
        stack = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for p in node._parents:
                if p.requires_grad and id(p) not in seen:
                    stack.append((p, False))
        return order

    def backward(self, seed: Any = None, _topo: list | None = None) -> None:
        """Accumulate ``d(self)/d(leaf)`` (or ``seed^T d(self)/d(leaf)``) into each leaf's ``.grad``.

        A non-scalar output needs ``seed`` (the cotangent of the vector-Jacobian
        product); gradients add up across calls until ``zero_grad``.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not depend on any tensor with requires_grad=True")
        if seed is None:
            if self.size != 1:
                raise ValueError(f"backward: output has shape {self.shape}; differentiating a non-scalar "
                                 "needs seed=<array of that shape> (the vector in the vector-Jacobian product)")
            seed = np.ones(self.shape, dtype=primal(self.data).dtype)
        else:
            seed = _array(seed.data if isinstance(seed, Tensor) else seed)
            if seed.shape != self.shape:
                raise ValueError(f"backward: seed has shape {seed.shape}, output has shape {self.shape}")
        order = self._topo() if _topo is None else _topo
        grads: dict[int, Any] = {id(self): seed}
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._backward is None:  # a leaf: accumulate into .grad
                if node.grad is None:
                    node.grad = g.copy() if isinstance(g, np.ndarray) and not g.flags.owndata else g
                else:
                    node.grad = node.grad + g
                continue
            for p, pg in zip(node._parents, node._backward(g)):
                if pg is not None and p.requires_grad:
                    k = id(p)
                    grads[k] = pg if k not in grads else grads[k] + pg

    # ---- NumPy dispatch: np.exp(t), ndarray * t, np.sum(t) ... ---------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            return NotImplemented
        if ufunc in _UFUNC_COMPARE:
            return ufunc(*[primal(i.data) if isinstance(i, Tensor) else i for i in inputs])
        name = _UFUNC_METHODS.get(ufunc)
        if name is None:
            raise TypeError(f"Tensor: np.{ufunc.__name__} is not differentiable here; "
                            f"supported: {sorted(u.__name__ for u in _UFUNC_METHODS)}")
        first, rest = as_tensor(inputs[0]), inputs[1:]
        return getattr(first, name)(*rest)

    def __array_function__(self, func, types, args, kwargs):
        fn = _ARRAY_FUNCTIONS.get(func)
        if fn is None:
            raise TypeError(f"Tensor: np.{func.__name__} is not supported on tensors")
        return fn(*args, **kwargs)

    # ---- elementwise binary ----------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            a_shape, b_shape = self.shape, other.shape
            return _make(self.data + other.data, (self, other),
                         lambda g: (_unbroadcast(g, a_shape), _unbroadcast(g, b_shape)))
        shape = self.shape
        return _make(self.data + _const(other), (self,), lambda g: (_unbroadcast(g, shape),))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Tensor:
        return self + (-other if isinstance(other, Tensor) else -_const(other))

    def __rsub__(self, other: Any) -> Tensor:
        return (-self) + other

    def __mul__(self, other: Any) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            return _make(a * b, (self, other), lambda g: (
                _unbroadcast(g * b, a.shape) if self.requires_grad else None,
                _unbroadcast(g * a, b.shape) if other.requires_grad else None))
        c = _const(other)
        return _make(a * c, (self,), lambda g: (_unbroadcast(g * c, a.shape),))

    __rmul__ = __mul__

    # constants stay Python scalars here (no as_tensor): a float64 0-d array would promote float32 to float64
    def __truediv__(self, other: Any) -> Tensor:
        return divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, as_tensor(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(as_tensor(other), self)

    dot = __matmul__

    def __neg__(self) -> Tensor:
        return _make(-self.data, (self,), lambda g: (-g,))

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        x = self.data
        return _make(np.abs(x), (self,), lambda g: (g * np.sign(primal(x)),))

    abs = __abs__

    def __gt__(self, o): return primal(self.data) > primal(_const(o.data if isinstance(o, Tensor) else o))
    def __ge__(self, o): return primal(self.data) >= primal(_const(o.data if isinstance(o, Tensor) else o))
    def __lt__(self, o): return primal(self.data) < primal(_const(o.data if isinstance(o, Tensor) else o))
    def __le__(self, o): return primal(self.data) <= primal(_const(o.data if isinstance(o, Tensor) else o))

    # ---- elementwise unary -----------------------------------------------------
    def exp(self) -> Tensor:
        y = np.exp(self.data)
        return _make(y, (self,), lambda g: (g * y,))

    def log(self) -> Tensor:
        x = self.data
        return _make(np.log(x), (self,), lambda g: (g / x,))

    def sin(self) -> Tensor:
        x = self.data
        return _make(np.sin(x), (self,), lambda g: (g * np.cos(x),))

    def cos(self) -> Tensor:
        x = self.data
        return _make(np.cos(x), (self,), lambda g: (-g * np.sin(x),))

    def tan(self) -> Tensor:
        y = np.tan(self.data)
        return _make(y, (self,), lambda g: (g * (1.0 + y * y),))

    def tanh(self) -> Tensor:
        y = np.tanh(self.data)
        return _make(y, (self,), lambda g: (g * (1.0 - y * y),))

    def sigmoid(self) -> Tensor:
        # 0.5 (1 + tanh(x/2)) equals 1 / (1 + e^-x) and never overflows
        y = 0.5 * (1.0 + np.tanh(0.5 * self.data))
        return _make(y, (self,), lambda g: (g * (y * (1.0 - y)),))

    def sqrt(self) -> Tensor:
        y = np.sqrt(self.data)
        return _make(y, (self,), lambda g: (g / (2.0 * y),))

    def relu(self) -> Tensor:
        x = self.data
        return _make(np.maximum(x, 0.0), (self,), lambda g: (g * (primal(x) > 0),))

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        x = self.data
        mask = primal(x) > 0
        return _make(np.where(mask, x, slope * x), (self,), lambda g: (np.where(mask, g, slope * g),))

    def square(self) -> Tensor:
        return self * self

    def maximum(self, other: Any) -> Tensor:
        return maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return minimum(self, other)

    # ---- reductions --------------------------------------------------------------
    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        shape = self.shape
        kept = _kept_shape(shape, axis)
        return _make(self.data.sum(axis=axis, keepdims=keepdims), (self,),
                     lambda g: (np.broadcast_to(g.reshape(kept), shape),))

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Average over ``axis``; an average of no elements is nan, as in NumPy and torch."""
        n = int(np.prod([self.shape[a] for a in _axes(self.ndim, axis)]))  # elements per average
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / n if n else float("nan"))

    def max(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Max along ``axis``; the gradient goes to the first arg-max, as ``torch.max(dim)`` does."""
        return amax(self, axis, keepdims)

    def logsumexp(self, axis: int | Sequence[int] | None = -1, keepdims: bool = False) -> Tensor:
        """``log sum exp`` over ``axis`` (``None``: every element), shifted by the max so it never overflows."""
        return logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return log_softmax(self, axis)

    # ---- shape ---------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        old = self.shape
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _make(self.data.reshape(shape), (self,), lambda g: (g.reshape(old),))

    def transpose(self, *axes: Any) -> Tensor:
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = tuple(axes) if axes else tuple(reversed(range(self.ndim)))
        y = self.data.transpose(axes)  # NumPy validates the axes (range, repeats)
        inv = tuple(int(i) for i in np.argsort([a % self.ndim for a in axes]))  # normalise -1 first
        return _make(y, (self,), lambda g: (g.transpose(inv),))

    def __getitem__(self, idx: Any) -> Tensor:
        return index(self, idx)


def _const(x: Any) -> Any:
    if isinstance(x, (int, float)):
        return float(x)
    return _array(x)


def _axes(ndim: int, axis: Any) -> set[int]:
    """The reduced axes, normalised to 0..ndim-1 (``None``: all of them)."""
    if axis is None:
        return set(range(ndim))
    return {a % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}


def _kept_shape(shape: tuple, axis: Any) -> tuple:
    axes = _axes(len(shape), axis)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _drop_axes(shape: tuple, axis: Any) -> tuple:
    axes = _axes(len(shape), axis)
    return tuple(s for i, s in enumerate(shape) if i not in axes)


_UFUNC_METHODS = {
    np.add: "__add__", np.subtract: "__sub__", np.multiply: "__mul__", np.true_divide: "__truediv__",
    np.power: "__pow__", np.matmul: "__matmul__", np.negative: "__neg__", np.positive: "__pos__",
    np.absolute: "__abs__", np.exp: "exp", np.log: "log", np.sin: "sin", np.cos: "cos", np.tan: "tan",
    np.tanh: "tanh", np.sqrt: "sqrt", np.square: "square", np.maximum: "maximum", np.minimum: "minimum",
}
_UFUNC_COMPARE = {np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal}
_ARRAY_FUNCTIONS: dict = {}  # filled by tensor_ops (np.sum, np.where, ... on tensors)

# the module-level ops need Tensor defined first, hence the import at the bottom
from .tensor_ops import (_ARRAY_FUNCTIONS as _AF, amax, concatenate, divide, index, log_softmax,  # noqa: E402
                         logsumexp, matmul, maximum, minimum, power, softmax, stack, where)

_ARRAY_FUNCTIONS.update(_AF)
