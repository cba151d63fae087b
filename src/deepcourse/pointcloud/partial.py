"""Partial views for completion (as PoinTr's ShapeNet-55/34 protocol): pick a random viewpoint on a sphere
around the object, keep the share of points nearest to it (a crop of what faces the camera) and resample the
kept points to a fixed count by farthest point sampling. The complete object is the ground truth."""

from __future__ import annotations

import torch
from torch import Tensor

from .ops import check_cloud, farthest_point_sample, index_points
from .shapes import CLASSES, make_shapes

__all__ = ["partial_view", "completion_set"]


def partial_view(x: Tensor, n_out: int, keep: tuple[float, float] = (0.25, 0.75), radius: float = 2.0,
                 generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """``x: (B, N, 3)`` complete clouds -> ``(partial (B, n_out, 3), viewpoints (B, 3))``. Each cloud keeps a
    share drawn uniformly from ``keep`` of its points, those nearest a viewpoint drawn uniformly on the sphere of
    ``radius``; the kept points are resampled to ``n_out`` by farthest point sampling (with repeats when fewer
    are kept than ``n_out``)."""
    check_cloud(x, "complete cloud", 3)
    b, n, _ = x.shape
    v = torch.randn(b, 3, generator=generator)
    v = radius * v / v.norm(dim=1, keepdim=True)
    share = keep[0] + (keep[1] - keep[0]) * torch.rand(b, generator=generator)
    order = ((x - v.unsqueeze(1)) ** 2).sum(-1).argsort(1)
    out = torch.empty(b, n_out, 3, dtype=x.dtype)
    for i in range(b):
        kept = x[i, order[i, :max(1, int(share[i] * n))]].unsqueeze(0)
        if kept.shape[1] >= n_out:
            out[i] = index_points(kept, farthest_point_sample(kept, n_out))[0]
        else:
            out[i] = kept[0, torch.arange(n_out) % kept.shape[1]]
    return out, v


def completion_set(split: str, per_class: int, n_gt: int, n_in: int, classes: tuple[str, ...] = CLASSES,
                   seed: int = 0) -> dict[str, Tensor]:
    """``{"partial": (M, n_in, 3), "complete": (M, n_gt, 3), "labels": (M,)}`` for the procedural shapes of
    ``classes`` in ``split``; the views are fixed by ``(split, seed)`` (part of the data). The partial view is
    cropped from a second, independent surface sample of the same object (4 ``n_in`` points), as a scan samples
    the surface independently of the reference cloud: a partial point is never exactly a ground-truth point."""
    d = make_shapes(split, per_class, n_gt + 4 * n_in, classes=classes)
    g = torch.Generator().manual_seed(7919 * seed + {"train": 1, "val": 2, "test": 3}[split] * 104729 + n_in)
    partial, _ = partial_view(d["points"][:, n_gt:], n_in, generator=g)
    return {"partial": partial, "complete": d["points"][:, :n_gt].contiguous(), "labels": d["labels"]}
