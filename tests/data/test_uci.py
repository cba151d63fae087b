"""The UCI tables of the mixup experiment: registered datasets, verified, split by load_splits."""

from __future__ import annotations

import pytest
import torch

from deepcourse.data import DataMissingError, load_splits
from deepcourse.data import load_uci


def test_missing_table_names_the_manifest(tmp_path):
    with pytest.raises(DataMissingError, match="MANIFEST"):
        load_uci("abalone", tmp_path)
    x, y = load_uci("iris")
    assert x.shape == (150, 4) and y.max() == 2
    with pytest.raises(ValueError, match="abalone"):
        load_uci("arcene")


def test_uci_tables_staged(data_root):
    if not (data_root / "uci").exists():
        pytest.skip("UCI tables not staged")
    x, y = load_uci("abalone", data_root)
    assert x.shape == (4177, 10) and int(y.max()) + 1 == 28
    x, y = load_uci("htru2", data_root)
    assert x.shape == (17898, 8) and torch.bincount(y).tolist() == [16259, 1639]
    s = load_splits("htru2", root=data_root)
    assert len(s.y_test) == 3580 and s.num_classes == 2  # a fixed stratified 20 % test split
    assert s.x_train.mean(0).abs().max() < 1e-4  # standardised on the training split
