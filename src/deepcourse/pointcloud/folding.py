"""FoldingNet (Yang, Feng, Shen, Tian 2018, arXiv:1712.07262) and a PCN-style coarse-to-fine completion network
(Yuan, Khot, Held, Mertz, Hebert 2018, arXiv:1808.00671): the completion baselines, and the folding decoder that
PoinTr applies to each of its point proxies.

Folding: a codeword is concatenated to every point of a fixed 2-D grid and a shared MLP maps each (codeword, grid
point) pair to a 3-D point; a second fold refines the first. Both networks encode the partial input with PCN's
two-stage PointNet (shared MLP 128-256, max-pool, concatenated back to each point, shared MLP 512-1024, max-pool).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from deepcourse.core import register_model

from .layers import SharedMLP, scaled
from .ops import check_cloud

__all__ = ["grid_2d", "Folding", "PCNEncoder", "FoldingNet", "PCN"]


def grid_2d(n: int, scale: float = 1.0) -> Tensor:
    """``(n, 2)`` points of a near-square grid in [-scale, scale]^2 (rows x columns = n exactly)."""
    rows = max(d for d in range(1, int(math.isqrt(n)) + 1) if n % d == 0)
    u, v = torch.meshgrid(torch.linspace(-scale, scale, rows), torch.linspace(-scale, scale, n // rows), indexing="ij")
    return torch.stack([u.flatten(), v.flatten()], -1)


class Folding(nn.Module):
    """Two folds: ``(B, M, C)`` codewords -> ``(B, M, g, 3)`` points, the grid of ``g`` points folded per
    codeword. ``scale`` is the grid's half-width (small for PoinTr's local patches)."""

    def __init__(self, c: int, g: int, hidden: int = 256, scale: float = 1.0):
        super().__init__()
        self.register_buffer("grid", grid_2d(g, scale))
        self.fold1 = SharedMLP(c + 2, (hidden, hidden, 3), bn=False, last_act=False)
        self.fold2 = SharedMLP(c + 3, (hidden, hidden, 3), bn=False, last_act=False)

    def forward(self, code: Tensor) -> Tensor:
        b, m, c = code.shape
        g = self.grid.shape[0]
        cw = code.unsqueeze(2).expand(b, m, g, c)
        p = self.fold1(torch.cat([cw, self.grid.expand(b, m, g, 2)], -1))
        return self.fold2(torch.cat([cw, p], -1))


class PCNEncoder(nn.Module):
    """``(B, N, 3) -> (B, C)``: shared MLP 128-256, max-pool, concatenate the pooled feature to each point,
    shared MLP 512-C, max-pool."""

    def __init__(self, width: float = 1.0, c_out: int = 1024):
        super().__init__()
        self.mlp1 = SharedMLP(3, scaled((128, 256), width), bn=False)
        self.mlp2 = SharedMLP(2 * self.mlp1.c_out, scaled((512,), width) + (c_out,), bn=False, last_act=False)

    def forward(self, x: Tensor) -> Tensor:
        check_cloud(x, "partial cloud", 3)
        f = self.mlp1(x)
        f = torch.cat([f, f.max(1, keepdim=True).values.expand_as(f)], -1)
        return self.mlp2(f).max(1).values


@register_model("foldingnet", example_input=lambda: torch.randn(2, 32, 3), small={"width": 0.125, "points": 16},
                loss=lambda out: sum(o.sum() for o in out.values()))
class FoldingNet(nn.Module):
    """Completion by folding one grid of ``points`` points with the global codeword of the partial input.
    ``forward`` returns ``{"points": (B, points, 3)}``."""

    def __init__(self, points: int = 2048, width: float = 1.0):
        super().__init__()
        c = scaled((512,), width)[0]
        self.encoder = PCNEncoder(width, c)
        self.fold = Folding(c, points, scaled((512,), width)[0], scale=1.0)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        return {"points": self.fold(self.encoder(x).unsqueeze(1))[:, 0]}


@register_model("pcn", example_input=lambda: torch.randn(2, 32, 3), small={"width": 0.125, "coarse": 8, "per_coarse": 4},
                loss=lambda out: sum(o.sum() for o in out.values()))
class PCN(nn.Module):
    """PCN-style coarse-to-fine completion: an MLP maps the codeword to ``coarse`` points (the coarse output);
    each is refined by a local fold of ``per_coarse`` grid points (codeword, grid point and coarse point in,
    offset out). ``forward`` returns ``{"coarse": (B, coarse, 3), "points": (B, coarse * per_coarse, 3)}``."""

    def __init__(self, coarse: int = 512, per_coarse: int = 4, width: float = 1.0, grid_scale: float = 0.05):
        super().__init__()
        c = scaled((1024,), width)[0]
        self.encoder = PCNEncoder(width, c)
        self.coarse_mlp = nn.Sequential(nn.Linear(c, c), nn.ReLU(), nn.Linear(c, c), nn.ReLU(), nn.Linear(c, 3 * coarse))
        self.register_buffer("grid", grid_2d(per_coarse, grid_scale))
        self.fine = SharedMLP(c + 2 + 3, scaled((512, 512), width) + (3,), bn=False, last_act=False)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        code = self.encoder(x)
        b = x.shape[0]
        coarse = self.coarse_mlp(code).view(b, -1, 3)
        m, g = coarse.shape[1], self.grid.shape[0]
        feat = torch.cat([code.view(b, 1, 1, -1).expand(b, m, g, -1), self.grid.expand(b, m, g, 2),
                          coarse.unsqueeze(2).expand(b, m, g, 3)], -1)
        fine = self.fine(feat) + coarse.unsqueeze(2)
        return {"coarse": coarse, "points": fine.reshape(b, m * g, 3)}
