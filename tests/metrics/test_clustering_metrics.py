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
    with pytest.raises(TypeError, match="integer or string"):
        cluster_acc([0.0, np.nan], [0, 1])
    with pytest.raises(TypeError, match="integer or string"):
        cluster_acc(np.array([1 + 2j, 0j]), [0, 1])
    with pytest.raises(TypeError, match="integer or string"):
        nmi([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        ari([], [])


def test_large_ids_are_relabelled_first():
    # ids {0, 10**5}: the table is 2 x 2 (it used to be sized by the largest id: 10**5 x 10**5 int64, 75 GiB)
    t = np.array([0, 0, 10**5, 10**5, 10**5])
    p = np.array([10**9, 10**9, 7, 7, 10**9])
    assert contingency(t, p).shape == (2, 2)
    assert cluster_acc(t, p) == pytest.approx(4 / 5)
    assert cluster_acc(t, p) == pytest.approx(brute_force_acc(np.unique(t, return_inverse=True)[1],
                                                              np.unique(p, return_inverse=True)[1]))
    assert cluster_mapping(t, p) == {7: 10**5, 10**9: 0}
    assert cluster_acc([-1, -1, 3], [5, 5, -2]) == 1.0  # negative ids (e.g. DBSCAN's noise label) are ids too


def test_string_labels_as_sklearn_accepts_them():
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    t = ["cat", "cat", "dog", "dog", "emu"]
    p = ["b", "b", "a", "c", "a"]
    assert cluster_acc(t, p) == pytest.approx(cluster_acc([0, 0, 1, 1, 2], [1, 1, 0, 2, 0]))
    assert cluster_mapping(t, ["x", "x", "y", "y", "z"]) == {"x": "cat", "y": "dog", "z": "emu"}
    assert nmi(t, p) == pytest.approx(normalized_mutual_info_score(t, p))
    assert ari(t, p) == pytest.approx(adjusted_rand_score(t, p))
    assert cluster_acc(np.array(t, dtype=object), p) == cluster_acc(t, p)
