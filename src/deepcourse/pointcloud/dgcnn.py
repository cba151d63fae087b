"""DGCNN (Wang, Sun, Liu, Sarma, Bronstein, Solomon 2019, arXiv:1801.07829): EdgeConv on a k-nearest-neighbour
graph that is rebuilt in feature space at every layer (the "dynamic" graph).

EdgeConv: :math:`x_i' = \\max_{j \\in \\mathcal{N}(i)} h_\\Theta(x_i, x_j - x_i)` with h a shared MLP and the
max over the k neighbours (eq. 7-8 of the paper). The neighbour search is our chunked :func:`~.ops.knn`."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from deepcourse.core import register_model

from .layers import SharedMLP, mlp_head, scaled
from .ops import check_cloud, group, knn

__all__ = ["EdgeConv", "DGCNN", "DGCNNSeg", "edge_features"]


def edge_features(x: Tensor, k: int, coords: Tensor | None = None) -> Tensor:
    """``(B, N, k, 2C)``: ``[x_i, x_j - x_i]`` for the k nearest neighbours j of each i (i itself included),
    neighbours found in ``coords`` (default: ``x`` itself, i.e. in feature space)."""
    c = x if coords is None else coords
    _, idx = knn(c, c, min(k, x.shape[1]))
    nb = group(x, idx, x)
    return torch.cat([x.unsqueeze(2).expand_as(nb), nb], -1)


class EdgeConv(nn.Module):
    """One EdgeConv layer: ``(B, N, C) -> (B, N, C_out)``."""

    def __init__(self, c_in: int, dims: Sequence[int], k: int = 20):
        super().__init__()
        self.k = k
        self.mlp = SharedMLP(2 * c_in, dims)
        self.c_out = self.mlp.c_out

    def forward(self, x: Tensor, coords: Tensor | None = None) -> Tensor:
        return self.mlp(edge_features(x, self.k, coords)).max(2).values


class _DGCNNBackbone(nn.Module):
    def __init__(self, in_dim: int, layers: Sequence[int], k: int, emb: int):
        super().__init__()
        self.in_dim = in_dim
        self.convs = nn.ModuleList()
        c = in_dim
        for d in layers:
            self.convs.append(EdgeConv(c, (d,), k))
            c = d
        self.c_cat = sum(layers)
        self.emb = SharedMLP(self.c_cat, (emb,))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        check_cloud(x, "points", self.in_dim)
        feats, f = [], x
        for conv in self.convs:
            f = conv(f)
            feats.append(f)
        cat = torch.cat(feats, -1)
        return cat, self.emb(cat)


@register_model("dgcnn", example_input=lambda: torch.randn(4, 32, 3), small={"width": 0.125, "k": 4, "num_classes": 5})
class DGCNN(nn.Module):
    """DGCNN classifier: EdgeConv 64-64-128-256, concatenation, shared 1024, max- and average-pooling,
    FC 512-256-k with dropout 0.5."""

    def __init__(self, num_classes: int = 40, in_dim: int = 3, width: float = 1.0, k: int = 20, dropout: float = 0.5):
        super().__init__()
        self.backbone = _DGCNNBackbone(in_dim, scaled((64, 64, 128, 256), width), k, scaled((1024,), width)[0])
        c = 2 * self.backbone.emb.c_out
        self.head = mlp_head(c, scaled((512, 256), width), num_classes, dropout)

    def forward(self, x: Tensor) -> Tensor:
        _, e = self.backbone(x)
        return self.head(torch.cat([e.max(1).values, e.mean(1)], -1))


@register_model("dgcnn-seg", example_input=lambda: torch.randn(4, 32, 3), small={"width": 0.125, "k": 4, "num_parts": 6})
class DGCNNSeg(nn.Module):
    """DGCNN part segmentation: EdgeConv 64-64-64, a global 1024 feature (max-pool) concatenated to every
    point's features (and the one-hot class), shared MLP 256-256-128, per-point part logits."""

    def __init__(self, num_parts: int = 50, in_dim: int = 3, width: float = 1.0, k: int = 20, num_classes: int = 0):
        super().__init__()
        self.backbone = _DGCNNBackbone(in_dim, scaled((64, 64, 64), width), k, scaled((1024,), width)[0])
        self.num_classes = num_classes
        c = self.backbone.c_cat + self.backbone.emb.c_out + num_classes
        self.mlp = SharedMLP(c, scaled((256, 256, 128), width))
        self.out = nn.Linear(self.mlp.c_out, num_parts)

    def forward(self, x: Tensor, cls: Tensor | None = None) -> Tensor:
        cat, e = self.backbone(x)
        parts = [cat, e.max(1, keepdim=True).values.expand(-1, x.shape[1], -1)]
        if self.num_classes:
            if cls is None:
                raise ValueError("DGCNNSeg(num_classes>0) needs the object classes cls: (B,)")
            parts.append(nn.functional.one_hot(cls, self.num_classes).to(x.dtype).unsqueeze(1).expand(-1, x.shape[1], -1))
        return self.out(self.mlp(torch.cat(parts, -1)))
