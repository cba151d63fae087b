"""Tests of deepcourse.gnn.formula_graphs: node and edge counts per representation on hand examples."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch

from deepcourse.gnn.formula_graphs import (REPRESENTATIONS, GraphOptions, Vocabulary, blind_variables, formula_graph,
                                           graph_counts, to_data)
from deepcourse.gnn.formulas import parse

X_EQ_X = parse("(a (a (c (fun N (fun N B)) =) (v N x)) (v N x))")  # the notes' axiom body x = x
X_EQ_Y = parse("(a (a (c (fun N (fun N B)) =) (v N x)) (v N y))")


def counts(s, **kw):
    c = graph_counts(s, GraphOptions(**kw))
    return c["nodes"], c["edges"], c["message_edges"]


def test_notes_example_f_of_x():
    fx = parse("(a (v (fun A B) f) (v A x))")
    assert counts(fx) == (9, 8, 16)  # one node per atom, a tree
    assert counts(fx, sharing="leaves") == (8, 8, 16)  # the two A leaves merge; v -> A from two parents


def test_counts_per_transformation_by_hand():
    # AST: 15 atoms -> 15 nodes, 14 edges, each carrying messages both ways
    assert counts(X_EQ_X) == (15, 14, 28)
    # leaf sharing: leaves N (x4), B, =, x (x2) become 4 nodes; 7 internal nodes; no two edges coincide
    assert counts(X_EQ_X, sharing="leaves") == (11, 14, 28)
    # subexpression sharing: the two (v N x) are one node, so a0 -> v and a1 -> v share it; v -> N, v -> x once
    assert counts(X_EQ_X, sharing="subexpressions") == (10, 12, 24)
    assert counts(X_EQ_X, sharing="subexpressions", direction="top-down") == (10, 12, 12)
    assert counts(X_EQ_X, sharing="subexpressions", direction="bottom-up") == (10, 12, 12)
    # x = y: the variables differ, until blinding makes them equal again
    assert counts(X_EQ_Y, sharing="subexpressions") == (12, 14, 28)
    assert counts(X_EQ_Y, sharing="subexpressions", blind=True) == (10, 12, 24)
    assert counts(X_EQ_Y, sharing="leaves") == (12, 14, 28)
    assert counts(X_EQ_Y, sharing="leaves", blind=True) == (11, 14, 28)
    # random edges: round(0.1 * 12) = 1 more edge
    assert counts(X_EQ_X, sharing="subexpressions", random_edges=0.1) == (10, 13, 26)
    assert counts(X_EQ_X, sharing="subexpressions", random_edges=0.5) == (10, 18, 36)


def test_structure_and_directions():
    g = formula_graph(X_EQ_X, "subexpr")
    assert g.labels[0] == "a" and sorted(set(g.labels)) == sorted({"a", "c", "fun", "N", "B", "=", "v", "x"})
    v = g.labels.index("v")
    assert sum(1 for p, c in g.edges if c == v) == 2  # the shared variable node has two parents
    vocab = Vocabulary(g.labels)
    d = to_data(g, vocab)
    assert d.x.dtype == torch.long and d.x.shape == (10,)
    assert d.edge_index.shape == (2, 24) and d.edge_attr.tolist() == [0] * 12 + [1] * 12
    assert torch.equal(d.edge_index[:, 12:], d.edge_index[:, :12].flip(0))  # child -> parent mirrors parent -> child
    td = to_data(formula_graph(X_EQ_X, "subexpr-topdown"), vocab)
    assert td.edge_attr.tolist() == [0] * 12
    bu = to_data(formula_graph(X_EQ_X, "subexpr-bottomup"), vocab)
    assert bu.edge_attr.tolist() == [1] * 12 and torch.equal(bu.edge_index, td.edge_index.flip(0))
    assert vocab(["never-seen", "a"]).tolist() == [0, vocab.stoi["a"]]
    b = Batch.from_data_list([d, td])
    assert b.num_graphs == 2 and b.x.shape == (20,)


def test_blinding_and_random_edges_are_seeded():
    assert blind_variables(X_EQ_Y) == X_EQ_X
    a = formula_graph(X_EQ_X, GraphOptions(sharing="subexpressions", random_edges=0.5), seed=3)
    b = formula_graph(X_EQ_X, GraphOptions(sharing="subexpressions", random_edges=0.5), seed=3)
    assert a.edges == b.edges and a.n_tree_edges == 12
    assert all(u != v for u, v in a.edges)


def test_every_named_representation_converts():
    for name in REPRESENTATIONS:
        d = to_data(formula_graph(X_EQ_Y, name), Vocabulary(["a", "v"]))
        assert d.num_nodes >= 10 and d.edge_index.max() < d.num_nodes


def test_bad_options():
    with pytest.raises(ValueError, match="sharing"):
        GraphOptions(sharing="all")
    with pytest.raises(ValueError, match="direction"):
        GraphOptions(direction="sideways")
    with pytest.raises(ValueError, match="unknown representation"):
        formula_graph(X_EQ_X, "dag")
