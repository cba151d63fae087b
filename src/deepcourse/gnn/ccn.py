"""Second-order covariant compositional network (Kondor, Son, Pan, Anderson & Trivedi 2018, "Covariant
compositional networks for learning graphs", arXiv:1801.02144; Hy et al. 2018, J. Chem. Phys. 148), in plain
vectorised PyTorch (the authors' code needs a compiled C++/CUDA extension).

Level 0 gives node ``i`` the receptive field :math:`P_i^0 = (i)` and the activation :math:`F_i^0 = x_i`
(a 1x1xC tensor). At level ℓ the receptive field is the union of the neighbours' fields,
:math:`P_i^\\ell = \\bigcup_{j \\in N(i) \\cup \\{i\\}} P_j^{\\ell-1}`, an *ordered* set (here sorted by node id),
and the activation :math:`F_i^\\ell` is an :math:`|P_i^\\ell| \\times |P_i^\\ell| \\times C` tensor indexed by it:

1. **Promotion**: each :math:`F_j^{\\ell-1}` is re-indexed by :math:`P_i^\\ell`,
   :math:`\\tilde F_j = \\chi^{i \\leftarrow j} F_j (\\chi^{i\\leftarrow j})^\\top` with
   :math:`\\chi_{ab} = [P_i[a] = P_j[b]]`, done here as a gather with a zero pad.
2. **Stacking** the promoted tensors along a third index c (the position of j in :math:`P_i`) gives
   :math:`T_{abc}`; the **adjacency restriction** :math:`A|_{P_i}` is the adjacency matrix of the field.
3. **Contractions** of :math:`T \\otimes A|_{P_i}` to second order (:data:`CONTRACTIONS`): sum over c,
   its elementwise and matrix products with :math:`A|_{P_i}`, the slices :math:`T_{aba}` and :math:`T_{aab}`,
   and the row sums (a first-order reduction) placed on the diagonal or broadcast along either index (these
   three pass through their linear map before being broadcast, which costs less and equals mixing after
   broadcasting). Each commutes with any reordering of
   :math:`P_i` (covariance, Definition 2 of the paper), so the stacked result is mixed by a learned linear
   map over channels and a ReLU: :math:`F_i^\\ell = \\sigma(W[\\ldots] + b)`.

Graph output: at each level the invariant sums :math:`\\sum_{ab} F_{ab}` and :math:`\\sum_a F_{aa}` of every node,
summed over the graph, concatenated over levels, into an MLP. Permuting the input graph permutes every
:math:`F_i^\\ell` by the matching reordering of its field and leaves the output unchanged
(``tests/gnn/test_ccn.py``). Fields are padded to the largest in the batch, so the cost grows with the
cube of the field size (``benchmarks/gnn.py`` fits the exponent).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from deepcourse.core import register_model

from .aggregation import check_graph, pool

__all__ = ["CCN2D", "CCNLevel", "CONTRACTIONS", "receptive_fields"]

CONTRACTIONS = ("sum_c", "sum_c*A", "A@sum_c", "T_aba", "T_aab", "diag(rowsum)", "rowsum_a", "rowsum_b")


@dataclass
class CCNLevel:
    """One level's activations: ``F (N, M, M, C)``, the fields ``P (N, M)`` (local node ids, padded with
    ``n_max``) and ``size (N,)`` (field lengths); rows and columns past ``size`` are zero."""

    F: torch.Tensor
    P: torch.Tensor
    size: torch.Tensor


def _dense(edge_index: torch.Tensor, batch: torch.Tensor, n_graphs: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Dense adjacency per graph ``(G, n, n)`` and each node's local id."""
    counts = torch.bincount(batch, minlength=n_graphs)
    start = torch.cumsum(counts, 0) - counts
    local = torch.arange(batch.numel(), device=batch.device) - start[batch]
    n = int(counts.max())
    adj = torch.zeros(n_graphs, n, n, device=batch.device)
    s, r = edge_index
    adj[batch[s], local[s], local[r]] = 1.0
    adj = torch.maximum(adj, adj.transpose(1, 2))  # fields use the undirected neighbourhood
    return adj, local, n


def receptive_fields(edge_index: torch.Tensor, batch: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Membership ``(N, n_max)`` bool of every node's field at levels ``0..levels`` (the ℓ-hop balls)."""
    n_graphs = int(batch.max()) + 1
    adj, local, n = _dense(edge_index, batch, n_graphs)
    reach = torch.eye(n, device=batch.device).expand(n_graphs, n, n)
    step = adj + torch.eye(n, device=batch.device)
    out = []
    for level in range(levels + 1):
        if level:
            reach = (step @ reach > 0).float()
        out.append(reach[batch, local] > 0)
    return out


class CCN2D(nn.Module):
    """Second-order CCN for graph classification or regression.

    Args:
        in_features: node feature size (``x (N, in_features)``).
        channels: C, the channels of every level's activations.
        out_features: logits or regression outputs per graph.
        levels: number of covariant levels after level 0 (the fields are ``levels``-hop balls).
        hidden: width of the output MLP.
    """

    def __init__(self, in_features: int, channels: int, out_features: int, levels: int = 2, hidden: int = 64,
                 dropout: float = 0.0):
        super().__init__()
        if levels < 1:
            raise ValueError(f"levels must be >= 1, got {levels}")
        self.in_features, self.channels, self.levels, self.dropout = in_features, channels, levels, dropout
        self.embed = nn.Linear(in_features, channels)
        self.mix = nn.ModuleList(nn.Linear(5 * channels, channels) for _ in range(levels))
        self.first_order = nn.ModuleList(nn.Linear(channels, 3 * channels, bias=False) for _ in range(levels))
        self.out = nn.Sequential(nn.Linear(2 * channels * (levels + 1), hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, out_features))

    def activations(self, x: torch.Tensor, edge_index: torch.Tensor,
                    batch: torch.Tensor | None = None) -> list[CCNLevel]:
        """Every level's :class:`CCNLevel` (level 0 first)."""
        check_graph(x, edge_index, self.in_features)
        batch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device) if batch is None else batch
        n_graphs = int(batch.max()) + 1
        adj, local, n_max = _dense(edge_index, batch, n_graphs)
        adj = adj.to(x.dtype)
        members = receptive_fields(edge_index, batch, self.levels)
        n = x.shape[0]
        # neighbourhood pairs (i <- j), j in N(i) ∪ {i}, from the undirected dense adjacency
        g, a, b = adj.nonzero(as_tuple=True)
        start = torch.cumsum(torch.bincount(batch, minlength=n_graphs), 0) - torch.bincount(batch, minlength=n_graphs)
        loops = torch.arange(n, device=x.device)
        dst = torch.cat([start[g] + a, loops])
        src = torch.cat([start[g] + b, loops])

        size = torch.ones(n, dtype=torch.long, device=x.device)
        levels = [CCNLevel(torch.relu(self.embed(x)).view(n, 1, 1, -1), local.view(n, 1), size)]
        for level, mix in enumerate(self.mix, start=1):
            prev, mem = levels[-1], members[level]
            size = mem.sum(1)
            m = int(size.max())
            order = torch.argsort((~mem).to(torch.int8), dim=1, stable=True)[:, :m]  # members first, ascending id
            valid = torch.arange(m, device=x.device) < size.unsqueeze(1)  # (N, M)
            P = torch.where(valid, order, torch.full_like(order, n_max))
            # position of each local vertex in the previous field of every node: (N, n_max + 1), -1 if absent
            m_prev = prev.F.shape[1]
            pos_prev = torch.full((n, n_max + 1), m_prev, dtype=torch.long, device=x.device)
            rows = torch.arange(n, device=x.device).unsqueeze(1).expand_as(prev.P)
            pv = torch.arange(m_prev, device=x.device).expand_as(prev.P)
            pos_prev[rows, prev.P] = pv
            pos_prev[:, n_max] = m_prev
            # promotion: F~_j[a, b] = F_j[pos_j(P_i[a]), pos_j(P_i[b])], zero where P_i[a] is not in P_j
            idx = pos_prev[src.unsqueeze(1), P[dst]]  # (E', M)
            Fpad = nn.functional.pad(prev.F, (0, 0, 0, 1, 0, 1))  # zero row / column at index m_prev
            k = m_prev + 1
            flat = (src.view(-1, 1, 1) * k + idx.unsqueeze(2)) * k + idx.unsqueeze(1)  # (E', M, M)
            Ft = Fpad.reshape(-1, Fpad.shape[-1]).index_select(0, flat.reshape(-1)).view(*flat.shape, -1)
            # position of j in P_i: the slot c of the stacked T_{abc}
            pos_cur = torch.full((n, n_max + 1), -1, dtype=torch.long, device=x.device)
            pos_cur[torch.arange(n, device=x.device).unsqueeze(1).expand_as(P), P] = torch.arange(m, device=x.device)
            c = pos_cur[dst, local[src]]  # (E',)
            deg = torch.bincount(dst, minlength=n).clamp_min(1).to(x.dtype).view(n, 1, 1, 1)
            S = torch.zeros(n, m, m, Ft.shape[-1], device=x.device, dtype=x.dtype).index_add_(0, dst, Ft) / deg
            A = adj[batch.view(-1, 1, 1), P.clamp(max=n_max - 1).unsqueeze(2), P.clamp(max=n_max - 1).unsqueeze(1)]
            A = A * (valid.unsqueeze(2) & valid.unsqueeze(1))  # (N, M, M): A restricted to the field
            ar = torch.arange(m, device=x.device)
            row = torch.zeros_like(S)
            row[dst, c] = Ft[torch.arange(len(c), device=x.device), c]  # T_{a b a}: row a of F~ at j = P_i[a]
            diag = torch.zeros_like(S)
            diag[dst, :, c] = Ft[:, ar, ar]  # T_{a a b}: the diagonal of F~ at j = P_i[b], as column b
            fs = size.to(x.dtype).view(n, 1, 1)
            rowsum = S.sum(2) / fs  # (N, M, C): first-order reduction of sum_c
            z = mix(torch.cat([S, S * A.unsqueeze(3), torch.einsum("nab,nbcz->nacz", A, S) / fs.unsqueeze(3),
                               row, diag], 3))
            r_diag, r_row, r_col = self.first_order[level - 1](rowsum).chunk(3, dim=2)  # linear maps of rowsum
            z = z + r_row.unsqueeze(2) + r_col.unsqueeze(1)  # broadcast along b, along a
            z = z + torch.diag_embed(r_diag.transpose(1, 2)).permute(0, 2, 3, 1)  # placed on the diagonal
            mask = (valid.unsqueeze(2) & valid.unsqueeze(1)).unsqueeze(3).to(x.dtype)
            F = torch.relu(z) * mask
            levels.append(CCNLevel(F, P, size))
        return levels

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor | None = None) -> torch.Tensor:
        levels = self.activations(x, edge_index, batch)
        feats = []
        for lv in levels:
            fs = lv.size.to(x.dtype).view(-1, 1)
            total = lv.F.sum((1, 2)) / fs ** 2
            trace = torch.diagonal(lv.F, dim1=1, dim2=2).sum(2) / fs
            feats.append(torch.cat([total, trace], 1))
        n = None if batch is None else int(batch.max()) + 1
        return self.out(pool(torch.cat(feats, 1), batch, n, "sum"))


register_model("ccn-2d", example_input=lambda: (torch.randn(6, 5), torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]]),
                                                torch.tensor([0, 0, 0, 1, 1, 1])),
               small={"in_features": 5, "channels": 4, "out_features": 3, "levels": 2, "hidden": 8})(CCN2D)
