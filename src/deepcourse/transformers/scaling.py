"""Measuring how attention scales with the sequence length n: time, memory kept for the backward pass,
and the fitted exponent ``b`` of ``cost ~ a n^b`` (least squares on log-log points).

Time is the CPU time of this process (``time.process_time``), not the wall time: on a machine shared with
other jobs the wall time of one call also counts whoever else ran meanwhile; with one intra-op thread the
CPU time is the work the call itself did.

Memory on a CPU has no allocator counter as CUDA does, so we count the bytes of the tensors autograd saves for
the backward pass (``torch.autograd.graph.saved_tensors_hooks``), plus the output: the activation memory that
grows with n. Exact attention saves the ``n x n`` weights (``O(n^2)``); Nystrom attention saves ``n x m``
and ``m x m`` matrices (``O(n m)``); torch's fused SDPA on a CPU (a flash-attention kernel) saves ``O(n)``.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch
from torch import Tensor

__all__ = ["saved_bytes", "time_fwd_bwd", "fit_exponent"]


def saved_bytes(fn: Callable[..., Tensor], *inputs: Tensor) -> int:
    """Bytes of the tensors saved for backward by ``fn(*inputs)`` plus its output (distinct storages)."""
    seen: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        try:
            key = t.untyped_storage().data_ptr()
            seen[key] = max(seen.get(key, 0), t.untyped_storage().nbytes())
        except RuntimeError:  # tensors without storage (e.g. some views of wrapper subclasses)
            seen[id(t)] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(*inputs)
    keyed = {k for k in seen}
    out_key = out.untyped_storage().data_ptr()
    return sum(seen.values()) + (0 if out_key in keyed else out.numel() * out.element_size())


def time_fwd_bwd(fn: Callable[..., Tensor], *inputs: Tensor, repeats: int = 3, backward: bool = True) -> float:
    """Best-of-``repeats`` CPU seconds of one forward (+ backward of ``out.sum()``), after one warm-up call."""
    best = float("inf")
    for i in range(repeats + 1):
        for x in inputs:
            x.grad = None
        t0 = time.process_time()
        out = fn(*inputs)
        if backward:
            out.sum().backward()
        dt = time.process_time() - t0
        if i:
            best = min(best, dt)
    return best


def fit_exponent(ns, ys) -> float:
    """Slope of ``log y`` against ``log n`` (least squares): ``y ~ n^slope``."""
    ns, ys = np.asarray(ns, dtype=float), np.asarray(ys, dtype=float)
    ok = np.isfinite(ys) & (ys > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(ns[ok]), np.log(ys[ok]), 1)[0])
