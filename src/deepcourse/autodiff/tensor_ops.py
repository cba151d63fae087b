"""Multi-input and shape-combining ops of the reverse-mode ``Tensor`` (split from ``tensor.py``).

Same conventions: each op records a closure mapping the output adjoint to its inputs'
adjoints (vector-Jacobian products), written with NumPy calls that ``Dual`` also supports.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .dual import primal
from .tensor import Tensor, _make, _unbroadcast, as_tensor

__all__ = ["matmul", "maximum", "minimum", "where", "concatenate", "stack"]


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


def maximum(a: Any, b: Any, _pick: Callable = np.greater_equal) -> Tensor:
    """Elementwise max; on ties the gradient goes to ``a``."""
    a, b = as_tensor(a), as_tensor(b)
    A, B = a.data, b.data
    take_a = _pick(primal(A), primal(B))
    y = np.where(take_a, A, B)
    return _make(y, (a, b), lambda g: (_unbroadcast(g * take_a, A.shape) if a.requires_grad else None,
                                       _unbroadcast(g * ~take_a, B.shape) if b.requires_grad else None))


def minimum(a: Any, b: Any) -> Tensor:
    return maximum(a, b, _pick=np.less_equal)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    c = primal(cond.data) if isinstance(cond, Tensor) else np.asarray(cond, dtype=bool)
    a, b = as_tensor(a), as_tensor(b)
    A, B = a.data, b.data
    return _make(np.where(c, A, B), (a, b), lambda g: (_unbroadcast(g * c, A.shape) if a.requires_grad else None,
                                                        _unbroadcast(g * ~c, B.shape) if b.requires_grad else None))


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
