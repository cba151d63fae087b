"""WL subtree kernel against a case computed by hand, and the SVM selection."""

from __future__ import annotations

import numpy as np
import torch

from deepcourse.gnn import WLSVM, wl_kernel, wl_kernels, wl_labels

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
