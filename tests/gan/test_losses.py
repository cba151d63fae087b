"""Each GAN loss against its formula on hand-computed values (sigmoid(ln 3) = 0.75)."""

from __future__ import annotations

import math

import pytest
import torch

from deepcourse.gan import losses as L

LN3 = math.log(3.0)


def test_minimax_discriminator_loss_by_hand():
    # D(real) = (0.5, 0.75), D(fake) = (0.5, 0.25): -[mean log D(x) + mean log(1 - D(G(z)))]
    real, fake = torch.tensor([0.0, LN3]), torch.tensor([0.0, -LN3])
    expected = -(math.log(0.5) + math.log(0.75)) / 2 - (math.log(0.5) + math.log(0.75)) / 2
    assert L.d_loss_minimax(real, fake).item() == pytest.approx(expected, rel=1e-6)
    # equals torch's BCE with labels 1 / 0
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    ref = bce(real, torch.ones(2)) + bce(fake, torch.zeros(2))
    assert L.d_loss_minimax(real, fake).item() == pytest.approx(ref.item(), rel=1e-6)


def test_generator_losses_by_hand():
    fake = torch.tensor([0.0, -LN3])  # D(G(z)) = 0.5, 0.25
    assert L.g_loss_minimax(fake).item() == pytest.approx((math.log(0.5) + math.log(0.75)) / 2, rel=1e-6)
    assert L.g_loss_nonsaturating(fake).item() == pytest.approx(-(math.log(0.5) + math.log(0.25)) / 2, rel=1e-6)


def test_minimax_saturates_nonsaturating_does_not():
    """When D rejects a fake confidently (logit -10), log(1 - D) has almost no gradient; -log D has ~1."""
    z = torch.tensor([-10.0], requires_grad=True)
    (g1,) = torch.autograd.grad(L.g_loss_minimax(z), z)
    (g2,) = torch.autograd.grad(L.g_loss_nonsaturating(z), z)
    assert abs(g1.item()) < 1e-4 and abs(g2.item()) > 0.99


def test_logit_losses_are_finite_for_extreme_logits():
    big = torch.tensor([-200.0, 200.0])
    for v in (L.d_loss_minimax(big, big), L.g_loss_minimax(big), L.g_loss_nonsaturating(big)):
        assert torch.isfinite(v)


def test_lsgan_by_hand():
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    assert L.d_loss_lsgan(real, fake).item() == pytest.approx(0.5 * 0.5 + 0.5 * 2.0)
    assert L.g_loss_lsgan(fake).item() == pytest.approx(0.5 * (1 + 1) / 2)


def test_wasserstein_by_hand():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    assert L.critic_loss_wasserstein(real, fake).item() == pytest.approx(-1.0)  # -(2 - 1)
    assert L.g_loss_wasserstein(fake).item() == pytest.approx(-1.0)


def test_gradient_penalty_of_a_linear_critic():
    """f(x) = w.x has gradient norm |w| = 5 everywhere: penalty = 10 (5 - 1)^2 = 160."""
    w = torch.tensor([3.0, 4.0])
    critic = lambda x: x @ w  # noqa: E731
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert L.gradient_penalty(critic, real, fake, weight=10.0).item() == pytest.approx(160.0, rel=1e-5)
    # a unit-gradient critic is not penalised
    assert L.gradient_penalty(lambda x: x @ (w / 5), real, fake).item() == pytest.approx(0.0, abs=1e-8)


def test_gradient_penalty_interpolates_and_trains_the_critic():
    d = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    real, fake = torch.randn(4, 2), torch.randn(4, 2)
    gp = L.gradient_penalty(d, real, fake, alpha=torch.full((4,), 0.5))
    gp.backward()
    assert d[0].weight.grad is not None and d[2].weight.grad.abs().sum() > 0  # the output bias has no input gradient
    with pytest.raises(ValueError, match="same shape"):
        L.gradient_penalty(d, real, fake[:2])


def test_cgan_losses_by_hand():
    fake, target = torch.tensor([[1.0, 2.0]]), torch.zeros(1, 2)
    total, adv, l1 = L.cgan_g_loss(torch.tensor([0.0]), fake, target, lambda_l1=100.0)
    assert l1.item() == pytest.approx(1.5)
    assert adv.item() == pytest.approx(math.log(2.0))
    assert total.item() == pytest.approx(math.log(2.0) + 150.0)
    total, adv, _ = L.cgan_g_loss(None, fake, target, lambda_l1=1.0)  # the "L1 alone" ablation
    assert adv.item() == 0.0 and total.item() == pytest.approx(1.5)
    real_l, fake_l = torch.tensor([0.0]), torch.tensor([0.0])
    assert L.cgan_d_loss(real_l, fake_l).item() == pytest.approx(math.log(2.0))  # (2 log 2) / 2
    assert L.cgan_d_loss(real_l, fake_l, half=False).item() == pytest.approx(2 * math.log(2.0))
    with pytest.raises(ValueError, match="lambda_l1"):
        L.cgan_g_loss(None, fake, target, lambda_l1=-1)
