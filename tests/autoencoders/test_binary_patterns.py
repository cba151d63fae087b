from __future__ import annotations

import numpy as np
import pytest

from deepcourse.autoencoders import binary_glyphs, digit_bitmaps


def test_glyphs_are_weakly_correlated_binary_patterns():
    xi, names = binary_glyphs(24)
    assert xi.shape == (6, 576) and len(names) == 6
    assert set(np.unique(xi)) == {-1.0, 1.0}
    m = xi @ xi.T / xi.shape[1]
    assert np.abs(m - np.eye(6)).max() <= 0.3
    with pytest.raises(ValueError, match="size"):
        binary_glyphs(4)


def test_digit_bitmaps_one_per_class():
    xi, names = digit_bitmaps()
    assert xi.shape == (10, 64) and names == [str(k) for k in range(10)]
    assert set(np.unique(xi)) == {-1.0, 1.0}
