"""WAE: IMQ kernel, unbiased MMD, WAE-MMD and WAE-GAN steps (Tolstikhin et al. 2018)."""

from __future__ import annotations

import pytest
import torch

from deepcourse.autoencoders.networks import DenseDecoder, DenseEncoder
from deepcourse.autoencoders.wae import (
    PAPER_SCALES,
    WAE,
    WAEGANStep,
    WAEMMDStep,
    dense_wae,
    imq_kernel,
    latent_discriminator,
    mmd_unbiased,
    squared_error,
    train_wae_gan,
    train_wae_mmd,
    wae_gan_optimizers,
)
from deepcourse.core.utils import num_threads


@pytest.fixture(autouse=True)
def _one_thread():
    with num_threads(1):
        yield


def _naive_imq(x, y, scales=PAPER_SCALES, sigma2=1.0):
    d = x.shape[1]
    out = torch.zeros(len(x), len(y), dtype=x.dtype)
    for i in range(len(x)):
        for j in range(len(y)):
            dist = float(((x[i] - y[j]) ** 2).sum())
            out[i, j] = sum(2 * d * sigma2 * s / (2 * d * sigma2 * s + dist) for s in scales)
    return out


def _naive_mmd(zq, zp, k):
    n, m = len(zq), len(zp)
    a = sum(k(zq[i:i + 1], zq[j:j + 1]).item() for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    b = sum(k(zp[i:i + 1], zp[j:j + 1]).item() for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    c = sum(k(zq[i:i + 1], zp[j:j + 1]).item() for i in range(n) for j in range(m)) / (n * m)
    return a + b - 2 * c


def test_imq_kernel_matches_double_loop():
    torch.manual_seed(0)
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    assert torch.allclose(imq_kernel(x, y), _naive_imq(x, y))
    assert torch.allclose(imq_kernel(x, y, scales=(1.0,), sigma2=2.0), _naive_imq(x, y, (1.0,), 2.0))
    # k(x, x) = number of scales (C / C per scale)
    assert torch.allclose(imq_kernel(x, x).diagonal(), torch.full((5,), float(len(PAPER_SCALES)), dtype=torch.float64))


def test_mmd_unbiased_matches_double_loop():
    torch.manual_seed(1)
    zq, zp = torch.randn(6, 2, dtype=torch.float64) + 0.5, torch.randn(7, 2, dtype=torch.float64)
    assert abs(float(mmd_unbiased(zq, zp)) - _naive_mmd(zq, zp, imq_kernel)) < 1e-10


def test_mmd_near_zero_for_same_distribution_positive_otherwise():
    torch.manual_seed(2)
    same = torch.stack([mmd_unbiased(torch.randn(200, 8), torch.randn(200, 8)) for _ in range(10)])
    shifted = mmd_unbiased(torch.randn(200, 8) + 0.5, torch.randn(200, 8))
    scaled = mmd_unbiased(torch.randn(200, 8) * 0.3, torch.randn(200, 8))
    assert abs(float(same.mean())) < 0.01  # unbiased: zero in expectation
    assert (same < 0).any()  # ... so sometimes slightly negative, unlike the biased V-statistic
    assert float(shifted) > 10 * float(same.abs().max()) and float(scaled) > 10 * float(same.abs().max())


def test_mmd_gradcheck():
    torch.manual_seed(3)
    zq = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    zp = torch.randn(6, 2, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a: mmd_unbiased(a, zp), (zq,))


def _data(n=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    proto = torch.rand(4, 16, generator=g)
    return (proto[torch.randint(0, 4, (n,), generator=g)] + 0.05 * torch.randn(n, 16, generator=g)).clamp(0, 1)


def _wae(d=2, seed=0):
    torch.manual_seed(seed)
    return WAE(DenseEncoder(16, (32,), d), DenseDecoder(d, (32,), (16,)), d)


def test_wae_mmd_training_lowers_reconstruction_and_mmd():
    m, x = _wae(), _data()
    step = WAEMMDStep(m, lam=10.0)
    with torch.no_grad():
        before = step(x)
    train_wae_mmd(m, x, epochs=30, batch_size=32, lr=3e-3)
    with torch.no_grad():
        torch.manual_seed(0)
        after = step(x)
    assert after["rec"] < 0.5 * before["rec"]
    assert after["mmd"] < before["mmd"]


def test_wae_gan_step_updates_both_players_and_trains():
    m, x = _wae(), _data()
    d = latent_discriminator(2, hidden=(16, 16))
    opts = wae_gan_optimizers(m, d)
    step = WAEGANStep(m, d, opts["ae"], opts["d"], lam=1.0)
    p_ae = [p.clone() for p in m.parameters()]
    p_d = [p.clone() for p in d.parameters()]
    out = step(x[:32])
    assert set(out) >= {"rec", "gan", "d_loss", "d_prior", "d_codes"}
    assert any(not torch.equal(a, b) for a, b in zip(p_ae, m.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(p_d, d.parameters()))
    rec0 = float(squared_error(x, m.reconstruct(x)).mean())
    train_wae_gan(m, d, x, epochs=30, batch_size=32, lam=1.0)
    assert float(squared_error(x, m.reconstruct(x)).mean()) < 0.5 * rec0


def test_wae_shapes_and_prior():
    m = dense_wae((1, 8, 8), hidden=(16,), latent_dim=3, sigma_z=2.0)
    x = torch.rand(4, 1, 8, 8)
    x_hat, z = m(x)
    assert x_hat.shape == x.shape and z.shape == (4, 3)
    z = m.prior(20000)
    assert abs(float(z.std()) - 2.0) < 0.05
    assert m.sample(5).shape == (5, 1, 8, 8)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="same d"):
        imq_kernel(torch.zeros(3, 2), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="scales"):
        imq_kernel(torch.zeros(3, 2), torch.zeros(3, 2), scales=())
    with pytest.raises(ValueError, match="sigma2"):
        imq_kernel(torch.zeros(3, 2), torch.zeros(3, 2), sigma2=0.0)
    with pytest.raises(ValueError, match="z_q must be"):
        mmd_unbiased(torch.zeros(1, 2), torch.zeros(3, 2))
    with pytest.raises(TypeError, match="z_p must be a tensor"):
        mmd_unbiased(torch.zeros(3, 2), [[0.0, 0.0]])
    with pytest.raises(ValueError, match="lam"):
        WAEMMDStep(_wae(), lam=0.0)
    with pytest.raises(ValueError, match="sigma_z"):
        WAE(DenseEncoder(16, (4,), 2), DenseDecoder(2, (4,), (16,)), 2, sigma_z=-1.0)
    with pytest.raises(ValueError, match="latent_dim"):
        _wae(d=2).__class__(DenseEncoder(16, (4,), 3), DenseDecoder(3, (4,), (16,)), 2).encode(torch.rand(2, 16))
    with pytest.raises(ValueError, match="same shape"):
        squared_error(torch.zeros(2, 3), torch.zeros(2, 4))


def test_paper_schedule_drops_at_30_and_50_percent():
    from deepcourse.autoencoders.wae import paper_schedule

    def lrs(epochs):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        sched, out = paper_schedule(opt, epochs), []
        for _ in range(epochs):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    assert lrs(100) == [1.0] * 30 + [0.5] * 20 + [pytest.approx(0.1)] * 50
    assert lrs(5) == [1.0, 1.0, 0.5, pytest.approx(0.1), pytest.approx(0.1)]
    assert lrs(1) == [1.0]  # too short for a schedule: the full lr
