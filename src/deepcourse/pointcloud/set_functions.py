"""The order-invariance alternatives of PointNet's Sec. 5.2 (Fig. 5; the notes' table): ways to turn a set of
per-point features into one vector, compared on the same data.

* ``mlp-unsorted``: an MLP on the concatenated coordinates in the order given (not invariant; it must learn
  every permutation);
* ``mlp-sorted``: the same after sorting the points lexicographically (a canonical order, but one that jumps
  under small perturbations);
* ``lstm``: an LSTM reading the per-point features as a sequence (trained on random orders);
* ``attention``: attention sum, softmax weights from a per-point score, :math:`\\sum_i a_i h(x_i)`;
* ``average`` / ``max``: average or max pooling of :math:`h(x_i)` (PointNet uses max).

The per-point function h is PointNet's vanilla MLP 64-64-64-128-1024 (scaled by ``width``); the head is
FC 512-256-k for every variant."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.core import register_model

from .layers import SharedMLP, mlp_head, scaled
from .ops import check_cloud

__all__ = ["POOLINGS", "SetClassifier", "lexicographic_sort"]

POOLINGS = ("mlp-unsorted", "mlp-sorted", "lstm", "attention", "average", "max")


def lexicographic_sort(x: Tensor) -> Tensor:
    """Sort the points of ``(B, N, D)`` by the first coordinate, ties by the second, then the third."""
    for d in reversed(range(x.shape[-1])):  # stable sorts, last key first
        order = torch.sort(x[..., d], dim=1, stable=True).indices
        x = torch.gather(x, 1, order.unsqueeze(-1).expand_as(x))
    return x


@register_model("set-classifier", example_input=lambda: torch.randn(4, 16, 3),
                small={"pool": "attention", "num_points": 16, "width": 0.125, "num_classes": 5})
class SetClassifier(nn.Module):
    """A per-point MLP h, a set function g (``pool`` in :data:`POOLINGS`) and the FC head."""

    def __init__(self, pool: str = "max", num_classes: int = 10, in_dim: int = 3, num_points: int = 1024,
                 width: float = 1.0, dropout: float = 0.3):
        super().__init__()
        if pool not in POOLINGS:
            raise ValueError(f"pool must be one of {POOLINGS}; got {pool!r}")
        self.pool, self.in_dim, self.num_points = pool, in_dim, num_points
        if pool.startswith("mlp"):  # the whole cloud as one vector: (N * D) -> 1024 -> head
            self.h = None
            self.flat = nn.Sequential(nn.Linear(num_points * in_dim, scaled((1024,), width)[0], bias=False),
                                      nn.BatchNorm1d(scaled((1024,), width)[0]), nn.ReLU())
            c = scaled((1024,), width)[0]
        else:
            self.h = SharedMLP(in_dim, scaled((64, 64, 64, 128, 1024), width))
            c = self.h.c_out
            if pool == "lstm":
                self.lstm = nn.LSTM(c, c, batch_first=True)
            elif pool == "attention":
                self.score = nn.Sequential(nn.Linear(c, scaled((128,), width)[0]), nn.Tanh(),
                                           nn.Linear(scaled((128,), width)[0], 1))
        self.head = mlp_head(c, scaled((512, 256), width), num_classes, dropout)

    def forward(self, x: Tensor) -> Tensor:
        check_cloud(x, "points", self.in_dim)
        if self.h is None:
            if x.shape[1] != self.num_points:
                raise ValueError(f"{self.pool} needs (B, {self.num_points}, {self.in_dim}) clouds; got {tuple(x.shape)}")
            if self.pool == "mlp-sorted":
                x = lexicographic_sort(x)
            return self.head(self.flat(x.flatten(1)))
        f = self.h(x)
        if self.pool == "max":
            z = f.max(1).values
        elif self.pool == "average":
            z = f.mean(1)
        elif self.pool == "attention":
            z = (torch.softmax(self.score(f), dim=1) * f).sum(1)
        else:  # lstm: the last hidden state after reading the points in the given order
            z = self.lstm(f)[1][0][-1]
        return self.head(z)
