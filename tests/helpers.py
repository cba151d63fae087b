"""Test helpers shared across topics: check a from-scratch implementation against a reference.

``assert_matches_reference`` runs two callables on the same inputs and compares their values
and their reverse-mode gradients (vector-Jacobian products with one shared random cotangent),
the way micrograd's ``test_engine.py`` and tinygrad's ``helper_test_op`` check every op
against torch. Use it for our autodiff ops (``ours_on="autodiff"``) and for our own LSTM,
attention, GNN and point-cloud code against torch's or a library's version (both on torch).

    from tests.helpers import assert_matches_reference

    assert_matches_reference(lambda x, w: our_lstm(x, w), lambda x, w: torch_lstm(x, w),
                             [x, w], rtol=1e-6, atol=1e-8)

Modules with parameters: pass the parameters as inputs and call the module functionally
(``torch.func.functional_call(module, {"weight": w}, (x,))``), so that their gradients are compared
too; or copy the same weights into both modules and compare input gradients only.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

__all__ = ["assert_matches_reference"]

KINDS = ("torch", "autodiff", "numpy")


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _flatten(out: Any) -> list:
    """Outputs as a flat list: nested tuples / lists (e.g. LSTM's ``out, (h, c)``) are walked, None dropped."""
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _flatten(o)]
    return [] if out is None else [out]


def _is_float(x: np.ndarray) -> bool:
    return np.issubdtype(x.dtype, np.floating)


def _run(fn: Callable, kind: str, xs: list[np.ndarray], diff: set[int]) -> tuple[list, list, Callable]:
    """Call ``fn`` on ``xs`` converted for ``kind``; returns (outputs, leaves, vjp(cotangents) -> grads)."""
    if kind == "torch":
        leaves = [torch.tensor(x, requires_grad=i in diff) if _is_float(x) else torch.as_tensor(x)
                  for i, x in enumerate(xs)]
        outs = _flatten(fn(*leaves))

        def vjp(cots):
            pairs = [(o, torch.as_tensor(c, dtype=o.dtype)) for o, c in zip(outs, cots) if o.requires_grad]
            wrt = [leaves[i] for i in sorted(diff)]
            if not pairs:
                return [np.zeros_like(xs[i]) for i in sorted(diff)]
            gs = torch.autograd.grad([o for o, _ in pairs], wrt, [c for _, c in pairs], allow_unused=True)
            return [np.zeros_like(xs[i]) if g is None else _to_numpy(g) for i, g in zip(sorted(diff), gs)]
        return outs, leaves, vjp
    if kind == "autodiff":
        from deepcourse.autodiff import Tensor

        leaves = [Tensor(x, requires_grad=i in diff) if _is_float(x) else x for i, x in enumerate(xs)]
        outs = _flatten(fn(*leaves))

        def vjp(cots):
            for i in diff:
                leaves[i].grad = None
            for o, c in zip(outs, cots):  # gradients add up over the outputs: one VJP of the tuple
                if isinstance(o, Tensor) and o.requires_grad:
                    o.backward(np.asarray(c, dtype=np.asarray(o.numpy()).dtype))
            return [np.zeros_like(xs[i]) if leaves[i].grad is None else np.asarray(leaves[i].grad)
                    for i in sorted(diff)]
        return outs, leaves, vjp
    if kind == "numpy":
        outs = _flatten(fn(*xs))

        def no_vjp(cots):
            raise ValueError("assert_matches_reference: kind 'numpy' gives values only; pass grad=False")
        return outs, xs, no_vjp
    raise ValueError(f"assert_matches_reference: kind {kind!r}; allowed: {KINDS}")


def _value(o: Any) -> np.ndarray:
    from deepcourse.autodiff import Tensor

    if isinstance(o, Tensor):
        return np.asarray(o.numpy())
    return _to_numpy(o)


def assert_matches_reference(ours: Callable, ref: Callable, inputs: Sequence[Any], grad: bool | Sequence[int] = True,
                             rtol: float = 1e-7, atol: float = 1e-9, *, ours_on: str = "torch",
                             ref_on: str = "torch", seed: int = 0, err_msg: str = "") -> None:
    """Assert that ``ours(*inputs)`` and ``ref(*inputs)`` agree in value and gradient.

    inputs: numpy arrays or torch tensors (converted to numpy first, so both sides see the same
        numbers; use float64 for tight tolerances). Floating inputs are differentiable; integer
        and boolean inputs (labels, masks, edge indices) are passed as constants.
    ours_on / ref_on: what each callable receives and how its gradient is taken:
        "torch": torch tensors (``requires_grad`` on the differentiable ones), ``torch.autograd.grad``;
        "autodiff": ``deepcourse.autodiff.Tensor`` leaves, our reverse mode (``Tensor.backward``);
        "numpy": plain arrays, values only (needs ``grad=False``).
    Outputs: a tensor / array, or a nested tuple or list of them (e.g. ``out, (h, c)``); both sides
        must give the same structure once flattened. Outputs that do not depend on any input (e.g.
        integer indices) are compared by value only.
    grad: True compares the gradient of every floating input, a sequence of indices compares
        those inputs only, False compares values only. The gradient is the vector-Jacobian
        product with one random cotangent per output (normal, ``seed``), the same on both sides.
    rtol, atol: as in ``np.testing.assert_allclose``, for values and gradients alike.
    """
    xs = [_to_numpy(x) for x in inputs]
    if grad is True:
        diff = {i for i, x in enumerate(xs) if _is_float(x)}
    elif grad is False:
        diff = set()
    else:
        diff = {int(i) % len(xs) for i in grad}
        bad = [i for i in diff if not _is_float(xs[i])]
        if bad:
            raise ValueError(f"assert_matches_reference: inputs {bad} are not floating point, so have no gradient")
    out_a, _, vjp_a = _run(ours, ours_on, xs, diff)
    out_b, _, vjp_b = _run(ref, ref_on, xs, diff)
    if len(out_a) != len(out_b):
        raise AssertionError(f"{err_msg}: ours gives {len(out_a)} outputs, the reference {len(out_b)}")
    va, vb = [_value(o) for o in out_a], [_value(o) for o in out_b]
    for k, (a, b) in enumerate(zip(va, vb)):
        assert a.shape == b.shape, f"{err_msg}: output {k} has shape {a.shape}, the reference {b.shape}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{err_msg} (value of output {k})")
    if not diff:
        return
    rng = np.random.default_rng(seed)
    cots = [rng.normal(size=b.shape) if _is_float(b) else np.zeros(b.shape) for b in vb]
    ga, gb = vjp_a(cots), vjp_b(cots)
    for i, a, b in zip(sorted(diff), ga, gb):
        assert a.shape == xs[i].shape, f"{err_msg}: our gradient of input {i} has shape {a.shape}, input {xs[i].shape}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{err_msg} (gradient of input {i})")
