"""Tests for deepcourse.rnn.trajectory: circle input, PCA projection, arc length, random networks."""

from __future__ import annotations

import math

import pytest
import torch

from deepcourse.rnn.trajectory import (TRAJECTORY_MODELS, arc_length, circle, latent_trajectory, mlp_states,
                                       pca_2d, recurrent_states, scale_free_length, trajectory_length)


def test_circle_has_length_two_pi():
    c = circle(1000)
    assert c.shape == (1000, 2)
    assert arc_length(c) == pytest.approx(2 * math.pi, rel=1e-4)
    assert trajectory_length(c) == pytest.approx(2 * math.pi, rel=1e-4)  # PCA of a 2-D curve is a rotation
    assert scale_free_length(7.0 * c + 3.0) == pytest.approx(2 * math.pi, rel=1e-3)  # any radius, any centre


def test_pca_keeps_a_planar_curve_embedded_in_more_dimensions():
    c = circle(200)
    q, _ = torch.linalg.qr(torch.randn(10, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    embedded = 3.0 * c @ q[:2] + 5.0  # scaled by 3, rotated into 10-D, shifted
    assert trajectory_length(embedded) == pytest.approx(3 * arc_length(c), rel=1e-9)
    assert pca_2d(torch.randn(5, 1, dtype=torch.float64)).shape == (5, 2)


def test_arc_length_of_a_polyline():
    assert arc_length(torch.tensor([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0]])) == pytest.approx(9.0)
    with pytest.raises(ValueError, match=r"\(T, d\)"):
        arc_length(torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"\(T, D\)"):
        pca_2d(torch.zeros(3))


def test_deep_random_mlps_stretch_the_circle():
    """Raghu et al. 2017: trajectory length grows with depth (here: mean over 4 random networks each)."""
    def mean_length(depth):
        return sum(trajectory_length(mlp_states(circle(100), depth, 25, sigma_w=4.0,
                                                generator=torch.Generator().manual_seed(s))) for s in range(4)) / 4
    assert mean_length(6) > 1.5 * mean_length(1)


@pytest.mark.parametrize("kind", TRAJECTORY_MODELS)
def test_every_model_gives_a_finite_trajectory_and_is_seeded(kind):
    proj, length = latent_trajectory(kind, steps=30, hidden=6, generator=torch.Generator().manual_seed(0))
    assert proj.shape == (30, 2) and math.isfinite(length) and length > 0
    _, again = latent_trajectory(kind, steps=30, hidden=6, generator=torch.Generator().manual_seed(0))
    assert again == length


def test_recurrent_states_shape_and_errors():
    assert recurrent_states("ltc", circle(12), 5).shape == (12, 5)
    with pytest.raises(ValueError, match="kind"):
        recurrent_states("mlp", circle(12), 5)
    with pytest.raises(ValueError, match="steps"):
        circle(1)
