"""VAE: closed-form KL, ELBO against Monte Carlo, IWAE bound (Kingma & Welling 2014; Burda et al. 2016)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from deepcourse.autoencoders.networks import DenseDecoder, DenseEncoder
from deepcourse.autoencoders.vae import (
    VAE,
    dense_vae,
    elbo,
    elbo_monte_carlo,
    evaluate_vae,
    gaussian_kl,
    iwae_nll,
    log_importance_weights,
    train_vae,
)
from deepcourse.core.utils import num_threads


@pytest.fixture(autouse=True)
def _one_thread():
    with num_threads(1):  # tiny models: extra threads only add synchronisation (10x slower on 2 busy cores)
        yield


def _tiny(likelihood="bernoulli", sigma=0.1, d=2, seed=0) -> VAE:
    torch.manual_seed(seed)
    enc = DenseEncoder(16, (12,), 2 * d, activation="tanh")
    dec = DenseDecoder(d, (12,), (16,), activation="tanh", output="identity")
    return VAE(enc, dec, d, likelihood=likelihood, sigma=sigma)


def _data(n=64, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    proto = torch.rand(4, 16, generator=g)  # four binary "prototypes", noisy copies of them
    idx = torch.randint(0, 4, (n,), generator=g)
    return torch.bernoulli(proto[idx].clamp(0.05, 0.95), generator=g)


def test_gaussian_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    ref = torch.distributions.kl_divergence(q, p).sum(-1)
    assert torch.allclose(gaussian_kl(mu, logvar), ref)
    assert torch.allclose(gaussian_kl(torch.zeros(2, 4), torch.zeros(2, 4)), torch.zeros(2))


def test_gaussian_kl_gradcheck():
    mu = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    lv = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gaussian_kl, (mu, lv))


def test_kl_closed_form_matches_monte_carlo():
    """E_q[log q(z) - log p(z)] estimated with 200k samples equals the closed form."""
    torch.manual_seed(1)
    mu, logvar = torch.tensor([[0.5, -1.0]], dtype=torch.float64), torch.tensor([[-0.7, 0.4]], dtype=torch.float64)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    z = q.sample((200_000,))  # (S, 1, 2)
    mc = (q.log_prob(z) - torch.distributions.Normal(0.0, 1.0).log_prob(z)).sum(-1).mean()
    assert abs(float(mc) - float(gaussian_kl(mu, logvar))) < 0.02


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_elbo_matches_monte_carlo_estimate(likelihood):
    """Closed-form-KL ELBO (eq. 7) and all-sampled ELBO (eq. 6) agree with many samples."""
    m = _tiny(likelihood, sigma=0.5)
    x = _data(6)
    torch.manual_seed(2)
    n = 20_000
    with torch.no_grad():
        a = elbo(m, x, n_samples=n).elbo
        lw = log_importance_weights(m, x, n)  # (n, N)
    b = lw.mean(0)
    assert torch.allclose(b, elbo_monte_carlo(m, x, 10), atol=5 * float(lw.std(0).max()) / 10 ** 0.5)
    se = lw.std(0) / n ** 0.5  # standard error of the Monte-Carlo mean (the closed-form-KL one has less)
    assert ((a - b).abs() < 6 * se).all(), (a, b, se)


def test_elbo_terms_and_loss():
    m = _tiny()
    x = _data(8)
    t = elbo(m, x)
    assert t.rec.shape == t.kl.shape == t.elbo.shape == (8,)
    assert torch.allclose(t.elbo, t.rec - t.kl)
    assert (t.kl >= 0).all() and (t.rec <= 0).all()  # Bernoulli log-probabilities of binary data
    out = m.loss(x)
    assert out["loss"].requires_grad and out["loss"].dim() == 0


def test_beta_weights_the_kl_term():
    x = _data(8)
    m1, m4 = _tiny(), _tiny()
    m4.beta = 4.0
    torch.manual_seed(3)
    l1 = m1.loss(x)
    torch.manual_seed(3)
    l4 = m4.loss(x)
    assert torch.allclose(l4["loss"] - l1["loss"], 3.0 * l1["kl"], atol=1e-5)


def test_learned_sigma_gets_gradient_and_fixed_sigma_is_buffer():
    m = _tiny("gaussian", sigma=None)
    assert isinstance(m.log_sigma, nn.Parameter)
    m.loss(torch.rand(4, 16))["loss"].backward()
    assert m.log_sigma.grad is not None and torch.isfinite(m.log_sigma.grad)
    f = _tiny("gaussian", sigma=0.3)
    assert not isinstance(f.log_sigma, nn.Parameter)
    assert math.isclose(float(f.log_sigma.exp()), 0.3, rel_tol=1e-6)


def test_gaussian_log_px_matches_normal():
    m = _tiny("gaussian", sigma=0.3)
    x, mean = torch.rand(3, 16), torch.rand(3, 16)
    ref = torch.distributions.Normal(mean, 0.3).log_prob(x).sum(-1)
    assert torch.allclose(m.log_px(x, mean), ref, atol=1e-4)


def test_iwae_k1_is_minus_elbo_in_expectation():
    m = _tiny()
    x = _data(4)
    torch.manual_seed(4)
    with torch.no_grad():
        lw = log_importance_weights(m, x.repeat(4000, 1), 1)  # (1, 4 * 4000): 4000 independent k=1 draws each
        k1 = -lw.reshape(4000, 4).mean(0)
        neg_elbo = -elbo(m, x, n_samples=20_000).elbo
    assert torch.allclose(k1, neg_elbo, atol=0.15), (k1, neg_elbo)
    single = iwae_nll(m, x, k=1)
    assert single.shape == (4,)


def test_iwae_is_tighter_than_elbo_after_training():
    """On a trained tiny model: log p(x) >= IWAE_k >= ELBO, so NLL_iw(k=500) <= NLL_iw(k=5) <= -ELBO."""
    m = _tiny(d=2)
    x = _data(256)
    train_vae(m, x, epochs=40, batch_size=32, lr=3e-3)
    m.eval()
    torch.manual_seed(5)
    neg_elbo = evaluate_vae(m, x)["neg_elbo"]
    nll5 = float(iwae_nll(m, x, k=5).mean())
    nll500 = float(iwae_nll(m, x, k=500).mean())
    assert nll500 <= nll5 + 0.02 <= neg_elbo + 0.05, (nll500, nll5, neg_elbo)
    assert nll500 < neg_elbo - 0.05  # a real gap: the bound tightens


def test_iwae_chunking_does_not_change_the_estimate():
    m = _tiny()
    x = _data(10)
    torch.manual_seed(6)
    a = iwae_nll(m, x, k=64, max_points=10_000)
    torch.manual_seed(6)
    b = iwae_nll(m, x, k=64, max_points=10_000)
    assert torch.allclose(a, b)
    c = iwae_nll(m, x, k=64, max_points=7)  # many small pieces: same estimator, other draws
    assert torch.allclose(a.mean(), c.mean(), atol=0.5)


def test_vae_forward_sample_reconstruct_shapes():
    m = dense_vae((1, 8, 8), hidden=(16,), latent_dim=3)
    x = torch.rand(5, 1, 8, 8)
    out = m(x)
    assert out.out.shape == (5, 1, 8, 8) and out.mu.shape == (5, 3) and out.z.shape == (5, 3)
    s = m.sample(7)
    r = m.reconstruct(x)
    assert s.shape == (7, 1, 8, 8) and r.shape == (5, 1, 8, 8)
    assert ((s >= 0) & (s <= 1)).all()


def test_bad_arguments_raise_clear_errors():
    enc, dec = DenseEncoder(16, (8,), 4), DenseDecoder(2, (8,), (16,), output="identity")
    with pytest.raises(ValueError, match="likelihood"):
        VAE(enc, dec, 2, likelihood="poisson")
    with pytest.raises(ValueError, match="beta"):
        VAE(enc, dec, 2, beta=-1.0)
    with pytest.raises(ValueError, match="sigma"):
        VAE(enc, dec, 2, likelihood="gaussian", sigma=0.0)
    with pytest.raises(ValueError, match="latent_dim"):
        VAE(enc, dec, 0)
    with pytest.raises(TypeError, match="encoder"):
        VAE("enc", dec, 2)
    wrong = VAE(DenseEncoder(16, (8,), 3), dec, 2)  # 3 outputs, need 2 * 2
    with pytest.raises(ValueError, match="2 \\* latent_dim"):
        wrong.encode(torch.rand(2, 16))
    m = _tiny()
    with pytest.raises(ValueError, match="k must be"):
        iwae_nll(m, _data(2), k=0)
    with pytest.raises(TypeError, match="model must be a VAE"):
        iwae_nll(nn.Linear(2, 2), _data(2))
    with pytest.raises(ValueError, match="same shape"):
        gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 2))
