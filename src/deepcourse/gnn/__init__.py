"""Module 6: graph neural networks.

Message passing on real benchmarks (GCN, GIN, the Graph Network block and its MPNN / Deep Sets / Relation
Network / non-local configurations), Deep Sets, the second-order covariant compositional network (CCN), the
Weisfeiler-Lehman subtree kernel with an SVM, and molecule featurisation from SMILES; and, for the notes' use
case, formula graphs with the Paliwal et al. message-passing GNN. Everything runs on PyTorch Geometric's
``Data``/``Batch``/``MessagePassing`` alone: no ``torch_scatter``, ``torch_sparse``, ``torch_cluster`` or
``pyg-lib``. Experiments live in :mod:`deepcourse.gnn.experiments` (imported by the registry, not here).
"""

from __future__ import annotations

from .aggregation import AGGREGATIONS, aggregate, pool, softmax_by_index
from .ccn import CCN2D, CCNLevel, CONTRACTIONS, receptive_fields
from .deep_sets import DeepSets
from .formula_graphs import REPRESENTATIONS, GraphOptions, Vocabulary, formula_graph, graph_counts, to_data
from .formulas import FormulaProblem, formula_splits
from .gcn import GCN, GCNLayer, gcn_norm
from .gin import GIN, GINLayer, gin_mlp
from .gn_block import CONFIGS, GNBlock, GNConfig, GraphNetwork, complete_edges
from .hol import TACTICS, SexpError, parse, rewrite_applies, tactic_of, to_string
from .losses import pairwise_auc, pairwise_auc_loss, premise_loss, proof_step_loss, tactic_loss
from .molecules import ATOM_FEATURES, BOND_FEATURES, rdkit_available, smiles_to_graph, smiles_to_graphs
from .paliwal import PaliwalGNN
from .premise import PremiseSelector, evaluate_selector, problem_graphs, train_selector
from .training import GraphFit, graph_forward, graph_loader, train_graph_model, train_node_model
from .wl import WLSVM, wl_features, wl_kernel, wl_kernels, wl_labels

__all__ = [
    "AGGREGATIONS", "aggregate", "pool", "softmax_by_index",
    "CCN2D", "CCNLevel", "CONTRACTIONS", "receptive_fields",
    "DeepSets",
    "GCN", "GCNLayer", "gcn_norm",
    "GIN", "GINLayer", "gin_mlp",
    "CONFIGS", "GNBlock", "GNConfig", "GraphNetwork", "complete_edges",
    "ATOM_FEATURES", "BOND_FEATURES", "rdkit_available", "smiles_to_graph", "smiles_to_graphs",
    "GraphFit", "graph_forward", "graph_loader", "train_graph_model", "train_node_model",
    "WLSVM", "wl_features", "wl_kernel", "wl_kernels", "wl_labels",
    "REPRESENTATIONS", "GraphOptions", "Vocabulary", "formula_graph", "graph_counts", "to_data",
    "TACTICS", "FormulaProblem", "SexpError", "formula_splits", "parse", "rewrite_applies", "tactic_of", "to_string",
    "pairwise_auc", "pairwise_auc_loss", "premise_loss", "proof_step_loss", "tactic_loss",
    "PaliwalGNN", "PremiseSelector", "evaluate_selector", "problem_graphs", "train_selector",
]
