"""Augmentations and normalisation of ``(B, N, D)`` clouds. Every random op takes a ``torch.Generator`` (or
uses the global one) and acts per cloud. PointNet trains with rotation about the vertical axis and Gaussian
jitter (sigma 0.01, clipped at 0.05); PointNet++ adds scaling and point dropout."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .ops import check_cloud

__all__ = ["normalize_unit_sphere", "rotation_matrix_z", "random_rotation", "rotate", "jitter", "random_scale",
           "point_dropout"]


def normalize_unit_sphere(x: Tensor) -> Tensor:
    """Centre each cloud at its centroid and scale it so its farthest point is at distance 1."""
    check_cloud(x)
    x = x - x.mean(1, keepdim=True)
    return x / x.norm(dim=-1).amax(1).clamp_min(1e-12).view(-1, 1, 1)


def rotation_matrix_z(angle: Tensor) -> Tensor:
    """``(B, 3, 3)`` rotations by ``angle: (B,)`` about the vertical (z) axis, acting on row vectors."""
    c, s = torch.cos(angle), torch.sin(angle)
    z, o = torch.zeros_like(c), torch.ones_like(c)
    return torch.stack([c, s, z, -s, c, z, z, z, o], -1).view(-1, 3, 3)


def random_rotation(b: int, vertical_only: bool = True, generator: torch.Generator | None = None) -> Tensor:
    """``(B, 3, 3)`` random rotations: about z with a uniform angle, or uniform over SO(3) (QR of a Gaussian
    matrix with the sign fixed so the determinant is +1)."""
    if vertical_only:
        return rotation_matrix_z(torch.rand(b, generator=generator) * 2 * math.pi)
    q, r = torch.linalg.qr(torch.randn(b, 3, 3, generator=generator))
    q = q * torch.sign(torch.diagonal(r, dim1=1, dim2=2)).unsqueeze(1)
    det = torch.linalg.det(q)
    q[:, :, 0] *= det.sign().unsqueeze(-1)
    return q


def rotate(x: Tensor, vertical_only: bool = True, generator: torch.Generator | None = None) -> Tensor:
    """Rotate every cloud of ``(B, N, 3)`` by its own random rotation."""
    check_cloud(x, dims=3)
    return x @ random_rotation(x.shape[0], vertical_only, generator).to(x)


def jitter(x: Tensor, sigma: float = 0.01, clip: float = 0.05, generator: torch.Generator | None = None) -> Tensor:
    """Add Gaussian noise N(0, sigma^2) to every coordinate, clipped to [-clip, clip] (PointNet's jitter)."""
    check_cloud(x)
    noise = torch.randn(x.shape, generator=generator).to(x) * sigma
    return x + (noise.clamp(-clip, clip) if clip > 0 else noise)


def random_scale(x: Tensor, low: float = 0.8, high: float = 1.25, generator: torch.Generator | None = None) -> Tensor:
    """Scale each cloud by a factor drawn uniformly from [low, high]."""
    check_cloud(x)
    s = low + (high - low) * torch.rand(x.shape[0], 1, 1, generator=generator)
    return x * s.to(x)


def point_dropout(x: Tensor, max_ratio: float = 0.875, generator: torch.Generator | None = None) -> Tensor:
    """PointNet++'s random input dropout: each cloud drops a random share (up to ``max_ratio``) of its points;
    a dropped point is replaced by the cloud's first point, so shapes stay ``(B, N, D)`` and a max-pool
    is unaffected by the duplicates."""
    check_cloud(x)
    ratio = torch.rand(x.shape[0], 1, generator=generator) * max_ratio
    drop = (torch.rand(x.shape[:2], generator=generator) < ratio).to(x.device)
    return torch.where(drop.unsqueeze(-1), x[:, :1].expand_as(x), x)
