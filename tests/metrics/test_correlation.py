import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from deepcourse.metrics import spearman


def test_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, 30).astype(float)
    b = a + rng.normal(size=30)
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)


def test_monotone_and_reversed():
    x = torch.arange(10.0)
    assert spearman(x, x ** 3) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)


def test_undefined_cases_are_nan_and_bad_input_raises():
    assert np.isnan(spearman([1, 2], [2, 1]))
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match="one length"):
        spearman([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="nan"):
        spearman([1, float("nan"), 3], [1, 2, 3])
