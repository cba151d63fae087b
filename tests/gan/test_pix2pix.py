"""pix2pix: objectives, the halved D loss, lambda_L1, dropout noise at test time, a short training run."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from deepcourse.cnn import UNet
from deepcourse.gan.patchgan import PatchGAN
from deepcourse.gan.pix2pix import OBJECTIVES, Pix2PixTrainer, make_pix2pix, train_pix2pix, translate


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: two threads on two shared cores are several times slower than one."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def small(objective: str, dropout: float = 0.5):
    torch.manual_seed(0)
    return make_pix2pix(1, 1, objective, depth=2, base_width=4, receptive_field=3, d_width=4, dropout=dropout)


def test_objectives_build_the_right_discriminator():
    assert small("L1").d is None
    assert small("GAN").d.in_channels == 1  # unconditional: D sees y only
    assert small("cGAN").d.in_channels == 2 and small("L1+cGAN").d.in_channels == 2  # D sees (x, y)
    m = small("L1+cGAN")
    assert isinstance(m.g, UNet) and isinstance(m.d, PatchGAN) and m.g.dropout_at_test
    assert set(OBJECTIVES) == {"L1", "GAN", "cGAN", "L1+GAN", "L1+cGAN"}
    with pytest.raises(ValueError, match="objective"):
        make_pix2pix(objective="L2")


def test_losses_match_their_formulas():
    m = small("L1+cGAN", dropout=0.0)
    x, y = torch.randn(4, 1, 8, 8).clamp(-1, 1), torch.randn(4, 1, 8, 8).clamp(-1, 1)
    with torch.no_grad():
        fake = m.g(x)
        real_logits = m.d(torch.cat([x, y], 1))
        fake_logits = m.d(torch.cat([x, fake], 1))
    bce = F.binary_cross_entropy_with_logits
    d_want = 0.5 * (bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits)))
    adv_want = bce(fake_logits, torch.ones_like(fake_logits))
    l1_want = (fake - y).abs().mean()
    sgd = lambda p: torch.optim.SGD(p, lr=0.0)  # noqa: E731  lr 0: the step must not move the weights
    out = Pix2PixTrainer(m, sgd(m.g.parameters()), sgd(m.d.parameters()), lambda_l1=100.0)((x, y))
    assert out["d_loss"].item() == pytest.approx(d_want.item(), rel=1e-5)  # D loss halved
    assert out["l1"].item() == pytest.approx(l1_want.item(), rel=1e-5)
    assert out["g_loss"].item() == pytest.approx((adv_want + 100 * l1_want).item(), rel=1e-5)
    out = Pix2PixTrainer(small("L1", 0.0), sgd(small("L1", 0.0).g.parameters()), None)((x, y))
    assert "d_loss" not in out and out["g_loss"].item() == pytest.approx(100 * out["l1"].item(), rel=1e-6)


def test_dropout_is_the_noise_at_test_time():
    m = small("L1+cGAN").eval()
    x = torch.randn(3, 1, 8, 8)
    a, b, c = translate(m, x, seed=0), translate(m, x, seed=0), translate(m, x, seed=1)
    assert torch.equal(a, b) and not torch.allclose(a, c)  # stochastic, reproducible with a seed
    m.g.dropout_at_test = False
    assert torch.equal(translate(m, x, seed=0), translate(m, x, seed=1))
    assert a.abs().max() <= 1  # tanh output


def test_short_training_fits_a_tiny_paired_set():
    from deepcourse.metrics.generative import load_domain_data

    torch.manual_seed(0)
    x = load_domain_data("digits", "train")[0][:64]
    y = -x  # a translation the U-Net can learn quickly
    m = make_pix2pix(1, 1, "L1+cGAN", depth=2, base_width=8, receptive_field=3, d_width=8, dropout=0.5)
    before = (translate(m, x) - y).abs().mean()
    metrics = train_pix2pix(m, x, y, epochs=15, batch_size=16, lr=2e-3)
    after = (translate(m, x) - y).abs().mean()
    assert after < 0.5 * before, (before, after)
    assert {"d_loss", "g_adv", "l1", "g_loss"} <= set(metrics)
    with pytest.raises(ValueError, match="same length"):
        train_pix2pix(m, x, y[:3], epochs=1)
