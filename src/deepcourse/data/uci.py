"""The small UCI tables of the mixup experiment (Zhang et al. 2018, Table 4), registered as datasets
``abalone`` and ``htru2`` so that :func:`deepcourse.data.load_splits` serves them like any other
(verified by sha256, a fixed stratified 20 % test split, features standardised on the training split).
Iris comes from scikit-learn (``load_splits("iris")``).

* **Abalone** (Nash et al. 1994): 4,177 shells, sex (M/F/I, one-hot here) and 7 measurements; the class
  is the number of rings (1-29, 28 distinct values), as in Zhang et al. 2018's Table 4 (ERM error 74.0%).
* **HTRU2** (Lyon et al. 2016): 17,898 pulsar candidates, 8 statistics, class 1 = pulsar (1,639).

Both are staged under ``<data root>/uci/`` (see shared/data/MANIFEST.md, "Small UCI tables").
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import numpy as np

from .embedded import load_sklearn
from .registry import DatasetSpec, FileSpec, load_tensors, register_dataset

if TYPE_CHECKING:  # torch is imported inside the loaders: importing deepcourse.data stays cheap
    import torch

__all__ = ["load_uci", "UCI_TABLES"]

UCI_TABLES = ("abalone", "htru2", "iris")
_HOW = "Stage it as described in shared/data/MANIFEST.md, section 'Small UCI tables' (the folder uci/)."


def _tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))


def _abalone(ctx, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    with open(ctx.file("uci/abalone/abalone.csv"), newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    sex = np.array([[r[0] == s for s in "MFI"] for r in rows], dtype=np.float32)  # (N, 3) one-hot
    meas = np.array([[float(v) for v in r[1:8]] for r in rows], dtype=np.float32)  # (N, 7)
    _, y = np.unique(np.array([int(r[8]) for r in rows]), return_inverse=True)  # 28 ring counts -> 0..27
    return _tensors(np.concatenate([sex, meas], 1), y)


def _htru2(ctx, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    with open(ctx.file("uci/htru2/HTRU_2.csv"), newline="") as f:  # CR-only line endings: csv copes
        rows = list(csv.reader(f))
    data = np.array([[float(v) for v in r] for r in rows[1:] if r], dtype=np.float64)  # skip the header
    return _tensors(data[:, :8], data[:, 8])


register_dataset(DatasetSpec(
    name="abalone",
    description="UCI Abalone: 4,177 shells, sex + 7 measurements, 28 ring-count classes (no test split).",
    files=(FileSpec("uci/abalone/abalone.csv", "eb2de13be807e9bb9ec4128b9c89b98ab23d7739121cfd17b7dde69b46ba7bf6",
                    191872, urls=("https://raw.githubusercontent.com/jbrownlee/Datasets/"
                                  "d20fcb6402ae34e653d4513b00f39257bb37ed7f/abalone.csv",)),),
    licence="CC BY 4.0 (UCI)", loader=_abalone, kind="tabular-classification", splits=("train",),
    citation="Nash, Sellers, Talbot, Cawthorn & Ford (1994), The Population Biology of Abalone, UCI.",
    how_to_get=_HOW,
), replace=True)

register_dataset(DatasetSpec(
    name="htru2",
    description="UCI HTRU2: 17,898 pulsar candidates, 8 statistics, 2 classes (no test split).",
    files=(FileSpec("uci/htru2/HTRU_2.csv", "f8c97fed0487647ede91cc8709cdc3b9966df93a5adacf513e81780a42a21e47",
                    1730241, urls=("https://raw.githubusercontent.com/Surya8829/Pulsar_identification-HTRU2-data-/"
                                   "dd1f63aba3341a4004e67ac31a09ce5ea20edd70/HTRU_2.csv",)),),
    licence="CC BY 4.0 (UCI)", loader=_htru2, kind="tabular-classification", splits=("train",),
    citation="Lyon, Stappers, Cooper, Brooke & Knowles (2016), MNRAS 459(1).",
    how_to_get=_HOW,
), replace=True)


def load_uci(name: str, root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole table ``(x float32 (N, D), y int64 (N,))`` of ``abalone``, ``htru2`` or ``iris``, unscaled;
    labels are 0..K-1. Raises ``DataMissingError`` (naming the MANIFEST section) when a table is absent."""
    if name not in UCI_TABLES:
        raise ValueError(f"name must be one of {UCI_TABLES}, got {name!r}")
    if name == "iris":
        return load_sklearn("iris")
    return load_tensors(name, "train", root)
