"""PointNet++ (Qi, Yi, Su, Guibas 2017, arXiv:1706.02413): hierarchical set abstraction and feature propagation.

A set-abstraction level picks centres by farthest point sampling, gathers each centre's ball (ball query,
coordinates relative to the centre, concatenated with the points' features) and summarises it with a
mini-PointNet (shared MLP + max-pool). Single-scale grouping (SSG) uses one radius per level; multi-scale
grouping (MSG) concatenates several. Feature propagation interpolates features back to the denser level
(inverse-distance weights of the 3 nearest points) and mixes them with the skip features.

Grouped coordinates are relative to the centre and divided by the radius (as the ``normalize_xyz`` option of
common re-implementations), so every level's mini-PointNet sees inputs of the same scale."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from deepcourse.core import register_model

from .layers import SharedMLP, mlp_head, scaled
from .ops import ball_query, check_cloud, farthest_point_sample, group, index_points, knn

__all__ = ["SetAbstraction", "FeaturePropagation", "PointNet2", "PointNet2Seg", "SSG_LEVELS", "MSG_LEVELS"]

# (centres, [(radius, neighbours, mlp widths), ...]) per level; the paper's ModelNet40 settings.
SSG_LEVELS = ((512, ((0.2, 32, (64, 64, 128)),)), (128, ((0.4, 64, (128, 128, 256)),)))
MSG_LEVELS = ((512, ((0.1, 16, (32, 32, 64)), (0.2, 32, (64, 64, 128)), (0.4, 128, (64, 96, 128)))),
              (128, ((0.2, 32, (64, 64, 128)), (0.4, 64, (128, 128, 256)), (0.8, 128, (128, 128, 256)))))


class SetAbstraction(nn.Module):
    """``(xyz: (B, N, D), feats: (B, N, C) | None) -> (centres (B, M, D), features (B, M, C'))``.
    ``m=None`` groups all points into one centre at the origin (the last, global level)."""

    def __init__(self, m: int | None, scales: Sequence[tuple[float, int, Sequence[int]]], in_dim: int, c_in: int):
        super().__init__()
        self.m, self.scales = m, tuple((r, k) for r, k, _ in scales)
        self.mlps = nn.ModuleList(SharedMLP(in_dim + c_in, dims) for _, _, dims in scales)
        self.c_out = sum(mlp.c_out for mlp in self.mlps)

    def forward(self, xyz: Tensor, feats: Tensor | None) -> tuple[Tensor, Tensor]:
        if self.m is None:
            x = xyz if feats is None else torch.cat([xyz, feats], -1)
            return xyz.new_zeros(xyz.shape[0], 1, xyz.shape[2]), self.mlps[0](x).max(1, keepdim=True).values
        m = min(self.m, xyz.shape[1])
        centres = index_points(xyz, farthest_point_sample(xyz, m, start="farthest"))
        outs = []
        for (r, k), mlp in zip(self.scales, self.mlps):
            idx = ball_query(centres, xyz, r, min(k, xyz.shape[1]))
            g = group(xyz, idx, centres) / r  # (B, M, k, D) in the centre's frame, in units of the radius
            if feats is not None:
                g = torch.cat([g, group(feats, idx)], -1)
            outs.append(mlp(g).max(2).values)
        return centres, torch.cat(outs, -1)


class FeaturePropagation(nn.Module):
    """Interpolate ``(B, M, C2)`` features at sparse points to the dense points (inverse squared-distance
    weights of the 3 nearest, eq. 2 of the paper), concatenate the dense skip features, shared MLP."""

    def __init__(self, c_in: int, dims: Sequence[int]):
        super().__init__()
        self.mlp = SharedMLP(c_in, dims)
        self.c_out = self.mlp.c_out

    def forward(self, dense: Tensor, sparse: Tensor, f_sparse: Tensor, f_dense: Tensor | None) -> Tensor:
        if sparse.shape[1] == 1:
            f = f_sparse.expand(-1, dense.shape[1], -1)
        else:
            d, idx = knn(dense, sparse, min(3, sparse.shape[1]))
            w = 1.0 / (d + 1e-8)
            w = w / w.sum(-1, keepdim=True)
            f = (index_points(f_sparse, idx) * w.unsqueeze(-1)).sum(2)
        if f_dense is not None:
            f = torch.cat([f, f_dense], -1)
        return self.mlp(f)


def _levels(levels, width: float, radius_scale: float):
    return tuple((m, tuple((r * radius_scale, k, scaled(dims, width)) for r, k, dims in scales))
                 for m, scales in levels)


class _Backbone(nn.Module):
    def __init__(self, in_dim: int, width: float, msg: bool, levels, radius_scale: float):
        super().__init__()
        self.in_dim = in_dim
        levels = _levels(levels if levels is not None else (MSG_LEVELS if msg else SSG_LEVELS), width, radius_scale)
        self.sa = nn.ModuleList()
        c = 0
        for m, scales in levels:
            self.sa.append(SetAbstraction(m, scales, in_dim, c))
            c = self.sa[-1].c_out
        self.sa.append(SetAbstraction(None, ((0.0, 0, scaled((256, 512, 1024), width)),), in_dim, c))

    def forward(self, x: Tensor) -> list[tuple[Tensor, Tensor | None]]:
        check_cloud(x, "points", self.in_dim)
        out: list[tuple[Tensor, Tensor | None]] = [(x, None)]
        for sa in self.sa:
            out.append(sa(*out[-1]))
        return out


@register_model("pointnet2", example_input=lambda: torch.randn(4, 64, 3),
                small={"width": 0.125, "num_classes": 5, "levels": ((16, ((0.4, 8, (64, 64)),)),)})
class PointNet2(nn.Module):
    """PointNet++ classifier: set abstraction levels (SSG by default, ``msg=True`` for MSG), a global level,
    FC 512-256-k with dropout 0.5. ``levels`` overrides the per-level (centres, scales); ``radius_scale``
    multiplies every radius (the paper's radii assume unit-sphere clouds)."""

    def __init__(self, num_classes: int = 40, in_dim: int = 3, width: float = 1.0, msg: bool = False,
                 levels=None, radius_scale: float = 1.0, dropout: float = 0.5):
        super().__init__()
        self.backbone = _Backbone(in_dim, width, msg, levels, radius_scale)
        self.head = mlp_head(self.backbone.sa[-1].c_out, scaled((512, 256), width), num_classes, dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.backbone(x)[-1][1].squeeze(1))


@register_model("pointnet2-seg", example_input=lambda: torch.randn(4, 64, 3),
                small={"width": 0.125, "num_parts": 6, "levels": ((16, ((0.4, 8, (64, 64)),)),)})
class PointNet2Seg(nn.Module):
    """PointNet++ segmentation: the classifier's levels, then feature propagation back to every input point
    (widths 256-256, 256-128, 128-128-128 from coarse to fine) and a per-point linear layer."""

    def __init__(self, num_parts: int = 50, in_dim: int = 3, width: float = 1.0, msg: bool = False, levels=None,
                 radius_scale: float = 1.0, num_classes: int = 0):
        super().__init__()
        self.backbone = _Backbone(in_dim, width, msg, levels, radius_scale)
        self.num_classes = num_classes
        widths = [scaled(w, width) for w in ((256, 256), (256, 128), (128, 128, 128))]
        chans = [num_classes] + [sa.c_out for sa in self.backbone.sa]  # per level; level 0 = input points
        self.fp = nn.ModuleList()
        c = chans[-1]
        for i, lvl in enumerate(range(len(chans) - 2, -1, -1)):
            dims = widths[min(i, len(widths) - 1)] if lvl > 0 else widths[-1]
            self.fp.append(FeaturePropagation(c + chans[lvl], dims))
            c = self.fp[-1].c_out
        self.out = nn.Linear(c, num_parts)

    def forward(self, x: Tensor, cls: Tensor | None = None) -> Tensor:
        levels = self.backbone(x)
        f = levels[-1][1]
        for i, fp in enumerate(self.fp):
            dense_xyz, dense_f = levels[-2 - i]
            if dense_f is None and self.num_classes:  # the input level: the one-hot class as its features
                if cls is None:
                    raise ValueError("PointNet2Seg(num_classes>0) needs the object classes cls: (B,)")
                dense_f = nn.functional.one_hot(cls, self.num_classes).to(x.dtype).unsqueeze(1).expand(-1, x.shape[1], -1)
            f = fp(dense_xyz, levels[-1 - i][0], f, dense_f)
        return self.out(f)
