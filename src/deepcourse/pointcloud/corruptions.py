"""Test-time corruptions of PointNet's robustness study (Sec. 5.2, Fig. 6): deleting points, inserting outliers
and perturbing every point with Gaussian noise. Each takes ``(B, N, 3)`` clouds and a generator."""

from __future__ import annotations

import torch
from torch import Tensor

from .ops import check_cloud, index_points

__all__ = ["CORRUPTIONS", "delete_points", "insert_outliers", "perturb", "corrupt"]

CORRUPTIONS = ("delete", "outliers", "perturb")


def delete_points(x: Tensor, fraction: float, generator: torch.Generator | None = None) -> Tensor:
    """Keep a random ``1 - fraction`` of each cloud's points (at least one): ``(B, N', 3)``."""
    check_cloud(x)
    keep = max(1, int(round((1 - fraction) * x.shape[1])))
    idx = torch.rand(x.shape[:2], generator=generator).argsort(1)[:, :keep]
    return index_points(x, idx.to(x.device))


def insert_outliers(x: Tensor, fraction: float, generator: torch.Generator | None = None) -> Tensor:
    """Replace ``fraction`` of each cloud's points by points uniform in the cube [-1, 1]^3 (the paper inserts
    outliers uniformly in the unit sphere's bounding space)."""
    check_cloud(x)
    n_out = int(round(fraction * x.shape[1]))
    if n_out == 0:
        return x
    kept = delete_points(x, fraction, generator) if n_out < x.shape[1] else x[:, :0]
    noise = torch.rand(x.shape[0], n_out, x.shape[2], generator=generator).to(x) * 2 - 1
    return torch.cat([kept, noise], 1)


def perturb(x: Tensor, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """Add independent Gaussian noise of standard deviation ``sigma`` to every coordinate."""
    check_cloud(x)
    return x + sigma * torch.randn(x.shape, generator=generator).to(x)


def corrupt(x: Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> Tensor:
    """Dispatch on ``kind`` in :data:`CORRUPTIONS`."""
    if kind == "delete":
        return delete_points(x, level, generator)
    if kind == "outliers":
        return insert_outliers(x, level, generator)
    if kind == "perturb":
        return perturb(x, level, generator)
    raise ValueError(f"corruption must be one of {CORRUPTIONS}; got {kind!r}")
