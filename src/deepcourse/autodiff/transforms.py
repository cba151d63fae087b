"""Function transforms on top of the reverse-mode ``Tensor``: grad, vjp, jacrev, hvp, hessian.

Names follow JAX / ``torch.func``.  A reverse sweep costs a small constant
times one evaluation of ``f`` whatever the number of inputs (the "cheap
gradient principle", Griewank & Walther 2008, sec. 4.6); a full Jacobian of
``f: R^n -> R^m`` therefore costs ``m`` sweeps here versus ``n`` for ``jacfwd``.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .dual import Dual, _as_float
from .tensor import Tensor

__all__ = ["grad", "value_and_grad", "vjp", "jacrev", "hvp", "hessian"]


def _argnums(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(f"argnums={argnums!r} is out of range for a function called with {nargs} arguments")
    return tuple(a % nargs for a in nums)


def _scalar_out(out: Any, where: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{where}: the function returned {type(out).__name__}, expected a Tensor computed from its inputs")
    if out.size != 1:
        raise ValueError(f"{where}: the function must return a scalar, got shape {out.shape}; use vjp or jacrev "
                         "for non-scalar outputs")
    return out


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """``(f(*args), df/d args[argnums])`` for a scalar-valued ``f`` (one reverse sweep)."""
    def wrapped(*args: Any) -> tuple[Any, Any]:
        nums = _argnums(argnums, len(args))
        targs = list(args)
        for a in nums:
            targs[a] = Tensor(_as_float(args[a]), requires_grad=True)
        out = _scalar_out(f(*targs), "grad")
        if out.requires_grad:
            out.backward()
        grads = tuple(np.zeros_like(targs[a].data) if targs[a].grad is None else targs[a].grad for a in nums)
        value = out.data.reshape(()) if not isinstance(out.data, Dual) else out.data
        return value, grads[0] if isinstance(argnums, int) else grads
    return wrapped


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """Gradient of a scalar-valued ``f`` with respect to ``args[argnums]``."""
    vg = value_and_grad(f, argnums)
    return lambda *args: vg(*args)[1]


def vjp(f: Callable, *primals: Any) -> tuple[np.ndarray, Callable]:
    """Run ``f`` once and return ``(f(*primals), vjp_fn)``; ``vjp_fn(u)`` gives ``u^T J`` per input.

    The graph is recorded once and swept once per call of ``vjp_fn``.
    """
    ts = [Tensor(_as_float(p), requires_grad=True) for p in primals]
    out = f(*ts)
    if not isinstance(out, Tensor):
        raise TypeError(f"vjp: the function returned {type(out).__name__}, expected a Tensor")
    topo = out._topo() if out.requires_grad else []

    def vjp_fn(cotangent: Any) -> tuple[np.ndarray, ...]:
        for t in ts:
            t.grad = None
        if out.requires_grad:
            out.backward(cotangent, _topo=topo)
        return tuple(np.zeros_like(t.data) if t.grad is None else t.grad for t in ts)
    return out.data, vjp_fn


def jacrev(f: Callable) -> Callable:
    """Jacobian by reverse mode: one backward sweep per output coordinate.

    Returns an array of shape ``out_shape + in_shape``.
    """
    def jac(x: Any) -> np.ndarray:
        y, pullback = vjp(f, x)
        m = y.size
        seed = np.zeros(m, dtype=y.dtype)
        rows = []
        for i in range(m):
            seed[i] = 1.0
            rows.append(pullback(seed.reshape(y.shape))[0].reshape(-1))
            seed[i] = 0.0
        x_shape = np.shape(x)
        if not rows:
            return np.zeros(y.shape + x_shape, dtype=np.result_type(y))
        return np.stack(rows).reshape(y.shape + x_shape)
    return jac


def hvp(f: Callable, x: Any, v: Any) -> np.ndarray:
    """Hessian-vector product ``H_f(x) v`` by forward-over-reverse (Pearlmutter 1994).

    The input tensor holds the dual number ``x + v eps``; the reverse sweep then
    carries ``grad f(x) + (H v) eps`` and we read off the eps part.  Costs about
    one gradient evaluation, never forming ``H``.
    """
    x, v = _as_float(x), _as_float(v)
    if x.shape != v.shape:
        raise ValueError(f"hvp: v has shape {v.shape}, x has shape {x.shape}; they must match")
    t = Tensor(Dual(x, v), requires_grad=True)
    out = _scalar_out(f(t), "hvp")
    if not out.requires_grad:
        return np.zeros_like(x)
    out.backward()
    g = t.grad
    return g.tangent if isinstance(g, Dual) else np.zeros_like(x)


def hessian(f: Callable) -> Callable:
    """Full Hessian of a scalar ``f`` from ``n`` Hessian-vector products (small inputs only)."""
    def hess(x: Any) -> np.ndarray:
        x = _as_float(x)
        if x.size == 0:
            return np.zeros(x.shape + x.shape, dtype=x.dtype)
        e = np.zeros(x.size, dtype=x.dtype)
        cols = []
        for j in range(x.size):
            e[j] = 1.0
            cols.append(hvp(f, x, e.reshape(x.shape)).reshape(-1))
            e[j] = 0.0
        return np.stack(cols, axis=-1).reshape(x.shape + x.shape)
    return hess
