"""Standard CIFAR data augmentation on batched tensors (no PIL, no per-item Python loop).

The recipe of He et al. (2016a, sec. 4.2, after Lee et al. 2015): pad each image by 4 pixels on every
side, take a random 32x32 crop, and flip it horizontally with probability 1/2. Done on a whole batch
with ``gather``, on whatever device the batch lives, drawing from torch's global generator, so a resumed
run (which restores every RNG state) sees the same crops.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["random_crop", "random_hflip", "cifar_augment"]


def _check(x: Tensor) -> None:
    if not isinstance(x, Tensor) or x.dim() != 4:
        raise ValueError(f"expected a batch of images (B, C, H, W), got {getattr(x, 'shape', type(x))}")


def random_crop(x: Tensor, padding: int = 4, generator: torch.Generator | None = None) -> Tensor:
    """Zero-pad by ``padding`` and crop back to ``(H, W)`` at an independent random offset per image."""
    _check(x)
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}")
    if padding == 0:
        return x
    b, c, h, w = x.shape
    xp = F.pad(x, (padding, padding, padding, padding))  # (B, C, H + 2p, W + 2p)
    dy = torch.randint(0, 2 * padding + 1, (b,), device=x.device, generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (b,), device=x.device, generator=generator)
    rows = dy[:, None] + torch.arange(h, device=x.device)  # (B, H)
    cols = dx[:, None] + torch.arange(w, device=x.device)  # (B, W)
    xp = xp.gather(2, rows[:, None, :, None].expand(b, c, h, w + 2 * padding))  # (B, C, H, W + 2p)
    return xp.gather(3, cols[:, None, None, :].expand(b, c, h, w))  # (B, C, H, W)


def random_hflip(x: Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> Tensor:
    """Mirror each image left-right with probability ``p``."""
    _check(x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    flip = torch.rand(x.shape[0], device=x.device, generator=generator) < p  # (B,)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def cifar_augment(x: Tensor, padding: int = 4, flip: bool = True, generator: torch.Generator | None = None) -> Tensor:
    """Random crop with ``padding`` then (optionally) a random horizontal flip."""
    x = random_crop(x, padding, generator)
    return random_hflip(x, generator=generator) if flip else x
