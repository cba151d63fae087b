"""Deep Sets (Zaheer, Kottur, Ravanbakhsh, Póczos, Salakhutdinov & Smola 2017, NeurIPS, Theorem 2): every
permutation-invariant function of a set can be written

.. math:: f(X) = \\rho\\Big(\\sum_{x \\in X} \\phi(x)\\Big),

with φ applied to each element alone and ρ to the pooled sum. Sets come either padded, ``x (B, N, F)`` with a
``mask (B, N)``, or flat, ``x (M, F)`` with ``batch (M,)`` naming each element's set (PyG style)."""

from __future__ import annotations

import torch
from torch import nn

from deepcourse.core import register_model

from .aggregation import AGGREGATIONS, pool

__all__ = ["DeepSets"]


@register_model("deep-sets", example_input=lambda: (torch.randn(3, 4, 5), torch.tensor([[1, 1, 1, 0]] * 3).bool()),
                small={"in_features": 5, "hidden": 8, "out_features": 2})
class DeepSets(nn.Module):
    """ρ(pool φ(x)): φ and ρ are 2-layer ReLU MLPs; ``pool`` is ``sum`` (the theorem's), ``mean`` or ``max``."""

    def __init__(self, in_features: int, hidden: int, out_features: int, pool: str = "sum"):
        super().__init__()
        if pool not in AGGREGATIONS:
            raise ValueError(f"pool must be one of {AGGREGATIONS}, got {pool!r}")
        self.in_features, self.pool = in_features, pool
        self.phi = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.rho = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out_features))

    def forward(self, x: torch.Tensor, mask_or_batch: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() == 3:  # padded sets (B, N, F)
            if x.shape[2] != self.in_features:
                raise ValueError(f"padded sets must have shape (B, N, {self.in_features}), got {tuple(x.shape)}")
            b, n, _ = x.shape
            mask = torch.ones(b, n, dtype=torch.bool, device=x.device) if mask_or_batch is None else mask_or_batch
            if mask.shape != (b, n):
                raise ValueError(f"mask must have shape ({b}, {n}), got {tuple(mask.shape)}")
            batch = torch.arange(b, device=x.device).repeat_interleave(mask.sum(1))
            return self.rho(pool(self.phi(x[mask]), batch, b, self.pool))
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"sets must be (B, N, {self.in_features}) padded or (M, {self.in_features}) flat, "
                             f"got {tuple(x.shape)}")
        return self.rho(pool(self.phi(x), mask_or_batch, None, self.pool))
