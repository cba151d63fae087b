"""A PoinTr-style completion network (Yu, Rao, Wang, Liu, Lu, Zhou 2021, arXiv:2108.08839), CPU-sized.

1. **Point proxies.** N centres q_i by farthest point sampling of the partial input; DGCNN features
   (EdgeConv on the input points, then each centre's k nearest points pooled, then an EdgeConv among the
   centres: a one-step hierarchical downsampling) give F'_i; a positional MLP adds phi(q_i): F_i = F'_i + phi(q_i).
2. **Geometry-aware transformer blocks.** Beside multi-head self-attention on the features, a kNN branch
   gathers each proxy's k nearest proxies *by coordinates* and max-pools EdgeConv features of them; the two
   are concatenated and projected (PoinTr Sec. 3.3, Fig. 3).
3. **Encoder / decoder.** V = M_E(F); H = M_D(Q, V), the decoder using geometry-aware self-attention on the
   queries and cross-attention to V.
4. **Query generator** (the notes' 7 steps): a linear projection of V to a wider space, max-pool, a linear
   layer to 3M numbers, reshaped to M centres c_j; each centre concatenated with the pooled feature and mapped
   by an MLP to the query Q_j.
5. **Multi-scale generation.** A FoldingNet decoder per output proxy: P_j = f(H_j) + c_j.
6. **Loss** J0 + J1: Chamfer distance of the centres C to the ground truth plus of the points P to the ground
   truth (:func:`completion_loss`). As in PoinTr, the partial input is appended to both outputs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.core import register_model

from .dgcnn import EdgeConv, edge_features
from .folding import Folding
from .layers import SharedMLP
from .losses import chamfer_distance
from .ops import check_cloud, farthest_point_sample, group, index_points, knn

__all__ = ["GeometryAwareBlock", "ProxyEmbedding", "QueryGenerator", "PoinTr", "completion_loss"]


class ProxyEmbedding(nn.Module):
    """``(B, N_in, 3) -> (centres (B, N, 3), proxies (B, N, C))``."""

    def __init__(self, n: int, c: int, k: int = 16):
        super().__init__()
        self.n, self.k = n, k
        self.point_conv = EdgeConv(3, (c // 4,), k)
        self.group_mlp = SharedMLP(c // 4 + 3, (c // 2, c // 2))
        self.centre_conv = EdgeConv(c // 2, (c,), min(k, 8))
        self.pos = nn.Sequential(nn.Linear(3, c // 2), nn.GELU(), nn.Linear(c // 2, c))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        check_cloud(x, "partial cloud", 3)
        f = self.point_conv(x)
        q = index_points(x, farthest_point_sample(x, min(self.n, x.shape[1]), start="farthest"))
        _, idx = knn(q, x, min(self.k, x.shape[1]))
        g = torch.cat([group(f, idx), group(x, idx, q)], -1)
        fq = self.centre_conv(self.group_mlp(g).max(2).values, coords=q)
        return q, fq + self.pos(q)


class GeometryAwareBlock(nn.Module):
    """Pre-norm transformer block whose self-attention is joined by a kNN geometric branch; with ``memory``
    it also cross-attends to the encoder output (a decoder block)."""

    def __init__(self, c: int, heads: int = 4, k: int = 8, cross: bool = False):
        super().__init__()
        self.k = k
        self.norm1 = nn.LayerNorm(c)
        self.attn = nn.MultiheadAttention(c, heads, batch_first=True)
        self.knn_mlp = nn.Sequential(nn.Linear(2 * c, c), nn.LeakyReLU(0.2))
        self.merge = nn.Linear(2 * c, c)
        self.cross = nn.MultiheadAttention(c, heads, batch_first=True) if cross else None
        self.norm_c = nn.LayerNorm(c) if cross else None
        self.norm2 = nn.LayerNorm(c)
        self.mlp = nn.Sequential(nn.Linear(c, 2 * c), nn.GELU(), nn.Linear(2 * c, c))

    def forward(self, x: Tensor, pos: Tensor, memory: Tensor | None = None) -> Tensor:
        h = self.norm1(x)
        a = self.attn(h, h, h, need_weights=False)[0]
        g = self.knn_mlp(edge_features(h, self.k, coords=pos)).max(2).values
        x = x + self.merge(torch.cat([a, g], -1))
        if self.cross is not None:
            h = self.norm_c(x)
            x = x + self.cross(h, memory, memory, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class QueryGenerator(nn.Module):
    """The notes' 7 steps: V -> Linear(C, G) -> max-pool -> Linear(G, 3M) -> M centres c_j; Q_j = MLP([c_j, pooled])."""

    def __init__(self, c: int, m: int, g: int):
        super().__init__()
        self.m = m
        self.expand = nn.Linear(c, g)
        self.to_centres = nn.Sequential(nn.Linear(g, g), nn.GELU(), nn.Linear(g, 3 * m))
        self.to_query = nn.Sequential(nn.Linear(g + 3, c), nn.GELU(), nn.Linear(c, c))

    def forward(self, v: Tensor) -> tuple[Tensor, Tensor]:
        pooled = self.expand(v).max(1).values  # steps 1-2
        c = self.to_centres(pooled).view(v.shape[0], self.m, 3)  # steps 3-4
        q = self.to_query(torch.cat([c, pooled.unsqueeze(1).expand(-1, self.m, -1)], -1))  # steps 5-7
        return c, q


@register_model("pointr", example_input=lambda: torch.randn(2, 64, 3),
                small={"proxies": 8, "queries": 8, "per_query": 4, "dim": 32, "depth": (1, 1), "heads": 4, "k": 4},
                loss=lambda out: sum(o.sum() for o in out.values()))
class PoinTr(nn.Module):
    """``forward(partial (B, N_in, 3))`` -> ``{"centres": (B, M [+ n], 3), "points": (B, M g [+ N_in], 3),
    "proxies": (B, N, 3)}`` with M = ``queries`` output proxies of g = ``per_query`` points each."""

    def __init__(self, proxies: int = 128, queries: int = 224, per_query: int = 64, dim: int = 384,
                 depth: tuple[int, int] = (6, 8), heads: int = 6, k: int = 8, concat_input: bool = True,
                 patch_scale: float = 0.05):
        super().__init__()
        self.concat_input = concat_input
        self.embed = ProxyEmbedding(proxies, dim, 2 * k)
        self.encoder = nn.ModuleList(GeometryAwareBlock(dim, heads, k) for _ in range(depth[0]))
        self.queries = QueryGenerator(dim, queries, 4 * dim)
        self.decoder = nn.ModuleList(GeometryAwareBlock(dim, heads, k, cross=True) for _ in range(depth[1]))
        self.fold = Folding(dim, per_query, dim, scale=patch_scale)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        q, v = self.embed(x)
        for blk in self.encoder:
            v = blk(v, q)
        c, h = self.queries(v)
        for blk in self.decoder:
            h = blk(h, c, v)
        p = (self.fold(h) + c.unsqueeze(2)).flatten(1, 2)  # P_j = f(H_j) + c_j
        if self.concat_input:
            c = torch.cat([c, q], 1)
            p = torch.cat([p, x], 1)
        return {"centres": c, "points": p, "proxies": q}


def completion_loss(out: dict[str, Tensor], gt: Tensor, kind: str = "l1") -> Tensor:
    """J0 + J1: Chamfer distance (CD-L1 by default, as PoinTr trains) of the coarse output (``"centres"`` or
    ``"coarse"``, when the model has one) and of the points to the ground truth."""
    loss = chamfer_distance(out["points"], gt, kind)
    for key in ("centres", "coarse"):
        if key in out:
            loss = loss + chamfer_distance(out[key], gt, kind)
    return loss
