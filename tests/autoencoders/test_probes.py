from __future__ import annotations

import pytest
import torch

from deepcourse.autoencoders import linear_probe


def test_separable_codes_score_high_and_noise_scores_chance():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(400) % 4
    centres = 5 * torch.randn(4, 3, generator=g)
    z = centres[y] + 0.1 * torch.randn(400, 3, generator=g)  # (400, 3) well-separated clusters
    assert linear_probe(z[:300], y[:300], z[300:], y[300:]) == 1.0
    noise = torch.randn(400, 3, generator=g)
    assert linear_probe(noise[:300], y[:300], noise[300:], y[300:]) < 0.5


def test_subsample_and_shape_check():
    y = torch.arange(100) % 2
    z = y[:, None].float().repeat(1, 2)  # (100, 2)
    assert linear_probe(z, y, z, y, max_train=10, seed=1) == 1.0
    with pytest.raises(ValueError, match="pair up"):
        linear_probe(z, y[:50], z, y)
