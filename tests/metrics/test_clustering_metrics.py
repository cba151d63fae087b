from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepcourse.metrics.clustering import ari, cluster_acc, cluster_mapping, contingency, nmi


def brute_force_acc(y_true, y_pred) -> float:
    """Try every injective map from clusters to labels (or labels to clusters)."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    k, c = int(p.max()) + 1, int(t.max()) + 1
    best = 0
    if k <= c:
        maps = itertools.permutations(range(c), k)  # cluster i -> label m[i]
        for m in maps:
            best = max(best, int((np.asarray(m)[p] == t).sum()))
    else:
        for m in itertools.permutations(range(k), c):  # label j -> cluster m[j]
            best = max(best, int((np.asarray(m)[t] == p).sum()))
    return best / len(t)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 30), st.integers(0, 10_000))
def test_cluster_acc_matches_brute_force(n_classes, n_clusters, n, seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, n_classes, n)
    p = rng.integers(0, n_clusters, n)
    assert cluster_acc(t, p) == pytest.approx(brute_force_acc(t, p))


def test_cluster_acc_known_values():
    t = [0, 0, 1, 1, 2, 2]
    assert cluster_acc(t, [2, 2, 0, 0, 1, 1]) == 1.0  # relabelling is free
    assert cluster_acc(t, [0, 0, 0, 0, 0, 0]) == pytest.approx(2 / 6)  # one cluster takes one label
    assert cluster_acc(t, [0, 1, 2, 3, 4, 5]) == pytest.approx(3 / 6)  # more clusters than classes
    assert cluster_acc(torch.tensor(t), torch.tensor([1, 1, 0, 0, 2, 2])) == 1.0
    assert cluster_mapping(t, [2, 2, 0, 0, 1, 1]) == {0: 1, 1: 2, 2: 0}
    assert contingency([0, 1, 1], [1, 1, 0]).tolist() == [[0, 1], [1, 1]]


def test_nmi_ari():
    t = [0, 0, 1, 1]
    assert nmi(t, [1, 1, 0, 0]) == pytest.approx(1.0)
    assert ari(t, [1, 1, 0, 0]) == pytest.approx(1.0)
    assert ari(t, [0, 1, 0, 1]) < 0.0
    assert nmi(t, [0, 1, 0, 1]) == pytest.approx(0.0, abs=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="same length"):
        cluster_acc([0, 1], [0])
    with pytest.raises(ValueError, match="y_pred"):
        cluster_acc([0, 1], [[0, 1]])
    with pytest.raises(ValueError, match=">= 0"):
        cluster_acc([0, -1], [0, 1])
    with pytest.raises(TypeError, match="integer"):
        nmi([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        ari([], [])
