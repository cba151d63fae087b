"""Loaders for the small UCI tables of the mixup experiment (Abalone, HTRU2), staged under
``<data root>/uci/`` (see shared/data/MANIFEST.md, "Small UCI tables"). Iris comes from scikit-learn.

* **Abalone** (Nash et al. 1994): 4,177 shells, sex (M/F/I, one-hot here) and 7 measurements; the class
  is the number of rings (1-29, 28 distinct values), as in Zhang et al. 2018's Table 4 (ERM error 74.0%).
* **HTRU2** (Lyon et al. 2016): 17,898 pulsar candidates, 8 statistics, class 1 = pulsar (1,639).

Files are checked against the MANIFEST's sha256 once per process.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from deepcourse.data import DataCorruptError, DataMissingError, data_root, load_sklearn, sha256_file

__all__ = ["load_uci", "UCI_FILES", "UCI_TABLES"]

UCI_FILES = {
    "abalone": ("abalone/abalone.csv", "eb2de13be807e9bb9ec4128b9c89b98ab23d7739121cfd17b7dde69b46ba7bf6"),
    "htru2": ("htru2/HTRU_2.csv", "f8c97fed0487647ede91cc8709cdc3b9966df93a5adacf513e81780a42a21e47"),
}
UCI_TABLES = ("abalone", "htru2", "iris")
_VERIFIED: set[Path] = set()


def _path(name: str, root) -> Path:
    rel, digest = UCI_FILES[name]
    base = data_root(root) / "uci"
    p = base / rel
    if not p.exists():
        raise DataMissingError(
            f"UCI table {name!r} not found at {p}.\nStage it as described in shared/data/MANIFEST.md "
            f"('Small UCI tables') and point --data-dir or $DEEPCOURSE_DATA at the folder holding uci/.",
            dataset=f"uci-{name}", searched=[p], hint="see shared/data/MANIFEST.md, section 'Small UCI tables'")
    if p not in _VERIFIED:
        got = sha256_file(p)
        if got != digest:
            raise DataCorruptError(f"{p}: sha256 {got} does not match the MANIFEST's {digest}")
        _VERIFIED.add(p)
    return p


def load_uci(name: str, root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x float32 (N, D), y int64 (N,))`` for ``abalone``, ``htru2`` or ``iris``; labels are 0..K-1."""
    if name not in UCI_TABLES:
        raise ValueError(f"name must be one of {UCI_TABLES}, got {name!r}")
    if name == "iris":
        return load_sklearn("iris")
    p = _path(name, root)
    if name == "abalone":
        rows = list(csv.reader(open(p, newline="")))
        sex = np.array([[r[0] == s for s in "MFI"] for r in rows], dtype=np.float32)  # (N, 3) one-hot
        meas = np.array([[float(v) for v in r[1:8]] for r in rows], dtype=np.float32)  # (N, 7)
        rings = np.array([int(r[8]) for r in rows])
        _, y = np.unique(rings, return_inverse=True)  # 28 distinct ring counts -> classes 0..27
        x = np.concatenate([sex, meas], 1)
    else:
        with open(p, newline="") as f:  # CR-only line endings: csv handles them with newline=""
            rows = list(csv.reader(f))
        data = np.array([[float(v) for v in r] for r in rows[1:] if r], dtype=np.float64)  # skip the header
        x, y = data[:, :8].astype(np.float32), data[:, 8].astype(np.int64)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
