"""One namespace of primitives that works on ``Tensor``, ``Dual`` and plain arrays.

Write a model once with these (or with NumPy's own ufuncs, which both types
intercept) and run it for values (ndarray), forward mode (Dual) or reverse
mode (Tensor).  Elementwise rules follow the derivative table in the module
10 notes; ``sigmoid'(x) = s(x)(1 - s(x))`` and the softmax Jacobian
``s_i (delta_ik - s_k)`` are those of module 0.1.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import tensor as _t
from .conv import conv2d, max_pool2d
from .dual import Dual
from .tensor import Tensor

__all__ = ["exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "sqrt", "relu", "leaky_relu", "abs", "neg",
           "maximum", "minimum", "where", "sum", "mean", "max", "dot", "matmul", "reshape", "transpose",
           "concatenate", "softmax", "log_softmax", "logsumexp", "conv2d", "max_pool2d"]

exp, log, sin, cos, tan, tanh, sqrt = np.exp, np.log, np.sin, np.cos, np.tan, np.tanh, np.sqrt


def abs(x: Any) -> Any:  # noqa: A001 - mirrors numpy's name on purpose
    return np.absolute(x)


def neg(x: Any) -> Any:
    return -x


def sigmoid(x: Any) -> Any:
    """Logistic function 1 / (1 + e^-x), written as 0.5 (1 + tanh(x/2)) so it never overflows."""
    if isinstance(x, Tensor):
        return x.sigmoid()
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def relu(x: Any) -> Any:
    """max(x, 0); derivative 1 for x > 0 and 0 otherwise (0 at the kink, as torch)."""
    if isinstance(x, Tensor):
        return x.relu()
    return np.where(x > 0, x, 0.0 * x) if isinstance(x, Dual) else np.maximum(x, 0.0)


def leaky_relu(x: Any, slope: float = 0.01) -> Any:
    if isinstance(x, Tensor):
        return x.leaky_relu(slope)
    return np.where(x > 0, x, slope * x)


def _any_tensor(*xs: Any) -> bool:
    return any(isinstance(x, Tensor) for x in xs)


def maximum(a: Any, b: Any) -> Any:
    return _t.maximum(a, b) if _any_tensor(a, b) else np.maximum(a, b)


def minimum(a: Any, b: Any) -> Any:
    return _t.minimum(a, b) if _any_tensor(a, b) else np.minimum(a, b)


def where(cond: Any, a: Any, b: Any) -> Any:
    return _t.where(cond, a, b) if _any_tensor(a, b) else np.where(cond, a, b)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return x.sum(axis=axis, keepdims=keepdims) if isinstance(x, (Tensor, Dual)) else np.sum(x, axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return x.mean(axis=axis, keepdims=keepdims) if isinstance(x, (Tensor, Dual)) else np.mean(x, axis=axis, keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return x.max(axis=axis, keepdims=keepdims) if isinstance(x, (Tensor, Dual)) else np.max(x, axis=axis, keepdims=keepdims)


def matmul(a: Any, b: Any) -> Any:
    return a @ b


dot = matmul


def reshape(x: Any, shape: Any) -> Any:
    return x.reshape(shape)


def transpose(x: Any, axes: Any = None) -> Any:
    return x.transpose(*(axes or ()))


def concatenate(xs: Any, axis: int = 0) -> Any:
    return _t.concatenate(xs, axis) if _any_tensor(*xs) else np.concatenate(list(xs), axis=axis)


def softmax(x: Any, axis: int = -1) -> Any:
    if isinstance(x, Tensor):
        return x.softmax(axis)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: Any, axis: int = -1) -> Any:
    if isinstance(x, Tensor):
        return x.log_softmax(axis)
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def logsumexp(x: Any, axis: int = -1, keepdims: bool = False) -> Any:
    if isinstance(x, Tensor):
        return x.logsumexp(axis, keepdims)
    m = np.max(x, axis=axis, keepdims=True)
    s = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return s if keepdims else np.squeeze(s, axis)
