"""Graph convolutional network (Kipf & Welling 2017, "Semi-supervised classification with graph convolutional
networks", ICLR, eq. 2):

.. math:: H^{(l+1)} = \\sigma\\big(\\tilde D^{-1/2} \\tilde A \\tilde D^{-1/2} H^{(l)} W^{(l)}\\big),
          \\qquad \\tilde A = A + I,\\ \\tilde D_{ii} = \\textstyle\\sum_j \\tilde A_{ij}.

The propagation is one ``index_add_`` over the edges with the symmetric normalisation as edge weights, the
same operator as PyG's ``GCNConv`` (``tests/gnn/test_gcn_gin.py`` checks values and gradients against it).
"""

from __future__ import annotations

import torch
from torch import nn

from deepcourse.core import register_model

from .aggregation import check_graph, pool

__all__ = ["GCNLayer", "GCN", "gcn_norm", "feature_dropout", "project"]


def gcn_norm(edge_index: torch.Tensor, num_nodes: int, self_loops: bool = True,
             dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """``(edge_index with self-loops, weight)``: the entries of :math:`\\tilde D^{-1/2}\\tilde A\\tilde D^{-1/2}`
    (existing self-loops are replaced by one of weight 1, as PyG does)."""
    src, dst = edge_index
    if self_loops:
        keep = src != dst
        loop = torch.arange(num_nodes, device=edge_index.device)
        src, dst = torch.cat([src[keep], loop]), torch.cat([dst[keep], loop])
    deg = torch.zeros(num_nodes, device=edge_index.device, dtype=dtype).index_add_(0, dst, torch.ones_like(dst, dtype=dtype))
    inv = deg.pow(-0.5).masked_fill_(deg == 0, 0.0)
    return torch.stack([src, dst]), inv[src] * inv[dst]


def feature_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Dropout that also takes a sparse COO ``x`` (bag-of-words features): only its stored entries are dropped,
    as in Kipf & Welling's code, at a cost proportional to the non-zeros."""
    if not x.is_sparse:
        return nn.functional.dropout(x, p, training)
    x = x.coalesce()
    return torch.sparse_coo_tensor(x.indices(), nn.functional.dropout(x.values(), p, training), x.shape)


def project(x: torch.Tensor, lin: nn.Linear) -> torch.Tensor:
    """``lin(x)`` for a dense or sparse COO ``x``."""
    if not x.is_sparse:
        return lin(x)
    out = torch.sparse.mm(x, lin.weight.t())
    return out + lin.bias if lin.bias is not None else out


class GCNLayer(nn.Module):
    """One graph convolution :math:`\\hat A X W + b`; ``cached=True`` keeps :math:`\\hat A` of the first call
    (transductive use on one fixed graph such as Cora)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, cached: bool = False):
        super().__init__()
        self.in_features, self.out_features, self.cached = in_features, out_features, cached
        self.lin = nn.Linear(in_features, out_features, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        nn.init.xavier_uniform_(self.lin.weight)  # Glorot & Bengio, as in the paper

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        check_graph(x, edge_index, self.in_features)
        if self._cache is None or not self.cached:
            self._cache = gcn_norm(edge_index, x.shape[0], dtype=x.dtype)
        (src, dst), w = self._cache
        h = project(x, self.lin)
        out = h.new_zeros(h.shape).index_add_(0, dst, h.index_select(0, src) * w.unsqueeze(1))
        return out + self.bias if self.bias is not None else out


@register_model("gcn", example_input=lambda: (torch.randn(6, 5), torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]]),
                                              torch.tensor([0, 0, 0, 1, 1, 1])),
                small={"in_features": 5, "hidden": 8, "out_features": 3, "layers": 2, "graph_level": True})
class GCN(nn.Module):
    """A stack of :class:`GCNLayer` with ReLU and dropout. ``graph_level=False``: per-node logits (Kipf & Welling's
    two-layer node classifier); ``True``: ``pool`` over each graph's nodes, then a linear head."""

    def __init__(self, in_features: int, hidden: int, out_features: int, layers: int = 2, dropout: float = 0.5,
                 graph_level: bool = False, pool: str = "mean", cached: bool = False):
        super().__init__()
        if layers < 1:
            raise ValueError(f"layers must be >= 1, got {layers}")
        self.graph_level, self.pool, self.dropout = graph_level, pool, dropout
        dims = [in_features] + [hidden] * (layers - (0 if graph_level else 1)) + ([] if graph_level else [out_features])
        self.convs = nn.ModuleList(GCNLayer(a, b, cached=cached) for a, b in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(hidden, out_features) if graph_level else None

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor | None = None) -> torch.Tensor:
        for k, conv in enumerate(self.convs):
            x = feature_dropout(x, self.dropout, self.training)
            x = conv(x, edge_index)
            if k < len(self.convs) - 1 or self.graph_level:
                x = torch.relu(x)
        if not self.graph_level:
            return x
        return self.head(nn.functional.dropout(pool(x, batch, reduce=self.pool), self.dropout, self.training))
