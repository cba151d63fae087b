"""Training procedures: update schedules (k, n_critic), clipping, and that each one learns a 1-D target."""

from __future__ import annotations

import pytest
import torch

from deepcourse.gan.networks import MLPDiscriminator, MLPGenerator
from deepcourse.gan.training import (CoulombStep, GANStep, WGANStep, generate, train_gan, wgan_gp_optimizers,
                                     wgan_optimizers)


def _pair(seed=0):
    torch.manual_seed(seed)
    return MLPGenerator(2, (16, 16), (1,)), MLPDiscriminator((1,), (16, 16))


def _adam(m, lr=1e-3):
    return torch.optim.Adam(m.parameters(), lr=lr, betas=(0.5, 0.999))


def _flat(m):
    return torch.cat([p.detach().flatten() for p in m.parameters()])


def test_k_discriminator_steps_per_generator_step():
    g, d = _pair()
    step = GANStep(g, d, _adam(g), _adam(d), loss="nonsaturating", k=3)
    x = torch.randn(8, 1)
    g0, d0 = _flat(g), _flat(d)
    for _ in range(2):
        out = step(x)
    assert torch.equal(_flat(g), g0) and not torch.equal(_flat(d), d0)  # D moved, G waited
    assert "g_loss" not in out
    out = step(x)
    assert not torch.equal(_flat(g), g0) and "g_loss" in out


def test_wgan_clips_the_critic_and_waits_n_critic():
    g, d = _pair()
    o = wgan_optimizers(g, d, lr=0.05)
    step = WGANStep(g, d, o["g"], o["d"], n_critic=5, clip=0.01)
    assert isinstance(o["d"], torch.optim.RMSprop)
    g0 = _flat(g)
    for _ in range(4):
        out = step(torch.randn(8, 1) + 3)
    assert _flat(d).abs().max() <= 0.01 + 1e-7
    assert torch.equal(_flat(g), g0) and "wasserstein" in out
    step(torch.randn(8, 1) + 3)
    assert not torch.equal(_flat(g), g0)


def test_wgan_critic_warmup_takes_100_critic_steps_per_g_step_first():
    g, d = _pair()
    o = wgan_optimizers(g, d, lr=0.05)
    step = WGANStep(g, d, o["g"], o["d"], n_critic=5, warmup_g_steps=2, warmup_n_critic=10)
    x = torch.randn(8, 1) + 3
    g_at = []
    for i in range(1, 31):
        g_before = _flat(g)
        step(x)
        if not torch.equal(_flat(g), g_before):
            g_at.append(i)
    assert g_at == [10, 20, 25, 30] and step.g_steps == 4  # 10 + 10 warm-up critic steps, then every 5th
    with pytest.raises(ValueError, match="warmup"):
        WGANStep(g, d, o["g"], o["d"], warmup_g_steps=-1)


def test_wgan_gp_does_not_clip():
    g, d = _pair()
    o = wgan_gp_optimizers(g, d, lr=0.05)
    assert o["d"].defaults["betas"] == (0.0, 0.9)
    step = WGANStep(g, d, o["g"], o["d"], clip=None, gp_weight=10.0)
    out = step(torch.randn(8, 1) + 3)
    assert "gp" in out and _flat(d).abs().max() > 0.01


def test_bad_arguments():
    g, d = _pair()
    with pytest.raises(ValueError, match="loss"):
        GANStep(g, d, _adam(g), _adam(d), loss="hinge")
    with pytest.raises(ValueError, match="k"):
        GANStep(g, d, _adam(g), _adam(d), k=0)
    with pytest.raises(ValueError, match="clip"):
        WGANStep(g, d, _adam(g), _adam(d), clip=-1)


@pytest.mark.parametrize("method", ["nonsaturating", "minimax", "lsgan", "wgan-gp", "coulomb", "coulomb-g-first",
                                    "coulomb-field"])
def test_each_procedure_moves_samples_towards_the_data(method):
    """Data N(2, 0.5^2) in 1-D; G starts near 0. After 150 steps G's sample mean has moved at least
    halfway to 2 (a sign error in any loss sends it the other way)."""
    g, d = _pair()
    if method == "wgan-gp":
        o = wgan_gp_optimizers(g, d, lr=5e-3)
        step = WGANStep(g, d, o["g"], o["d"], n_critic=1, clip=None, gp_weight=1.0)
    elif method == "coulomb":
        step = CoulombStep(g, d, _adam(g, 5e-3), _adam(d, 5e-3), eps=1.0, dim=1.0)
    elif method == "coulomb-g-first":  # the authors' loop
        step = CoulombStep(g, d, _adam(g, 5e-3), _adam(d, 5e-3), eps=1.0, dim=1.0, g_first=True)
    elif method == "coulomb-field":  # G climbs the batch potential itself; D is never trained
        step = CoulombStep(g, d, _adam(g, 5e-3), _adam(d, 5e-3), eps=1.0, dim=1.0, direct=True)
        d0 = _flat(d)
    else:
        step = GANStep(g, d, _adam(g, 5e-3), _adam(d, 5e-3), loss=method)
    x = 2 + 0.5 * torch.randn(2048, 1, generator=torch.Generator().manual_seed(0))
    m0 = generate(g, 500, seed=0).mean().item()
    assert abs(m0) < 1.0
    state = train_gan(step, x, batch_size=64, steps=150)
    assert state.step == 150
    m1 = generate(g, 1000, seed=0).mean().item()
    assert m1 - m0 > 0.5 * (2.0 - m0), (m0, m1)
    if method == "coulomb-field":
        assert torch.equal(_flat(d), d0)


def test_train_gan_checkpoints_and_resumes(tmp_path, monkeypatch):
    from deepcourse.core import Run

    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    x = torch.randn(256, 1)

    def run_steps(steps, resume):
        g, d = _pair()
        step = GANStep(g, d, _adam(g), _adam(d), k=2)
        run = Run(tmp_path, device="cpu", resume=resume, progress=False)
        train_gan(step, x, batch_size=32, steps=steps, run=run, name="ns/")
        return g, step

    g_full, _ = run_steps(12, False)
    assert (tmp_path / "checkpoint_ns.pt").exists()
    run_steps(6, False)
    g_res, step = run_steps(12, True)
    assert step.calls == 12
    torch.testing.assert_close(_flat(g_res), _flat(g_full))


def test_coulomb_g_first_fits_d_on_the_fakes_g_stepped_on():
    """The authors' loop (bioinf-jku/coulomb_gan): one G forward per batch, G steps on it, and D is then regressed
    at exactly those fakes (as G made them before its update) and at the reals; the default loop draws fresh fakes."""
    for g_first in (True, False):
        g, d = _pair()
        g_out, d_in = [], []
        g.register_forward_hook(lambda _m, _i, out: g_out.append(out.detach().clone()))
        d.register_forward_hook(lambda _m, inp, _o: d_in.append(inp[0].detach().clone()))
        step = CoulombStep(g, d, _adam(g), _adam(d), eps=1.0, dim=1.0, g_first=g_first)
        real = torch.randn(8, 1)
        g0 = _flat(g)
        step(real)
        assert not torch.equal(_flat(g), g0)  # G stepped in the same call
        if g_first:
            assert len(g_out) == 1  # one batch of fakes for both updates
            # D's forwards: G's loss on the fakes, then the regression at the reals and at the same fakes
            assert any(torch.equal(x, real) for x in d_in)
            assert sum(torch.equal(x, g_out[0]) for x in d_in) == 2
        else:
            assert len(g_out) == 2 and not torch.equal(g_out[0], g_out[1])
    with pytest.raises(ValueError, match="k = 1"):
        CoulombStep(g, d, _adam(g), _adam(d), g_first=True, k=2)
