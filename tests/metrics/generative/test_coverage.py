from __future__ import annotations

import pytest
import torch

from deepcourse.data import gaussian_grid, gaussian_grid_centres
from deepcourse.metrics.generative.coverage import mode_coverage


def test_coverage_by_hand():
    c = gaussian_grid_centres()  # (25, 2)
    on = c[:10].repeat_interleave(30, 0) + 0.01  # 30 samples on each of 10 modes (well within 3 sigma)
    few = c[10:12] + 0.0  # 1 sample on two more modes: below min_count
    off = torch.full((98, 2), 1.0)  # between modes (distance sqrt(2) from every centre)
    r = mode_coverage(torch.cat([on, few, off]), c, std=0.05)
    assert r["modes"] == 10
    assert r["high_quality"] == pytest.approx(100 * 302 / 400)


def test_real_data_covers_everything():
    x, _ = gaussian_grid(2500, std=0.05, seed=0)
    r = mode_coverage(x, gaussian_grid_centres(), std=0.05)
    assert r["modes"] == 25 and r["high_quality"] > 98 and r["kl_modes"] < 0.02


def test_collapse_to_one_mode():
    r = mode_coverage(torch.zeros(2500, 2), gaussian_grid_centres(), std=0.05)
    assert r["modes"] == 1 and r["high_quality"] == 100.0


def test_bad_input():
    with pytest.raises(ValueError, match="share D"):
        mode_coverage(torch.zeros(5, 3), gaussian_grid_centres(), std=0.05)
    with pytest.raises(ValueError, match="std"):
        mode_coverage(torch.zeros(5, 2), gaussian_grid_centres(), std=0)
