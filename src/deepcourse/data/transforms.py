"""Data augmentation on batched tensors: no PIL, no per-image Python loop.

* :func:`random_crop`: zero-pad by ``p`` pixels and take a random crop of the original size, i.e. shift each
  image by an independent integer offset in ``[-p, p]^2`` with zero fill. With ``p = 4`` on 32x32 images
  this is the CIFAR recipe of He et al. (2016a, sec. 4.2, after Lee et al. 2015).
* :func:`random_hflip`: mirror each image left-right with probability ``p``.
* :func:`cifar_augment`: the two together (crop, then flip).
* :func:`gaussian_noise`: add ``N(0, std^2)`` noise to every entry.
* :func:`shift_and_noise`: the random transformation ``T(x)`` of self-augmentation (Hu et al. 2017) on
  flattened images: a random shift, then Gaussian noise.

Randomness comes from ``generator`` when one is given (drawn on the generator's device, then moved to the
batch's), else from torch's global generator on the batch's device, so a resumed run (which restores every
RNG state) sees the same crops.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["random_crop", "random_hflip", "cifar_augment", "gaussian_noise", "shift_and_noise"]


def _check(x: Tensor) -> None:
    if not isinstance(x, Tensor) or x.dim() != 4:
        raise ValueError(f"expected a batch of images (B, C, H, W), got {getattr(x, 'shape', type(x))}")


def _draw_device(x: Tensor, generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else x.device


def random_crop(x: Tensor, padding: int = 4, generator: torch.Generator | None = None) -> Tensor:
    """Zero-pad by ``padding`` and crop back to ``(H, W)`` at an independent random offset per image."""
    _check(x)
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}")
    if padding == 0:
        return x
    b, c, h, w = x.shape
    dev = _draw_device(x, generator)
    dy = torch.randint(0, 2 * padding + 1, (b,), device=dev, generator=generator).to(x.device)  # (B,)
    dx = torch.randint(0, 2 * padding + 1, (b,), device=dev, generator=generator).to(x.device)  # (B,)
    xp = F.pad(x, (padding, padding, padding, padding))  # (B, C, H + 2p, W + 2p)
    rows = dy[:, None] + torch.arange(h, device=x.device)  # (B, H)
    cols = dx[:, None] + torch.arange(w, device=x.device)  # (B, W)
    xp = xp.gather(2, rows[:, None, :, None].expand(b, c, h, w + 2 * padding))  # (B, C, H, W + 2p)
    return xp.gather(3, cols[:, None, None, :].expand(b, c, h, w))  # (B, C, H, W)


def random_hflip(x: Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> Tensor:
    """Mirror each image left-right with probability ``p``."""
    _check(x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    flip = torch.rand(x.shape[0], device=_draw_device(x, generator), generator=generator).to(x.device) < p  # (B,)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def cifar_augment(x: Tensor, padding: int = 4, flip: bool = True, generator: torch.Generator | None = None) -> Tensor:
    """Random crop with ``padding`` then (optionally) a random horizontal flip."""
    x = random_crop(x, padding, generator)
    return random_hflip(x, generator=generator) if flip else x


def gaussian_noise(x: Tensor, std: float, generator: torch.Generator | None = None) -> Tensor:
    """``x + std * eps`` with ``eps ~ N(0, I)`` of ``x``'s shape (``std = 0`` returns ``x``)."""
    if not std >= 0:
        raise ValueError(f"std must be >= 0, got {std!r}")
    if std == 0:
        return x
    eps = torch.randn(x.shape, device=_draw_device(x, generator), generator=generator)
    return x + std * eps.to(x)


def shift_and_noise(x: Tensor, shape: tuple[int, int], max_shift: int = 2, noise: float = 0.05,
                    generator: torch.Generator | None = None) -> Tensor:
    """Self-augmentation's ``T(x)`` (Hu et al. 2017): each flattened image shifted by up to ``max_shift``
    pixels (an independent integer shift per image, zero fill), plus Gaussian noise of std ``noise``.

    ``x``: (N, H*W) flattened single-channel images; ``shape``: (H, W). Returns (N, H*W).
    """
    h, w = shape
    if x.ndim != 2 or x.shape[1] != h * w:
        raise ValueError(f"x must be (N, H*W) = (N, {h * w}) for shape {shape}, got {tuple(x.shape)}")
    img = random_crop(x.view(-1, 1, h, w), max_shift, generator)  # (N, 1, H, W)
    return gaussian_noise(img, noise, generator).reshape(len(x), h * w)  # (N, H*W)
