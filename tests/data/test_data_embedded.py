from __future__ import annotations

import pytest
import torch

from deepcourse.data import load_sklearn

EXPECTED = {  # name: (n, d, number of classes or None for regression)
    "digits": (1797, 64, 10),
    "iris": (150, 4, 3),
    "wine": (178, 13, 3),
    "breast_cancer": (569, 30, 2),
    "diabetes": (442, 10, None),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_load_sklearn(name):
    n, d, k = EXPECTED[name]
    x, y = load_sklearn(name)
    assert x.shape == (n, d) and x.dtype == torch.float32
    assert y.shape == (n,)
    if k is None:
        assert y.dtype == torch.float32
    else:
        assert y.dtype == torch.int64
        assert sorted(y.unique().tolist()) == list(range(k))


def test_alias_and_unknown():
    assert load_sklearn("breast-cancer")[0].shape == (569, 30)
    with pytest.raises(ValueError, match="digits"):
        load_sklearn("mnist")
