"""Seeding, determinism and device selection."""

from __future__ import annotations

import contextlib
import os
import random
from typing import Iterator

import numpy as np
import torch

__all__ = ["seed_everything", "deterministic", "resolve_device", "rng_state", "set_rng_state", "num_threads"]


@contextlib.contextmanager
def num_threads(n: int | None) -> Iterator[None]:
    """Run a block with ``n`` torch intra-op threads, then restore the count (``0``/``None`` keep it).

    Tiny models (a few thousand weights, 8x8 images) run faster on one thread: splitting each
    small kernel over threads costs more in synchronisation than it saves, and on a busy
    2-core machine spinning threads made small training loops 8-50x slower (measured).
    """
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        with _blas_threads(n):  # NumPy's BLAS too: the NumPy-only experiments (autodiff) use it
            yield
    finally:
        torch.set_num_threads(before)


def _blas_threads(n: int | None):
    """Limit the BLAS pools NumPy and SciPy use (OpenBLAS, MKL) to ``n`` threads inside the block."""
    if not n:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def deterministic(enabled: bool = True) -> None:
    """Ask torch for deterministic kernels (bit-exact reruns on the same hardware).

    On CUDA this needs ``CUBLAS_WORKSPACE_CONFIG``; it is set here when missing.
    """
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(enabled, warn_only=True)
    torch.backends.cudnn.benchmark = not enabled
    torch.backends.cudnn.deterministic = enabled


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``cpu|cuda|cuda:N|mps|auto``; a clear error when the device is not available."""
    if isinstance(device, torch.device):
        return device
    name = str(device).lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} was asked for but CUDA is not available; use --device cpu or auto")
        return torch.device(name)
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise ValueError("device 'mps' was asked for but MPS is not available; use --device cpu or auto")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise ValueError(f"device must be one of cpu, cuda, cuda:N, mps, auto (got {device!r})")


def rng_state() -> dict:
    """Every global RNG state, in a form ``torch.load(weights_only=True)`` accepts."""
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {"key": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached": float(np_state[4])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
