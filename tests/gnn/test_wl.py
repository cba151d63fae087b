"""WL subtree kernel against a case computed by hand, and the SVM selection."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepcourse.gnn import WLSVM, wl_kernel, wl_kernels, wl_labels
from deepcourse.gnn.wl import C_GRID, normalise_kernel

torch_geometric = __import__("pytest").importorskip("torch_geometric")


def _path(labels):
    from torch_geometric.data import Data

    e = torch.tensor([[0, 1], [1, 2]]).T
    return Data(x=torch.nn.functional.one_hot(torch.tensor(labels), 2).float(), edge_index=torch.cat([e, e.flip(0)], 1))


def test_hand_computed_kernel():
    # G1 = path with labels 0-1-0, G2 = path with labels 0-0-1.
    # h = 0: both have two 0s and one 1 -> k(G1,G1) = k(G2,G2) = k(G1,G2) = 2*2 + 1*1 = 5.
    # h = 1: G1 relabels to {(0,{1}) x2, (1,{0,0})}, G2 to {(0,{0}), (0,{0,1}), (1,{0})}: nothing shared,
    #        so this iteration adds 2*2 + 1 = 5 to k(G1,G1), 1 + 1 + 1 = 3 to k(G2,G2) and 0 to k(G1,G2).
    g1, g2 = _path([0, 1, 0]), _path([0, 0, 1])
    np.testing.assert_array_equal(wl_kernel([g1, g2], 0), [[5, 5], [5, 5]])
    np.testing.assert_array_equal(wl_kernel([g1, g2], 1), [[10, 5], [5, 8]])
    ks = wl_kernels([g1, g2], 2)
    np.testing.assert_array_equal(ks[1], [[10, 5], [5, 8]])
    # h = 2 adds the counts of the iteration-2 labels: G1 {x2, y}, G2 three distinct labels, none shared
    np.testing.assert_array_equal(ks[2], [[15, 5], [5, 11]])


def test_labels_are_shared_across_graphs():
    labels = wl_labels([[0, 0], [0, 0]], [[[1], [0]], [[1], [0]]], 1)
    assert labels[1][0] == labels[1][1]  # isomorphic graphs get the same compressed labels


def test_svm_separates_two_kinds_of_graph():
    graphs = [_path([0, 1, 0]) for _ in range(10)] + [_path([0, 0, 1]) for _ in range(10)]
    y = np.array([0] * 10 + [1] * 10)
    ks = wl_kernels(graphs, 2)
    idx = np.random.default_rng(0).permutation(20)
    acc, h, C = WLSVM.fit_select(ks, y, idx[:12], idx[12:16], idx[16:])
    assert acc == 1.0 and h >= 1


def test_kernel_matches_networkx_wl_hashes():
    # An independent WL implementation: networkx hashes (label + sorted neighbour labels) at every iteration;
    # the subtree kernel counts, per iteration, the nodes of each colour, and sums the inner products.
    nx = pytest.importorskip("networkx")
    from collections import Counter

    from torch_geometric.data import Data

    rng = np.random.default_rng(0)
    graphs, nx_graphs = [], []
    for _ in range(12):
        n = int(rng.integers(3, 9))
        g = nx.gnp_random_graph(n, 0.35, seed=int(rng.integers(1 << 30)))
        labels = rng.integers(0, 3, n)
        nx.set_node_attributes(g, {v: str(labels[v]) for v in g.nodes}, "label")
        e = torch.tensor(list(g.edges), dtype=torch.long).reshape(-1, 2).T
        graphs.append(Data(x=torch.nn.functional.one_hot(torch.tensor(labels), 3).float(),
                           edge_index=torch.cat([e, e.flip(0)], 1), num_nodes=n))
        nx_graphs.append(g)
    h = 3
    counts = []
    for g in nx_graphs:
        hashes = nx.weisfeiler_lehman_subgraph_hashes(g, node_attr="label", iterations=h, include_initial_labels=True)
        counts.append(Counter((k, c) for v in g.nodes for k, c in enumerate(hashes[v])))
    ref = np.array([[sum(a[key] * b[key] for key in a) for b in counts] for a in counts], dtype=float)
    np.testing.assert_array_equal(wl_kernel(graphs, h), ref)
    np.testing.assert_array_equal(wl_kernels(graphs, h)[h], ref)
    assert not np.array_equal(wl_kernel(graphs, h - 1), ref)  # the last iteration adds something


def test_normalised_kernel_has_unit_diagonal():
    k = np.array([[4.0, 2.0], [2.0, 9.0]])
    np.testing.assert_allclose(normalise_kernel(k), [[1.0, 2.0 / 6.0], [2.0 / 6.0, 1.0]])
    assert len(C_GRID) == 7 and C_GRID[0] == 1e-3 and C_GRID[-1] == 1e3
