"""The message-passing GNN of Paliwal et al. (2020, "Graph Representations for Higher-Order Logic and Theorem
Proving", Sec. 5), as the notes present it. Pure PyTorch (``index_add_``, ``scatter_reduce``) on PyG ``Data``.

1. Initialisation: ``h_v = MLP_V(x_{l_V(v)})`` from a trainable token embedding, ``h_e = MLP_E(l_E(e))`` from
   the edge's direction (0: the sender is the receiver's parent, 1: its child; see :mod:`.formula_graphs`).
2. Messages, per hop t, with separate parent and child networks over ``[h_u, h_v, h_e]``:
   ``s_{u,v} = MLP_edge^t([h_u, h_v, h_e])`` for a parent u of v, ``ŝ_{u,v} = \\hat{MLP}_edge^t(...)`` for a child.
3. Residual update ``h_v <- h_v + MLP_aggr([h_v, sum_u s_{u,v} / p(v), sum_u ŝ_{u,v} / c(v)])`` with p(v), c(v)
   the numbers of parents and children (an empty mean is 0). ``neighbour_counts=True`` also feeds
   ``log(1 + p(v))`` and ``log(1 + c(v))`` to MLP_aggr: the fix the notes point out, since a mean cannot tell one
   neighbour from two equal ones.

The node states keep the input's topology (:meth:`PaliwalGNN.forward_graph` returns the same ``edge_index``).
Readout: a 1x1 expansion (a linear map applied to each node; 128 -> 1024 in the paper) and a max-pool over
each graph's nodes. ``shared_hops=True`` uses one set of message and update networks for every hop (the
notes' "five MLPs in total"); the default gives each hop its own, as the superscript t in the formulas does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn
if TYPE_CHECKING:  # PyG is imported where it is used: importing it costs every CLI call ~2 s
    from torch_geometric.data import Data

from deepcourse.core import register_model

__all__ = ["PaliwalGNN", "graph_max_pool", "mean_by_receiver"]


def _mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))


def mean_by_receiver(messages: Tensor, receiver: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """``(sum_k messages[k] over receiver[k] == v) / count(v)`` for each of ``n`` nodes (0 where the count is 0),
    and the counts (n,)."""
    total = messages.new_zeros(n, messages.shape[1]).index_add_(0, receiver, messages)
    count = torch.bincount(receiver, minlength=n).to(messages.dtype)
    return total / count.clamp_min(1).unsqueeze(1), count


def graph_max_pool(h: Tensor, batch: Tensor, n_graphs: int) -> Tensor:
    """Max over the nodes of each graph: (N, d) -> (n_graphs, d)."""
    out = h.new_zeros(n_graphs, h.shape[1])
    return out.scatter_reduce(0, batch.unsqueeze(1).expand_as(h), h, reduce="amax", include_self=False)


class _Hop(nn.Module):
    def __init__(self, hidden: int, counts: bool):
        super().__init__()
        self.parent = _mlp(3 * hidden, hidden, hidden)  # MLP_edge^t
        self.child = _mlp(3 * hidden, hidden, hidden)  # \hat{MLP}_edge^t
        self.aggr = _mlp(3 * hidden + (2 if counts else 0), hidden, hidden)  # MLP_aggr


def _example_batch():
    from torch_geometric.data import Batch, Data

    return Batch.from_data_list([
        Data(x=torch.tensor([1, 2, 3]), edge_index=torch.tensor([[0, 0, 1, 2], [1, 2, 0, 0]]),
             edge_attr=torch.tensor([0, 0, 1, 1])),
        Data(x=torch.tensor([4, 2]), edge_index=torch.tensor([[0, 1], [1, 0]]), edge_attr=torch.tensor([0, 1]))])


@register_model(
    "paliwal-gnn",
    example_input=_example_batch,
    small={"vocab_size": 6, "hidden": 8, "hops": 2, "expand": 16, "neighbour_counts": True},
)
class PaliwalGNN(nn.Module):
    """``PaliwalGNN(vocab_size, hidden=128, hops=12, expand=1024)``: ``model(data)`` -> (n_graphs, expand) graph
    embeddings; ``node_states(data)`` -> (N, hidden). ``data``: ``x`` (N,) token ids, ``edge_index`` (2, E)
    sender -> receiver, ``edge_attr`` (E,) direction in {0, 1}, ``batch`` (N,) for a ``Batch``."""

    def __init__(self, vocab_size: int, hidden: int = 128, hops: int = 12, expand: int = 1024,
                 neighbour_counts: bool = False, shared_hops: bool = False):
        super().__init__()
        if vocab_size < 1 or hidden < 1 or hops < 0 or expand < 1:
            raise ValueError(f"need vocab_size, hidden, expand >= 1 and hops >= 0; got {vocab_size}, {hidden}, "
                             f"{expand}, {hops}")
        self.hidden, self.hops, self.neighbour_counts = hidden, hops, neighbour_counts
        self.token = nn.Embedding(vocab_size, hidden)  # x_i: a trainable vector per token
        self.mlp_v = _mlp(hidden, hidden, hidden)
        self.mlp_e = _mlp(2, hidden, hidden)  # from the one-hot direction
        n_nets = 0 if hops == 0 else 1 if shared_hops else hops
        self.hop_nets = nn.ModuleList(_Hop(hidden, neighbour_counts) for _ in range(n_nets))
        self.expand = nn.Linear(hidden, expand)  # the 1x1 expansion

    def _check(self, data: Data) -> tuple[Tensor, Tensor, Tensor]:
        x, ei, ea = data.x, data.edge_index, data.edge_attr
        if x is None or x.dim() != 1 or x.dtype != torch.long:
            got = None if x is None else (tuple(x.shape), x.dtype)
            raise ValueError(f"data.x must be (N,) token ids (long), got {got}")
        if ei is None or ei.dim() != 2 or ei.shape[0] != 2:
            raise ValueError(f"data.edge_index must be (2, E), got {None if ei is None else tuple(ei.shape)}")
        if ea is None or ea.shape != (ei.shape[1],):
            raise ValueError(f"data.edge_attr must be (E,) = ({ei.shape[1]},) directions, got "
                             f"{None if ea is None else tuple(ea.shape)}")
        if ea.numel() and not bool(((ea == 0) | (ea == 1)).all()):
            raise ValueError("data.edge_attr must hold directions 0 (from parent) or 1 (from child)")
        return x, ei, ea

    def node_states(self, data: Data) -> Tensor:
        """``h_v^T`` for every node, (N, hidden)."""
        x, ei, ea = self._check(data)
        n = x.shape[0]
        h = self.mlp_v(self.token(x))
        h_e = self.mlp_e(torch.eye(2, dtype=h.dtype, device=h.device))  # the only two edge states, (2, hidden)
        src, dst = ei
        is_parent = ea == 0  # the sender is the receiver's parent
        groups = [(src[m], dst[m], d) for m, d in ((is_parent, 0), (~is_parent, 1))]
        for t in range(self.hops):
            net = self.hop_nets[min(t, len(self.hop_nets) - 1)]
            means, counts = [], []
            for (s, d, direction), mlp in zip(groups, (net.parent, net.child)):
                # mlp([h_u, h_v, h_e]) with its first layer split as W_u h_u + W_v h_v + W_e h_e + b: the node
                # products are computed once per node (N rows) and gathered, not once per edge (E rows)
                w_u, w_v, w_e = mlp[0].weight.split(self.hidden, dim=1)
                pre = ((h @ w_u.T).index_select(0, s) + (h @ w_v.T).index_select(0, d)
                       + (h_e[direction] @ w_e.T + mlp[0].bias))
                msg = mlp[2](mlp[1](pre))
                mean, count = mean_by_receiver(msg, d, n)
                means.append(mean)
                counts.append(count)
            feats = [h, *means]
            if self.neighbour_counts:
                feats.append(torch.log1p(torch.stack(counts, dim=1)))
            h = h + net.aggr(torch.cat(feats, dim=1))
        return h

    def forward_graph(self, data: Data) -> Data:
        """The output graph: the input's ``edge_index`` and ``edge_attr``, with ``x`` the node states."""
        out = data.clone()
        out.x = self.node_states(data)
        return out

    def forward(self, data: Data) -> Tensor:
        h = self.expand(self.node_states(data))
        batch = getattr(data, "batch", None)
        if batch is None:
            return h.max(dim=0, keepdim=True).values
        return graph_max_pool(h, batch, int(data.num_graphs))
