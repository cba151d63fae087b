"""The Graph Network block (Battaglia et al. 2018, "Relational inductive biases, deep learning, and graph
networks", arXiv:1806.01261, Algorithm 1) and the models the paper builds from it by configuration (Sec. 4.2).

A graph is ``(u, V, E)``: a global vector, node vectors, and edge vectors with sender ``s_k`` and receiver
``r_k``. One block computes, in order,

.. math::
    e'_k = \\phi^e(e_k, v_{r_k}, v_{s_k}, u), \\quad
    \\bar e'_i = \\rho^{e\\to v}(\\{e'_k\\}_{r_k = i}), \\quad
    v'_i = \\phi^v(\\bar e'_i, v_i, u), \\quad
    u' = \\phi^u(\\rho^{e\\to u}(E'), \\rho^{v\\to u}(V'), u).

Each φ is an MLP over the concatenation of the inputs it is configured to see; each ρ is ``sum``, ``mean`` or
``max``. :data:`CONFIGS` lists the configurations of Battaglia et al.'s Fig. 4:

* ``mpnn`` (Gilmer et al. 2017): φ^e sees (e, v_r, v_s), ρ^{e→v} sums, φ^v sees (ē, v), φ^u reads out V';
* ``full``: every input everywhere, the global attribute included;
* ``deep-sets`` (Zaheer et al. 2017): no edges; φ^v sees (v, u), φ^u sees ρ^{v→u}(V');
* ``relation-network`` (Santoro et al. 2017): edges are all ordered pairs; φ^e sees (v_r, v_s) only, nodes are
  not updated, φ^u sees ρ^{e→u}(E');
* ``non-local`` (Wang et al. 2018): a(v_r, v_s) gives an attention weight and φ^e a value β(v_s); ρ^{e→v} is
  the attention-weighted sum (softmax over each receiver's edges); v' = v + ē'.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from deepcourse.core import register_model

from .aggregation import AGGREGATIONS, aggregate, pool, softmax_by_index

__all__ = ["GNConfig", "CONFIGS", "GNBlock", "GraphNetwork", "complete_edges", "mlp"]


@dataclass(frozen=True)
class GNConfig:
    """Which inputs each update sees (``e``: edge, ``r``/``s``: receiver/sender node, ``u``: global,
    ``ebar``/``vbar``: aggregated edges/nodes, ``v``: node) and which aggregations are used."""

    edge_inputs: tuple[str, ...] = ("e", "r", "s")
    node_inputs: tuple[str, ...] = ("ebar", "v")
    global_inputs: tuple[str, ...] = ("vbar",)
    rho_ev: str = "sum"
    rho_eu: str = "sum"
    rho_vu: str = "sum"
    update_nodes: bool = True
    all_pairs: bool = False  # replace the graph's edges by every ordered pair of nodes of the same graph
    attention: bool = False  # non-local: softmax-weighted ρ^{e→v}
    residual: bool = True


CONFIGS = {
    "mpnn": GNConfig(),
    "full": GNConfig(edge_inputs=("e", "r", "s", "u"), node_inputs=("ebar", "v", "u"),
                     global_inputs=("ebar_u", "vbar", "u")),
    "deep-sets": GNConfig(edge_inputs=(), node_inputs=("v", "u"), global_inputs=("vbar",)),
    "relation-network": GNConfig(edge_inputs=("r", "s"), node_inputs=(), global_inputs=("ebar_u",),
                                 update_nodes=False, all_pairs=True),
    "non-local": GNConfig(edge_inputs=("s",), node_inputs=("ebar",), global_inputs=("vbar",),
                          all_pairs=True, attention=True),
}


def mlp(in_features: int, hidden: int, out_features: int, layers: int = 2) -> nn.Sequential:
    """``layers`` linear layers with ReLU between them, LayerNorm on the output (Battaglia et al.'s habit)."""
    dims = [in_features] + [hidden] * (layers - 1) + [out_features]
    mods: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        mods += [nn.Linear(a, b)] + ([nn.ReLU()] if k < len(dims) - 2 else [])
    return nn.Sequential(*mods, nn.LayerNorm(out_features))


def complete_edges(batch: torch.Tensor) -> torch.Tensor:
    """``(2, sum n_g^2 - n_g)`` edge index of every ordered pair of distinct nodes in the same graph."""
    same = batch.unsqueeze(0) == batch.unsqueeze(1)
    same.fill_diagonal_(False)
    return same.nonzero().T.contiguous()


class GNBlock(nn.Module):
    """One GN block of width ``dim`` (nodes, edges and the global share it); ``config`` a :class:`GNConfig`
    or a key of :data:`CONFIGS`. ``forward(v, e, u, edge_index, batch) -> (v', e', u')``."""

    def __init__(self, dim: int, config: GNConfig | str = "mpnn", hidden: int | None = None):
        super().__init__()
        cfg = CONFIGS[config] if isinstance(config, str) else config
        for rho in (cfg.rho_ev, cfg.rho_eu, cfg.rho_vu):
            if rho not in AGGREGATIONS:
                raise ValueError(f"aggregations must be in {AGGREGATIONS}, got {rho!r}")
        self.cfg, self.dim = cfg, dim
        hidden = hidden or dim
        self.phi_e = mlp(len(cfg.edge_inputs) * dim, hidden, dim) if cfg.edge_inputs else None
        self.att = nn.Linear(2 * dim, 1) if cfg.attention else None
        self.phi_v = mlp(len(cfg.node_inputs) * dim, hidden, dim) if cfg.update_nodes and cfg.node_inputs else None
        self.phi_u = mlp(len(cfg.global_inputs) * dim, hidden, dim) if cfg.global_inputs else None

    def forward(self, v: torch.Tensor, e: torch.Tensor | None, u: torch.Tensor, edge_index: torch.Tensor,
                batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        cfg, n, g = self.cfg, v.shape[0], u.shape[0]
        if v.dim() != 2 or v.shape[1] != self.dim:
            raise ValueError(f"node attributes must have shape (N, {self.dim}), got {tuple(v.shape)}")
        s, r = edge_index
        e_new = None
        if self.phi_e is not None:
            parts = {"e": e, "r": v[r], "s": v[s], "u": u[batch[r]]}
            if "e" in cfg.edge_inputs and e is None:
                raise ValueError("this GN configuration needs edge attributes e of shape (E, dim)")
            e_new = self.phi_e(torch.cat([parts[k] for k in cfg.edge_inputs], 1))
            if self.att is not None:  # non-local: ρ^{e→v} = Σ softmax(a(v_r, v_s)) β(v_s)
                w = softmax_by_index(self.att(torch.cat([v[r], v[s]], 1)).squeeze(1), r, n)
                e_new = e_new * w.unsqueeze(1)
            if cfg.residual and e is not None and "e" in cfg.edge_inputs:
                e_new = e_new + e
        ebar = aggregate(e_new, r, n, "sum" if cfg.attention else cfg.rho_ev) if e_new is not None else None
        v_new = v
        if self.phi_v is not None:
            parts = {"ebar": ebar, "v": v, "u": u[batch]}
            v_new = self.phi_v(torch.cat([parts[k] for k in cfg.node_inputs], 1))
            v_new = v_new + v if cfg.residual else v_new
        u_new = u
        if self.phi_u is not None:
            parts = {"vbar": aggregate(v_new, batch, g, cfg.rho_vu), "u": u,
                     "ebar_u": aggregate(e_new, batch[r], g, cfg.rho_eu) if e_new is not None else None}
            u_new = self.phi_u(torch.cat([parts[k] for k in cfg.global_inputs], 1))
            u_new = u_new + u if cfg.residual else u_new
        return v_new, e_new, u_new


@register_model("graph-network", example_input=lambda: (torch.randn(6, 5), torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]]),
                                                        torch.tensor([0, 0, 0, 1, 1, 1]), torch.randn(6, 2)),
                small={"in_features": 5, "edge_features": 2, "dim": 8, "out_features": 3, "blocks": 2, "config": "full"})
class GraphNetwork(nn.Module):
    """Encode nodes (and edges) to ``dim``, apply ``blocks`` GN blocks of one configuration, read out the global
    attribute (and the pooled nodes) with a linear head: graph-level logits or regression outputs."""

    takes_edge_attr = True  # training loops pass ``edge_attr`` (bond features) when the batch has it

    def __init__(self, in_features: int, dim: int, out_features: int, blocks: int = 3, config: str = "mpnn",
                 edge_features: int = 0, readout: str = "sum", dropout: float = 0.0):
        super().__init__()
        if config not in CONFIGS:
            raise ValueError(f"config must be one of {tuple(CONFIGS)}, got {config!r}")
        self.config, self.dim, self.readout, self.dropout = config, dim, readout, dropout
        self.enc_v = nn.Linear(in_features, dim)
        self.enc_e = nn.Linear(max(edge_features, 1), dim) if "e" in CONFIGS[config].edge_inputs else None
        self.edge_features = edge_features
        self.blocks = nn.ModuleList(GNBlock(dim, config) for _ in range(blocks))
        self.head = nn.Linear(2 * dim, out_features)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor | None = None,
                edge_attr: torch.Tensor | None = None) -> torch.Tensor:
        batch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device) if batch is None else batch
        g = int(batch.max()) + 1 if batch.numel() else 1
        if CONFIGS[self.config].all_pairs:
            edge_index, edge_attr = complete_edges(batch), None
        v, u = self.enc_v(x), x.new_zeros(g, self.dim)
        e = None
        if self.enc_e is not None:
            ea = edge_attr if edge_attr is not None and self.edge_features else x.new_ones(edge_index.shape[1], 1)
            e = self.enc_e(ea)
        for block in self.blocks:
            v, e, u = block(v, e, u, edge_index, batch)
        out = torch.cat([u, pool(v, batch, g, self.readout)], 1)
        return self.head(nn.functional.dropout(out, self.dropout, self.training))
