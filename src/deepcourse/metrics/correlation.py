"""Rank correlation: the one Spearman coefficient the experiments report."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["spearman"]


def _ranks(v: np.ndarray) -> np.ndarray:
    """Average ranks (1-based), ties sharing the mean of the ranks they span."""
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v), dtype=np.float64)
    sorted_v = v[order]
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i:j + 1]] = 0.5 * (i + j) + 1.0
        i = j + 1
    return ranks


def spearman(a: Any, b: Any) -> float:
    """Spearman's rank correlation rho of two equally long sequences (lists, arrays or tensors).

    rho is Pearson's correlation of the ranks (Spearman 1904); ties get their average rank, as in
    ``scipy.stats.spearmanr``. Returns ``nan`` for fewer than 3 pairs or when either side is constant
    (the coefficient is undefined there, and a floor on it must then fail rather than pass).
    """
    x = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=np.float64).ravel()
    y = np.asarray(b.detach().cpu() if hasattr(b, "detach") else b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"spearman needs two sequences of one length, got {x.shape[0]} and {y.shape[0]}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("spearman: the inputs hold nan or inf")
    if len(x) < 3:
        return float("nan")
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = float(np.sqrt((rx @ rx) * (ry @ ry)))
    return float(rx @ ry / denom) if denom > 0 else float("nan")
