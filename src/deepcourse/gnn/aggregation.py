"""Segment aggregation in plain PyTorch: the ρ of message passing (sum, mean or max of the rows that share an
index), and graph pooling. No ``torch_scatter``: ``index_add_`` and ``scatter_reduce`` do the work."""

from __future__ import annotations

import torch

__all__ = ["AGGREGATIONS", "aggregate", "pool", "softmax_by_index", "check_graph"]

AGGREGATIONS = ("sum", "mean", "max")


def aggregate(src: torch.Tensor, index: torch.Tensor, size: int, reduce: str = "sum") -> torch.Tensor:
    """``out[k] = reduce({src[r] : index[r] = k})`` for ``k < size``; empty groups give 0.

    ``src`` is ``(R, ...)`` and ``index`` ``(R,)`` int64. ``reduce``: ``sum``, ``mean`` or ``max``."""
    if reduce not in AGGREGATIONS:
        raise ValueError(f"reduce must be one of {AGGREGATIONS}, got {reduce!r}")
    if index.dim() != 1 or index.shape[0] != src.shape[0]:
        raise ValueError(f"index must have shape ({src.shape[0]},) to match src {tuple(src.shape)}, "
                         f"got {tuple(index.shape)}")
    out = src.new_zeros((size,) + tuple(src.shape[1:]))
    if reduce == "sum":
        return out.index_add_(0, index, src)
    if reduce == "mean":
        count = torch.bincount(index, minlength=size).clamp_(min=1).to(src.dtype)
        return out.index_add_(0, index, src) / count.view(-1, *([1] * (src.dim() - 1)))
    idx = index.view(-1, *([1] * (src.dim() - 1))).expand_as(src)
    return out.scatter_reduce(0, idx, src, reduce="amax", include_self=False)


def pool(x: torch.Tensor, batch: torch.Tensor | None, num_graphs: int | None = None,
         reduce: str = "sum") -> torch.Tensor:
    """Graph-level readout: ``reduce`` over the nodes of each graph (``batch[v]`` = graph of node ``v``)."""
    if batch is None:
        return aggregate(x, torch.zeros(x.shape[0], dtype=torch.long, device=x.device), 1, reduce)
    size = int(batch.max()) + 1 if num_graphs is None else num_graphs
    return aggregate(x, batch, size, reduce)


def softmax_by_index(scores: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """Softmax of ``scores`` (``(R,)`` or ``(R, H)``) over the rows that share an ``index`` (attention)."""
    peak = aggregate(scores.detach(), index, size, "max")[index]
    e = torch.exp(scores - peak)
    return e / aggregate(e, index, size, "sum")[index].clamp_min(1e-16)


def check_graph(x: torch.Tensor, edge_index: torch.Tensor, in_features: int | None = None) -> None:
    """ValueError naming the expected shapes when ``x`` is not ``(N, F)`` or ``edge_index`` not ``(2, E)`` with
    node ids below ``N``."""
    if x.dim() != 2 or (in_features is not None and x.shape[1] != in_features):
        want = f"(N, {in_features})" if in_features is not None else "(N, F)"
        raise ValueError(f"node features must have shape {want}, got {tuple(x.shape)}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    if edge_index.numel() and (int(edge_index.max()) >= x.shape[0] or int(edge_index.min()) < 0):
        raise ValueError(f"edge_index holds node ids outside [0, {x.shape[0]})")
