"""Coulomb GAN pieces against the formulas of Unterthiner et al. 2018 on hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepcourse.gan import coulomb as C


def test_plummer_kernel_by_hand():
    a, b = torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    k = C.plummer_kernel(a, b, eps=1.0, d=2)  # 1 / (||a - b||^2 + 1)
    assert k.shape == (1, 2)
    assert k[0, 0].item() == pytest.approx(1 / 26)
    assert k[0, 1].item() == pytest.approx(1.0)
    assert C.plummer_kernel(a, b, eps=1.0, d=3)[0, 0].item() == pytest.approx(26 ** -1.5)
    assert C.plummer_kernel(a, b, eps=0.5, d=3)[0, 1].item() == pytest.approx(8.0)  # eps^-d at distance 0


def test_plummer_kernel_d1_is_the_authors_default():
    """The authors' code computes (r^2 + eps^2)^(-(dimension - 2)/2) with dimension = 3, eps = 1: our d = 1."""
    a, b = torch.randn(4, 5, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64)
    r2 = ((a[:, None] - b[None]) ** 2).sum(-1)
    assert torch.allclose(C.plummer_kernel(a, b, eps=1.0, d=1), (r2 + 1.0) ** (-(3 - 2) / 2))


def test_plummer_kernel_matches_a_loop():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    ref = np.array([[1 / np.sqrt(((x - y) ** 2).sum() + 0.3 ** 2) ** 3 for y in b] for x in a])
    got = C.plummer_kernel(torch.tensor(a), torch.tensor(b), eps=0.3, d=3).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_potential_by_hand():
    a = torch.tensor([[0.0, 0.0]])
    real, fake = torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 0.0]])
    # Phi(0) = k(0, 0) - k(0, (1, 0)) = 1 - 1/2 with eps = 1, d = 2
    assert C.coulomb_potential(a, real, fake, eps=1.0, d=2).item() == pytest.approx(0.5)
    # means over both sets
    real2 = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    assert C.coulomb_potential(a, real2, fake, 1.0, 2).item() == pytest.approx((1 + 1 / 26) / 2 - 0.5)


def test_potential_is_zero_when_the_distributions_match():
    x = torch.randn(10, 2)
    assert C.coulomb_potential(torch.randn(3, 2), x, x.clone()).abs().max().item() < 1e-12


def test_discriminator_and_generator_losses_by_hand():
    d_fake, phi_fake = torch.tensor([1.0]), torch.tensor([0.0])
    d_real, phi_real = torch.tensor([0.0, 2.0]), torch.tensor([1.0, 1.0])
    # 1/2 sum (D(x) - Phi(x))^2 + 1/2 sum (D(y) - Phi(y))^2 = 0.5 * 1 + 0.5 * 2
    assert C.coulomb_d_loss(d_real, d_fake, phi_real, phi_fake, reduction="sum").item() == pytest.approx(1.5)
    assert C.coulomb_d_loss(d_real, d_fake, phi_real, phi_fake).item() == pytest.approx(0.5)
    assert C.coulomb_g_loss(torch.tensor([2.0, 4.0])).item() == pytest.approx(-1.5)  # -1/2 * mean


def test_bad_arguments():
    with pytest.raises(ValueError, match="eps"):
        C.plummer_kernel(torch.zeros(1, 2), torch.zeros(1, 2), eps=0.0)
    with pytest.raises(ValueError, match="reduction"):
        C.coulomb_d_loss(torch.zeros(1), torch.zeros(1), torch.zeros(1), torch.zeros(1), reduction="avg")


def test_fakes_are_pushed_towards_reals_and_apart():
    """The field's gradient at a fake points to the nearby real and away from another fake."""
    real, fake = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 0.0], [-0.5, 0.0]])
    a = fake[:1].clone().requires_grad_(True)
    phi = C.coulomb_potential(a, real, fake, eps=0.5, d=3)
    (g,) = torch.autograd.grad(phi.sum(), a)
    assert g[0, 0] > 0  # uphill = towards the real at +x, away from the fake at -x


def test_peak_scaled_is_the_net_times_eps_to_the_minus_d():
    net = torch.nn.Linear(2, 1)
    d = C.PeakScaled(torch.nn.Sequential(net, torch.nn.Flatten(0)), eps=0.5, d=3)
    x = torch.randn(4, 2)
    assert torch.allclose(d(x), 8.0 * net(x).squeeze(1))  # 0.5^-3 = 8
    with pytest.raises(ValueError, match="eps"):
        C.PeakScaled(net, eps=0.0, d=3)


def test_peak_scaling_lets_d_reach_the_potential_of_a_collapsed_generator():
    """Issue 17's mechanism: the batch potential of a collapsed G spans hundreds (eps^-d = 512 here), an MLP starts
    near 0 and Adam moves weights by ~lr per step, so in 200 steps a plain D barely separates reals from fakes
    while the peak-scaled one fits the potential. (The same D, the same Adam; measured: relative error 0.70 vs
    0.17, reals-minus-fakes gap 50 vs 292 of 306.)"""
    from deepcourse.data import gaussian_grid
    from deepcourse.gan.networks import MLPDiscriminator

    eps, dim = 0.125, 3.0
    real = gaussian_grid(256, std=0.05, seed=0)[0] / 4  # gan-grid25's training coordinates
    fake = 0.3 + 0.05 * torch.randn(256, 2, generator=torch.Generator().manual_seed(1))  # a collapsed G
    pts = torch.cat([real, fake])
    phi = C.coulomb_potential(pts, real, fake, eps, dim)
    gap_phi = (phi[:256].mean() - phi[256:].mean()).item()
    assert gap_phi > 200
    fits = {}
    for scaled in (False, True):
        torch.manual_seed(0)
        net = MLPDiscriminator((2,), (32, 32, 32))
        d = C.PeakScaled(net, eps, dim) if scaled else net
        opt = torch.optim.Adam(d.parameters(), 1e-3, betas=(0.5, 0.999))
        for _ in range(200):
            out = d(pts)
            loss = C.coulomb_d_loss(out[:256], out[256:], phi[:256], phi[256:])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            out = d(pts)
        fits[scaled] = ((out - phi).norm() / phi.norm()).item(), (out[:256].mean() - out[256:].mean()).item()
    assert fits[True][0] < 0.3 and fits[True][1] > 0.8 * gap_phi
    assert fits[False][0] > 0.5 and fits[False][1] < 0.3 * gap_phi
