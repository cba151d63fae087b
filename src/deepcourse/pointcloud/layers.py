"""Building blocks every point-cloud network here shares: a shared (per-point) MLP and width scaling."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

__all__ = ["SharedMLP", "scaled", "mlp_head"]


def scaled(dims: Sequence[int], width: float) -> tuple[int, ...]:
    """Channel widths multiplied by ``width`` (at least 4 each): ``width=0.25`` gives a CPU-sized network."""
    return tuple(max(4, int(round(d * width))) for d in dims)


class SharedMLP(nn.Module):
    """The same MLP applied to every point (a 1x1 convolution): ``(..., C_in) -> (..., C_out)``.

    Linear, then BatchNorm over every point of the batch, then ReLU, for each width in ``dims``;
    ``last_act=False`` leaves the last layer linear. Acting on each point alone, it commutes with any
    permutation of the points."""

    def __init__(self, c_in: int, dims: Sequence[int], bn: bool = True, last_act: bool = True):
        super().__init__()
        layers: list[nn.Module] = []
        for i, d in enumerate(dims):
            layers.append(nn.Linear(c_in, d, bias=not bn or (i == len(dims) - 1 and not last_act)))
            if i < len(dims) - 1 or last_act:
                if bn:
                    layers.append(_PointBN(d))
                layers.append(nn.ReLU())
            c_in = d
        self.net = nn.Sequential(*layers)
        self.c_out = c_in

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class _PointBN(nn.BatchNorm1d):
    """BatchNorm1d over the last axis of a ``(..., C)`` tensor (statistics over all leading axes)."""

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape
        return super().forward(x.reshape(-1, shape[-1])).reshape(shape)


def mlp_head(c_in: int, dims: Sequence[int], out: int, dropout: float = 0.0) -> nn.Sequential:
    """Fully connected head ``c_in -> dims... -> out`` with BatchNorm, ReLU and dropout (PointNet's 512-256-k)."""
    layers: list[nn.Module] = []
    for d in dims:
        layers += [nn.Linear(c_in, d, bias=False), nn.BatchNorm1d(d), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        c_in = d
    layers.append(nn.Linear(c_in, out))
    return nn.Sequential(*layers)

