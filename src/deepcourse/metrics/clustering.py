"""Clustering metrics: unsupervised accuracy (Hungarian matching), NMI and ARI.

``cluster_acc`` is the metric of Xie, Girshick & Farhadi (2016, Sec. 5.2):

    ACC = max_m (1/n) sum_i 1{l_i = m(c_i)}

where ``m`` ranges over one-to-one maps from cluster ids to class labels. The best map is a
linear assignment problem on the contingency matrix (Kuhn 1955, the Hungarian method), solved
here with :func:`scipy.optimize.linear_sum_assignment`. With more clusters than classes (or
fewer) the matrix is rectangular; clusters left unmatched count as wrong, which is the usual
convention (a cluster may not borrow a label already taken by another).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["cluster_acc", "cluster_mapping", "contingency", "nmi", "ari"]


def _labels(a: Any, name: str) -> np.ndarray:
    """A 1-D array of labels: integers, booleans or strings (any ids, as scikit-learn accepts);
    floats only when they hold whole numbers."""
    try:
        import torch

        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got shape {arr.shape}")
    if arr.size and arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(np.equal(np.mod(arr, 1), 0)):
            raise TypeError(f"{name} must hold integer or string labels, got dtype {arr.dtype} with fractional "
                            f"or non-finite values")
        arr = arr.astype(np.int64)
    elif arr.size and arr.dtype.kind not in "iubUSO":
        raise TypeError(f"{name} must hold integer or string labels, got dtype {arr.dtype}")
    if arr.dtype.kind == "O":
        arr = arr.astype(str)  # mixed Python objects: compare by their text, as np.unique needs one order
    return arr


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {t.shape[0]} and {p.shape[0]}")
    if t.size == 0:
        raise ValueError("y_true and y_pred are empty")
    return t, p


def _contingency(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, p = _pair(y_true, y_pred)
    classes, ti = np.unique(t, return_inverse=True)  # relabel to 0..C-1: the table is (K, C), whatever the ids
    clusters, pi = np.unique(p, return_inverse=True)
    w = np.zeros((len(clusters), len(classes)), dtype=np.int64)
    np.add.at(w, (pi, ti), 1)  # vectorised histogram over (cluster, label) pairs
    return w, clusters, classes


def contingency(y_true: Any, y_pred: Any) -> np.ndarray:
    """Counts ``w[i, j]`` of samples in the i-th distinct cluster id with the j-th distinct label (both in
    sorted order), shape (number of clusters, number of classes): ids {0, 10**5} take a 2 x 2 table."""
    return _contingency(y_true, y_pred)[0]


def cluster_mapping(y_true: Any, y_pred: Any) -> dict[Any, Any]:
    """The cluster id -> label map that maximises the number of agreements (Hungarian method)."""
    from scipy.optimize import linear_sum_assignment

    w, clusters, classes = _contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(w, maximize=True)
    return {clusters[r].item(): classes[c].item() for r, c in zip(rows, cols)}


def cluster_acc(y_true: Any, y_pred: Any) -> float:
    """Unsupervised clustering accuracy in [0, 1] (Xie et al. 2016, Sec. 5.2), best one-to-one matching.

    Labels may be any integer or string ids; they are relabelled to 0..K-1 first, so the cost is set by the
    number of distinct labels, not by their values."""
    from scipy.optimize import linear_sum_assignment

    w = contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(w, maximize=True)
    return float(w[rows, cols].sum() / w.sum())


def nmi(y_true: Any, y_pred: Any) -> float:
    """Normalised mutual information (arithmetic normalisation, scikit-learn's default)."""
    from sklearn.metrics import normalized_mutual_info_score

    t, p = _pair(y_true, y_pred)
    return float(normalized_mutual_info_score(t, p))


def ari(y_true: Any, y_pred: Any) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985): 0 for chance, 1 for identical partitions."""
    from sklearn.metrics import adjusted_rand_score

    t, p = _pair(y_true, y_pred)
    return float(adjusted_rand_score(t, p))
