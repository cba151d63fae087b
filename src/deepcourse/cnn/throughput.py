"""Measured speed: training and inference throughput (images/s) and a matmul peak, for model-FLOP
utilisation, MFU = (3 x forward FLOPs x images/s) / peak FLOP/s (Chowdhery et al. 2022, appendix B:
the backward pass costs about twice the forward, hence the factor 3)."""

from __future__ import annotations

import copy
import time

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["train_throughput", "inference_throughput", "matmul_peak_flops", "sync"]


def sync(device: torch.device) -> None:
    """Wait for queued GPU work, so that a wall-clock timer measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _check(batch_size: int, steps: int, warmup: int) -> None:
    for name, v, lo in (("batch_size", batch_size, 1), ("steps", steps, 1), ("warmup", warmup, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")


def train_throughput(model: nn.Module, input_shape: tuple[int, ...], num_classes: int, batch_size: int = 128,
                     steps: int = 10, warmup: int = 2, device: torch.device | str = "cpu", channels_last: bool = False,
                     copy_model: bool = True, amp_dtype: torch.dtype | None = None) -> float:
    """Images per second of full SGD steps (forward, cross-entropy, backward, update) on random data.

    ``copy_model``: time a deep copy, so the caller's weights and BN statistics are untouched.
    """
    _check(batch_size, steps, warmup)
    device = torch.device(device)
    m = copy.deepcopy(model) if copy_model else model
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    m = m.to(device, memory_format=fmt).train()
    opt = torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9)
    x = torch.randn(batch_size, *input_shape, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, num_classes, (batch_size,), device=device)

    def one() -> None:
        ctx = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype is not None else torch.autocast(device.type, enabled=False)
        with ctx:
            loss = F.cross_entropy(m(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        one()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        one()
    sync(device)
    return batch_size * steps / (time.perf_counter() - t0)


@torch.no_grad()
def inference_throughput(model: nn.Module, input_shape: tuple[int, ...], batch_size: int = 256, steps: int = 10,
                         warmup: int = 2, device: torch.device | str = "cpu", channels_last: bool = False) -> float:
    """Images per second of ``eval()``-mode forward passes on random data (weights untouched)."""
    _check(batch_size, steps, warmup)
    device = torch.device(device)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    was = model.training
    model.eval()
    x = torch.randn(batch_size, *input_shape, device=device).contiguous(memory_format=fmt)
    try:
        for _ in range(warmup):
            model(x)
        sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            model(x)
        sync(device)
        return batch_size * steps / (time.perf_counter() - t0)
    finally:
        model.train(was)


def matmul_peak_flops(n: int = 2048, repeats: int = 10, device: torch.device | str = "cpu",
                      dtype: torch.dtype = torch.float32) -> float:
    """Best FLOP/s of an ``n x n`` by ``n x n`` matmul (``2 n^3`` FLOPs) over ``repeats`` runs: a
    practical peak of this machine for this dtype (usually within 10-20 % of the datasheet figure)."""
    _check(n, repeats, 0)
    device = torch.device(device)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b  # warm-up: thread pool, allocator
    sync(device)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best
