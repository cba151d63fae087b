"""Deterministic index splits."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["train_val_split", "random_partition"]


def random_partition(n: int, fracs: tuple[float, ...], seed: int = 0) -> list[torch.Tensor]:
    """Seeded random partition of ``range(n)``: one index tensor per fraction in ``fracs``
    (``round(f * n)`` items each), plus a last part holding the remainder."""
    if sum(fracs) > 1.0 + 1e-9 or any(f < 0 for f in fracs):
        raise ValueError(f"fracs must be >= 0 and sum to at most 1, got {fracs!r}")
    import torch  # lazy: keeps `import deepcourse.data` cheap

    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed)))
    parts, start = [], 0
    for f in fracs:
        k = int(round(f * n))
        parts.append(perm[start:start + k])
        start += k
    parts.append(perm[start:])
    return parts


def train_val_split(n: int, val_frac: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``range(n)`` into disjoint ``(train_idx, val_idx)`` int64 tensors, each sorted ascending.

    The same ``(n, val_frac, seed)`` always gives the same split (a seeded ``torch.randperm`` on CPU,
    independent of the global RNG). ``len(val_idx) = round(n * val_frac)``, clipped so that both parts
    have at least one element. Use it to pick models on validation data and keep the test split for the
    final number only.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    if not isinstance(val_frac, (int, float)) or not 0.0 < val_frac < 1.0:
        raise ValueError(f"val_frac must be a float in (0, 1), got {val_frac!r}")
    import torch  # lazy: keeps `import deepcourse.data` cheap

    n_val = min(max(int(round(n * val_frac)), 1), n - 1)
    g = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(n, generator=g)
    val_idx, _ = torch.sort(perm[:n_val])
    train_idx, _ = torch.sort(perm[n_val:])
    return train_idx, val_idx
