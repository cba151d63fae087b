"""CycleGAN: least-squares losses, the 50-image history buffer feeding D, ablation variants, training."""

from __future__ import annotations

import pytest
import torch

from deepcourse.cnn import ResnetGenerator
from deepcourse.core import predict
from deepcourse.gan.cyclegan import CycleGANTrainer, ImageHistory, make_cyclegan, train_cyclegan
from deepcourse.gan.losses import g_loss_lsgan


def test_history_buffer_fills_then_mixes_old_and_new():
    pool = ImageHistory(50, seed=0)
    first = torch.arange(50.0).view(50, 1, 1, 1)
    assert torch.equal(pool.query(first), first) and len(pool) == 50  # filling: returned as given
    new = 100 + torch.arange(200.0).view(200, 1, 1, 1)
    out = pool.query(new)
    assert len(pool) == 50 and out.shape == new.shape
    from_history = (out != new).flatten()  # (200,) a stored image was returned in place of the new one
    assert 70 < from_history.sum() < 130  # about half the time (probability 1/2 per image)
    assert (out[from_history] < new[from_history]).all()  # always an image generated earlier
    # every stored image is one that was generated (old or new), none is lost twice
    stored = torch.stack(pool.images).flatten()
    assert set(stored.tolist()) <= set(first.flatten().tolist()) | set(new.flatten().tolist())
    # state round trip: the same future
    s = pool.state_dict()
    clone = ImageHistory(50, seed=123)
    clone.load_state_dict(s)
    probe = torch.full((20, 1, 1, 1), 999.0)
    assert torch.equal(clone.query(probe), pool.query(probe))
    assert torch.equal(ImageHistory(0).query(probe), probe)
    with pytest.raises(ValueError, match="size"):
        ImageHistory(-1)


def small(variant="full"):
    torch.manual_seed(0)
    return make_cyclegan(1, 1, variant, width=4, n_blocks=1, n_down=0, receptive_field=3, d_width=4, norm="none")


def test_variants_and_parts():
    m = small()
    assert isinstance(m.g_ab, ResnetGenerator) and m.d_a is not None and m.d_b is not None
    assert small("cycle").d_a is None
    with pytest.raises(ValueError, match="variant"):
        make_cyclegan(variant="both")


def test_step_feeds_d_from_the_history_buffer_and_combines_losses():
    m = small()
    opt_g = torch.optim.SGD([*m.g_ab.parameters(), *m.g_ba.parameters()], lr=0.0)
    opt_d = torch.optim.SGD([*m.d_a.parameters(), *m.d_b.parameters()], lr=0.0)
    step = CycleGANTrainer(m, opt_g, opt_d, lambda_cyc=10.0, lambda_id=0.5, pool_size=50)
    seen = []
    orig = step.pool_b.query
    step.pool_b.query = lambda imgs: seen.append(imgs.shape[0]) or orig(imgs)
    a, b = torch.rand(8, 1, 8, 8) * 2 - 1, torch.rand(8, 1, 8, 8) * 2 - 1
    out = step((a, b))
    assert seen == [8] and len(step.pool_a) == len(step.pool_b) == 8
    for _ in range(7):
        step((a, b))
    assert len(step.pool_b) == 50  # capped at 50 past fakes
    with torch.no_grad():
        fb, fa = m.g_ab(a), m.g_ba(b)
        # the paper's G term (D(G(x)) - 1)^2 is twice Mao's 1/2 (D - 1)^2
        adv = 2 * (g_loss_lsgan(m.d_b(fb)) + g_loss_lsgan(m.d_a(fa)))
        cyc = (m.g_ba(fb) - a).abs().mean() + (m.g_ab(fa) - b).abs().mean()
        idt = (m.g_ab(b) - b).abs().mean() + (m.g_ba(a) - a).abs().mean()
    out = step((a, b))
    assert out["g_loss"].item() == pytest.approx((adv + 10 * cyc + 0.5 * 10 * idt).item(), rel=1e-5)
    assert all(p.requires_grad for p in m.d_a.parameters())  # D unfrozen again after the G step
    gan_only = CycleGANTrainer(small("gan"), opt_g, opt_d)((a, b))
    assert "cycle" not in gan_only and "d_b_loss" in gan_only
    m_c = small("cycle")
    cyc_only = CycleGANTrainer(m_c, torch.optim.SGD(m_c.parameters(), lr=0.0), None)((a, b))
    assert "g_adv" not in cyc_only and "d_a_loss" not in cyc_only


def test_cycle_training_reduces_reconstruction_error():
    from deepcourse.metrics.generative import load_domain_data

    torch.manual_seed(0)
    x = load_domain_data("digits", "train")[0]
    xa, xb = x[:128], -x[128:256]  # digits and inverted digits: two unpaired domains, offline
    m = make_cyclegan(1, 1, "full", width=8, n_blocks=1, n_down=0, receptive_field=3, d_width=8, norm="none")

    def cycle_error():
        return float((predict(m.g_ba, predict(m.g_ab, xa)) - xa).abs().mean())

    before = cycle_error()
    metrics = train_cyclegan(m, xa, xb, epochs=8, batch_size=16, lr=5e-3)
    assert cycle_error() < 0.6 * before
    assert {"g_adv", "cycle", "d_a_loss", "d_b_loss"} <= set(metrics)
