from __future__ import annotations

import math

import pytest
import torch

from deepcourse.gan import latent as LT
from deepcourse.gan.networks import MLPGenerator


def test_lerp_endpoints_and_midpoint():
    z0, z1 = torch.tensor([0.0, 2.0]), torch.tensor([2.0, 0.0])
    p = LT.lerp(z0, z1, 3)
    assert p.shape == (3, 2)
    torch.testing.assert_close(p[1], torch.tensor([1.0, 1.0]))
    torch.testing.assert_close(p[0], z0)
    torch.testing.assert_close(p[-1], z1)


def test_slerp_by_hand_and_norm():
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    p = LT.slerp(z0, z1, 3)
    torch.testing.assert_close(p[1], torch.tensor([1 / math.sqrt(2), 1 / math.sqrt(2)]))  # on the unit circle
    torch.testing.assert_close(p[0], z0)
    torch.testing.assert_close(p[-1], z1)
    a, b = torch.randn(64), torch.randn(64)
    b = b / b.norm() * a.norm()
    norms = LT.slerp(a, b, 9).norm(dim=1)
    torch.testing.assert_close(norms, torch.full((9,), a.norm().item()), rtol=1e-5, atol=1e-5)
    assert LT.lerp(a, b, 9).norm(dim=1)[4] < 0.9 * a.norm()  # lerp cuts through the low-norm interior


def test_slerp_parallel_falls_back_to_lerp():
    z = torch.tensor([1.0, 2.0])
    torch.testing.assert_close(LT.slerp(z, 2 * z, 3), LT.lerp(z, 2 * z, 3))


def test_interpolate_uses_the_generator():
    g = MLPGenerator(4, (8,), (1, 2, 2), tanh=True)
    out = LT.interpolate(g, torch.zeros(4), torch.ones(4), steps=5, method="lerp")
    assert out.shape == (5, 1, 2, 2)
    with pytest.raises(ValueError, match="method"):
        LT.interpolate(g, torch.zeros(4), torch.ones(4), method="cubic")
    with pytest.raises(ValueError, match="steps"):
        LT.lerp(torch.zeros(2), torch.ones(2), 1)


def test_latent_arithmetic():
    za, zb, zc = torch.ones(3, 2), torch.zeros(2, 2), torch.tensor([[1.0, -1.0], [3.0, 1.0]])
    out = LT.latent_arithmetic(za, zb, zc, jitter=0.25, n_jitter=4, generator=torch.Generator().manual_seed(0))
    assert out.shape == (5, 2)
    torch.testing.assert_close(out[0], torch.tensor([3.0, 1.0]))  # 1 - 0 + 2, 1 - 0 + 0
    assert (out[1:] - out[0]).abs().max() <= 0.25


def test_nearest_neighbours_match_brute_force():
    train, samples = torch.randn(50, 1, 3, 3), torch.randn(7, 1, 3, 3)
    idx, dist = LT.nearest_neighbours(samples, train, chunk=8)
    d = torch.cdist(samples.reshape(7, -1), train.reshape(50, -1))
    torch.testing.assert_close(idx, d.argmin(1))
    torch.testing.assert_close(dist, d.min(1).values)
    panel = LT.nearest_neighbour_panel(samples, train)
    assert panel.shape == (14, 1, 3, 3)
    torch.testing.assert_close(panel[1], train[idx[0]])
