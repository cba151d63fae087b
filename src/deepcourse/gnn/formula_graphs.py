"""S-expressions as graphs, under the transformations that Paliwal et al. (2020, Sec. 4) compare.

The abstract syntax tree (AST): a list ``(head x1 ... xk)`` is one node labelled ``head`` with children
``x1 ... xk``; an atom is a leaf labelled by itself (a list whose head is a list gets the label ``"()"``
and all its elements as children). So the AST of ``(a (v (fun A B) f) (v A x))`` (the notes' ``f(x)``) has
one node per atom, 9, and 8 edges; with leaf sharing the two ``A`` leaves are one node (8 nodes, 8 edges).

Transformations (:class:`GraphOptions`):

* ``sharing="leaves"``: equal leaves are one node; ``sharing="subexpressions"``: equal subexpressions are one
  node (hash-consing; the AST becomes a DAG, and leaves are shared too).
* ``blind=True``: every variable name becomes ``x`` (``(v T y)`` -> ``(v T x)``), before sharing.
* ``direction``: each parent->child edge carries messages both ways (``"both"``), only from parent to child
  (``"top-down"``) or only from child to parent (``"bottom-up"``).
* ``random_edges``: extra parent->child edges between random node pairs, ``round(rate * tree edges)`` of them
  (at least one when ``rate > 0``).

Edges form a set (a parent with two equal shared children, as in ``(fun num num)``, keeps one edge). In the
PyG :class:`~torch_geometric.data.Data`, ``edge_index[:, k] = (sender, receiver)`` is a message edge and
``edge_attr[k]`` its direction: 0 when the sender is the receiver's parent, 1 when it is its child.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import random
from dataclasses import dataclass, field

import torch
if TYPE_CHECKING:  # PyG is imported where it is used: importing it costs every CLI call ~2 s
    from torch_geometric.data import Data

from .hol import Sexp

__all__ = ["GraphOptions", "REPRESENTATIONS", "REPRESENTATION_NAMES", "FormulaGraph", "formula_graph",
           "blind_variables", "Vocabulary", "to_data", "graph_counts"]

FROM_PARENT, FROM_CHILD = 0, 1


@dataclass(frozen=True)
class GraphOptions:
    sharing: str = "none"  # "none" | "leaves" | "subexpressions"
    blind: bool = False
    direction: str = "both"  # "both" | "top-down" | "bottom-up"
    random_edges: float = 0.0

    def __post_init__(self):
        if self.sharing not in ("none", "leaves", "subexpressions"):
            raise ValueError(f"sharing must be none, leaves or subexpressions, got {self.sharing!r}")
        if self.direction not in ("both", "top-down", "bottom-up"):
            raise ValueError(f"direction must be both, top-down or bottom-up, got {self.direction!r}")
        if not self.random_edges >= 0:
            raise ValueError(f"random_edges must be a rate >= 0, got {self.random_edges!r}")


# The rows of Paliwal et al.'s hop table (our key: their label, the options).
REPRESENTATIONS = {
    "ast": GraphOptions(),
    "leaf": GraphOptions(sharing="leaves"),
    "leaf-blind": GraphOptions(sharing="leaves", blind=True),
    "subexpr": GraphOptions(sharing="subexpressions"),
    "subexpr-blind": GraphOptions(sharing="subexpressions", blind=True),
    "subexpr-random": GraphOptions(sharing="subexpressions", random_edges=0.1),
    "subexpr-topdown": GraphOptions(sharing="subexpressions", direction="top-down"),
    "subexpr-bottomup": GraphOptions(sharing="subexpressions", direction="bottom-up"),
}
REPRESENTATION_NAMES = {
    "ast": "Abstract syntax trees (AST)", "leaf": "Leaf sharing", "leaf-blind": "Leaf sharing + variable blinding",
    "subexpr": "Subexpression sharing", "subexpr-blind": "Subexpression sharing + variable blinding",
    "subexpr-random": "Subexpression sharing + random", "subexpr-topdown": "Subexpression sharing + top down",
    "subexpr-bottomup": "Subexpression sharing + bottom up",
}


def blind_variables(s: Sexp, name: str = "x") -> Sexp:
    """Every ``(v T y)`` becomes ``(v T x)`` (variable blinding)."""
    if isinstance(s, str):
        return s
    if len(s) == 3 and s[0] == "v" and isinstance(s[2], str):
        return ("v", blind_variables(s[1], name), name)
    return tuple(blind_variables(x, name) for x in s)


@dataclass
class FormulaGraph:
    """Node labels and the parent->child edges (tree edges first, then random ones)."""

    labels: list[str]
    edges: list[tuple[int, int]]
    n_tree_edges: int = 0
    options: GraphOptions = field(default_factory=GraphOptions)

    def message_edges(self) -> tuple[list[tuple[int, int]], list[int]]:
        """(sender, receiver) pairs and their directions, as the options' ``direction`` allows."""
        pairs, dirs = [], []
        if self.options.direction in ("both", "top-down"):
            pairs += self.edges
            dirs += [FROM_PARENT] * len(self.edges)
        if self.options.direction in ("both", "bottom-up"):
            pairs += [(c, p) for p, c in self.edges]
            dirs += [FROM_CHILD] * len(self.edges)
        return pairs, dirs


def formula_graph(s: Sexp, options: GraphOptions | str = "ast", seed: int = 0) -> FormulaGraph:
    """The graph of ``s`` under ``options`` (a :class:`GraphOptions` or a key of :data:`REPRESENTATIONS`);
    ``seed`` draws the random edges."""
    if isinstance(options, str) and options not in REPRESENTATIONS:
        raise ValueError(f"unknown representation {options!r}; known: {', '.join(REPRESENTATIONS)}")
    opts = REPRESENTATIONS[options] if isinstance(options, str) else options
    if opts.blind:
        s = blind_variables(s)
    labels: list[str] = []
    edges: dict[tuple[int, int], None] = {}
    memo: dict[Sexp, int] = {}

    def node(x: Sexp) -> int:
        shared = opts.sharing == "subexpressions" or (opts.sharing == "leaves" and isinstance(x, str))
        if shared and x in memo:
            return memo[x]
        i = len(labels)
        if isinstance(x, str):
            labels.append(x)
            kids: tuple = ()
        elif isinstance(x[0], str):
            labels.append(x[0])
            kids = x[1:]
        else:
            labels.append("()")
            kids = x
        if shared:
            memo[x] = i
        for k in kids:
            edges.setdefault((i, node(k)), None)
        return i

    if not (isinstance(s, str) or (isinstance(s, tuple) and s)):
        raise TypeError(f"expected an S-expression (str or non-empty tuple), got {type(s).__name__}")
    node(s)
    tree = list(edges)
    n = len(labels)
    if opts.random_edges > 0 and n > 1:
        rng = random.Random(seed)
        want, tries = max(1, round(opts.random_edges * len(tree))), 0
        while want > 0 and tries < 100 * (want + 1):
            tries += 1
            u, v = rng.randrange(n), rng.randrange(n)
            if u != v and (u, v) not in edges and (v, u) not in edges:
                edges[(u, v)] = None
                want -= 1
    return FormulaGraph(labels, list(edges), len(tree), opts)


class Vocabulary:
    """Token -> index, built from training labels; index 0 is ``<unk>`` for tokens never seen."""

    def __init__(self, tokens):
        self.itos = ["<unk>"] + sorted(set(tokens) - {"<unk>"})
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def __call__(self, labels: list[str]) -> torch.Tensor:
        return torch.tensor([self.stoi.get(t, 0) for t in labels], dtype=torch.long)


def to_data(g: FormulaGraph, vocab: Vocabulary) -> Data:
    """PyG ``Data``: ``x`` (N,) token ids, ``edge_index`` (2, E) sender -> receiver, ``edge_attr`` (E,) direction."""
    from torch_geometric.data import Data

    pairs, dirs = g.message_edges()
    ei = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).T.contiguous()
    return Data(x=vocab(g.labels), edge_index=ei, edge_attr=torch.tensor(dirs, dtype=torch.long),
                num_nodes=len(g.labels))


def graph_counts(s: Sexp, options: GraphOptions | str = "ast", seed: int = 0) -> dict[str, int]:
    """``nodes``, ``edges`` (parent->child edges, random ones included) and ``message_edges`` (what the GNN
    reads: both directions, or one) of ``s`` under one representation."""
    g = formula_graph(s, options, seed)
    return {"nodes": len(g.labels), "edges": len(g.edges), "message_edges": len(g.message_edges()[0])}
