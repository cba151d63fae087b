"""Graph isomorphism network (Xu, Hu, Leskovec & Jegelka 2019, "How powerful are graph neural networks?",
ICLR, eq. 4.1):

.. math:: h_v^{(k)} = \\mathrm{MLP}^{(k)}\\Big((1 + \\epsilon^{(k)})\\, h_v^{(k-1)} + \\sum_{u \\in N(v)} h_u^{(k-1)}\\Big)

with sum aggregation (injective on multisets, so as discriminative as the 1-WL test), and the readout of
eq. 4.2: the sum-pooled representation of every layer (the input included) through its own linear layer,
the scores added. GIN-0 fixes :math:`\\epsilon = 0`; ``train_eps=True`` learns it (GIN-ε).
"""

from __future__ import annotations

import torch
from torch import nn

from deepcourse.core import register_model

from .aggregation import aggregate, check_graph, pool
from .gcn import feature_dropout

__all__ = ["GINLayer", "GIN", "gin_mlp"]


def gin_mlp(in_features: int, hidden: int, batch_norm: bool = True) -> nn.Sequential:
    """The paper's 2-layer MLP: Linear, BatchNorm, ReLU, Linear (then BatchNorm and ReLU in :class:`GIN`)."""
    mid = [nn.BatchNorm1d(hidden)] if batch_norm else []
    return nn.Sequential(nn.Linear(in_features, hidden), *mid, nn.ReLU(), nn.Linear(hidden, hidden))


class GINLayer(nn.Module):
    """:math:`\\mathrm{MLP}((1+\\epsilon) h_v + \\sum_{u\\in N(v)} h_u)` with ``edge_index[0]`` the senders."""

    def __init__(self, mlp: nn.Module, eps: float = 0.0, train_eps: bool = False, in_features: int | None = None):
        super().__init__()
        self.mlp, self.in_features = mlp, in_features
        self.eps = nn.Parameter(torch.tensor(float(eps))) if train_eps else None
        self.register_buffer("eps0", torch.tensor(float(eps)))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        check_graph(x, edge_index, self.in_features)
        eps = self.eps if self.eps is not None else self.eps0
        first = self.mlp[0] if isinstance(self.mlp, nn.Sequential) and isinstance(self.mlp[0], nn.Linear) else None
        if first is not None and (x.is_sparse or first.in_features > first.out_features):
            # the MLP starts with a linear map, which commutes with the sum: project first, then aggregate
            # (exact, and cheaper when the input is wider than the hidden layer or sparse)
            h = torch.sparse.mm(x, first.weight.t()) if x.is_sparse else x @ first.weight.t()
            neigh = aggregate(h.index_select(0, edge_index[0]), edge_index[1], x.shape[0], "sum")
            z = (1 + eps) * h + neigh
            return self.mlp[1:](z + first.bias if first.bias is not None else z)
        neigh = aggregate(x.index_select(0, edge_index[0]), edge_index[1], x.shape[0], "sum")
        return self.mlp((1 + eps) * x + neigh)


@register_model("gin", example_input=lambda: (torch.randn(6, 5), torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]]),
                                              torch.tensor([0, 0, 0, 1, 1, 1])),
                small={"in_features": 5, "hidden": 8, "out_features": 3, "layers": 2})
class GIN(nn.Module):
    """GIN for graph classification (Xu et al. 2019, Sec. 7): ``layers`` GIN layers (the paper: 5 including the
    input, i.e. 4 message-passing layers) with BatchNorm and ReLU, sum readout per layer, dropout before the
    per-layer linear scores. ``graph_level=False`` gives node logits from the last layer instead."""

    def __init__(self, in_features: int, hidden: int, out_features: int, layers: int = 4, dropout: float = 0.5,
                 train_eps: bool = False, graph_level: bool = True, pool: str = "sum", batch_norm: bool = True):
        super().__init__()
        if layers < 1:
            raise ValueError(f"layers must be >= 1, got {layers}")
        self.dropout, self.graph_level, self.pool = dropout, graph_level, pool
        dims = [in_features] + [hidden] * layers
        self.convs = nn.ModuleList(GINLayer(gin_mlp(a, hidden, batch_norm), train_eps=train_eps, in_features=a)
                                   for a in dims[:-1])
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) if batch_norm else nn.Identity() for _ in range(layers))
        self.heads = nn.ModuleList(nn.Linear(d, out_features) for d in (dims if graph_level else dims[-1:]))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor | None = None) -> torch.Tensor:
        hs = [x if self.graph_level else feature_dropout(x, self.dropout, self.training)]
        for conv, norm in zip(self.convs, self.norms):
            hs.append(torch.relu(norm(conv(hs[-1], edge_index))))
        if not self.graph_level:
            return self.heads[0](nn.functional.dropout(hs[-1], self.dropout, self.training))
        n = None if batch is None else int(batch.max()) + 1
        return sum(head(nn.functional.dropout(pool(h, batch, n, self.pool), self.dropout, self.training))
                   for head, h in zip(self.heads, hs))
