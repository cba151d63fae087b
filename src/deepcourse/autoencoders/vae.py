r"""Variational autoencoder (Kingma & Welling 2014, "Auto-Encoding Variational Bayes").

The encoder maps ``x`` to the mean and log-variance of a diagonal Gaussian
:math:`q_\phi(z|x) = \mathcal{N}(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))`; a code is drawn with the
reparameterisation trick :math:`z = \mu + \sigma \odot \epsilon,\ \epsilon \sim \mathcal{N}(0, I)`
(Kingma & Welling 2014, eq. 4 / Section 2.4), so that gradients reach :math:`\phi` through a
deterministic function of the noise. The decoder parameterises :math:`p_\theta(x|z)`:

* ``likelihood="bernoulli"``: the decoder returns **logits**; :math:`\log p(x|z)` is minus the binary
  cross-entropy summed over pixels (Appendix C.1). Data must lie in [0, 1] (binary, or grey levels
  read as probabilities).
* ``likelihood="gaussian"``: the decoder returns the mean; the standard deviation is one scalar
  :math:`\sigma` shared by all pixels, either **fixed** (``sigma=0.1``, the default) or **learned**
  (``sigma=None``: a free parameter :math:`\log\sigma`, trained with everything else) (Appendix C.2
  lets the decoder output a per-pixel variance; one shared scalar is enough for images and keeps
  the decoder API unchanged).

The training objective is the evidence lower bound (eq. 3, with the KL term in closed form as in
eq. 7 / Appendix B):

.. math:: \mathcal{L}(x) = \mathbb{E}_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\Vert\,\mathcal{N}(0, I)),

weighted as :math:`\mathrm{rec} - \beta\,\mathrm{KL}` for the beta-VAE (Higgins et al. 2017, eq. 4).
:func:`iwae_nll` estimates :math:`-\log p(x)` with the importance-weighted bound of Burda et al. 2016
(eq. 8), which is tighter than the ELBO and tends to :math:`-\log p(x)` as ``k`` grows. All log
probabilities are in nats and summed over the pixels of one example.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core import eval_mode
from deepcourse.core.models import register_model

__all__ = [
    "VAE",
    "VAEOutput",
    "ELBO",
    "gaussian_kl",
    "gaussian_log_density",
    "log_importance_weights",
    "elbo",
    "elbo_monte_carlo",
    "iwae_nll",
    "VAEStep",
    "train_vae",
    "dense_vae",
    "evaluate_vae",
]

LIKELIHOODS = ("bernoulli", "gaussian")
_LOG_2PI = math.log(2 * math.pi)


class VAEOutput(NamedTuple):
    out: Tensor  # decoder output: logits (bernoulli) or mean (gaussian), (N, *x_shape)
    mu: Tensor  # (N, latent_dim)
    logvar: Tensor  # (N, latent_dim)
    z: Tensor  # (N, latent_dim), one reparameterised sample


class ELBO(NamedTuple):
    """Per-example terms of the bound, each (N,), in nats: ``elbo = rec - kl``."""

    rec: Tensor  # E_q[log p(x|z)] (Monte-Carlo over the samples drawn)
    kl: Tensor  # KL(q(z|x) || N(0, I)), closed form
    elbo: Tensor


def _check_int(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low} (got {value!r})")
    return value


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    r"""Closed-form :math:`\mathrm{KL}(\mathcal{N}(\mu, \operatorname{diag} e^{\text{logvar}}) \,\Vert\, \mathcal{N}(0, I))`
    per example, summed over the last dimension (Kingma & Welling 2014, Appendix B):

    .. math:: \tfrac12 \sum_j \bigl(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\bigr).

    ``mu`` and ``logvar``: (..., d) of the same shape; returns (...).
    """
    if not isinstance(mu, Tensor) or not isinstance(logvar, Tensor):
        raise TypeError(f"mu and logvar must be tensors (got {type(mu).__name__}, {type(logvar).__name__})")
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape (got {tuple(mu.shape)} and {tuple(logvar.shape)})")
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def gaussian_log_density(x: Tensor, mean: Tensor, logvar: Tensor | float) -> Tensor:
    r""":math:`\log \mathcal{N}(x; \mu, \operatorname{diag}\sigma^2)` summed over the last dimension (broadcasting)."""
    logvar = torch.as_tensor(logvar, dtype=x.dtype, device=x.device)
    return -0.5 * ((x - mean).pow(2) * torch.exp(-logvar) + logvar + _LOG_2PI).sum(-1)


class VAE(nn.Module):
    """A VAE around any encoder/decoder pair (Kingma & Welling 2014).

    ``encoder``: ``(N, *x_shape) -> (N, 2 * latent_dim)``, split into ``mu`` and ``logvar`` (in that
    order). ``decoder``: ``(N, latent_dim) -> (N, *x_shape)``, with a linear output: logits for
    ``likelihood="bernoulli"``, the mean for ``"gaussian"`` (a sigmoid output is fine there too).
    ``beta``: weight of the KL term in :meth:`loss` (1 = the ELBO; > 1 = beta-VAE, Higgins et al. 2017).
    ``sigma``: the Gaussian decoder's fixed standard deviation, or ``None`` to learn one shared
    ``log_sigma``; ignored for Bernoulli.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, latent_dim: int, likelihood: str = "bernoulli",
                 beta: float = 1.0, sigma: float | None = 0.1):
        super().__init__()
        if not isinstance(encoder, nn.Module) or not isinstance(decoder, nn.Module):
            raise TypeError(f"encoder and decoder must be nn.Module (got {type(encoder).__name__}, "
                            f"{type(decoder).__name__})")
        _check_int("latent_dim", latent_dim)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS} (got {likelihood!r})")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta >= 0:
            raise ValueError(f"beta must be a number >= 0 (got {beta!r})")
        if sigma is not None and (isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma > 0):
            raise ValueError(f"sigma must be a number > 0, or None to learn it (got {sigma!r})")
        self.encoder, self.decoder = encoder, decoder
        self.latent_dim, self.likelihood, self.beta = latent_dim, likelihood, float(beta)
        self.learn_sigma = likelihood == "gaussian" and sigma is None
        if self.learn_sigma:
            self.log_sigma = nn.Parameter(torch.zeros(()))
        else:
            self.register_buffer("log_sigma", torch.tensor(math.log(sigma if sigma is not None else 1.0)))

    # ------------------------------------------------------------------ the two halves
    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)``, each (N, latent_dim)."""
        h = self.encoder(x)  # (N, 2 * latent_dim)
        if h.dim() != 2 or h.shape[1] != 2 * self.latent_dim:
            raise ValueError(f"the encoder must return (N, 2 * latent_dim) = (N, {2 * self.latent_dim}) "
                             f"(got {tuple(h.shape)})")
        mu, logvar = h.chunk(2, dim=1)  # (N, d), (N, d)
        return mu, logvar

    @staticmethod
    def reparameterize(mu: Tensor, logvar: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """``z = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` (Kingma & Welling 2014, eq. 4)."""
        eps = torch.randn(mu.shape, dtype=mu.dtype, device=mu.device, generator=generator)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z: Tensor) -> Tensor:
        """The decoder's raw output: logits (Bernoulli) or mean (Gaussian), (N, *x_shape)."""
        return self.decoder(z)

    def mean(self, z: Tensor) -> Tensor:
        """``E[x | z]`` in data space: ``sigmoid(logits)`` for Bernoulli, the mean for Gaussian."""
        out = self.decode(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def forward(self, x: Tensor) -> VAEOutput:
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return VAEOutput(self.decode(z), mu, logvar, z)

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Decoder mean at the posterior mean ``mu(x)`` (no sampling)."""
        return self.mean(self.encode(x)[0])

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` decoder means at ``z ~ N(0, I)`` (the generative model's samples, without pixel noise)."""
        _check_int("n", n)
        p = next(self.parameters())
        z = torch.randn(n, self.latent_dim, generator=generator).to(p.device, p.dtype)
        return self.mean(z)

    # ------------------------------------------------------------------ likelihood
    def log_px(self, x: Tensor, out: Tensor) -> Tensor:
        """``log p(x | z)`` summed over pixels. ``x``: (N, *x_shape); ``out``: (..., N, *x_shape)
        decoder outputs (leading sample dimensions broadcast); returns (..., N)."""
        n = x.shape[0]
        lead = out.shape[:out.dim() - x.dim()]
        xf = x.reshape(n, -1)  # (N, D)
        of = out.reshape(*lead, n, -1)  # (..., N, D)
        if of.shape[-1] != xf.shape[-1]:
            raise ValueError(f"decoder output has {of.shape[-1]} values per example, x has {xf.shape[-1]}")
        if self.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(of, xf.expand_as(of), reduction="none").sum(-1)
        return gaussian_log_density(xf, of, 2.0 * self.log_sigma)

    def loss(self, x: Tensor) -> dict[str, Tensor]:
        """``loss = -mean(rec - beta * kl)`` with one reparameterised sample per example (eq. 7, L = 1)."""
        terms = elbo(self, x)
        loss = -(terms.rec - self.beta * terms.kl).mean()
        return {"loss": loss, "rec": terms.rec.mean().detach(), "kl": terms.kl.mean().detach(),
                "elbo": terms.elbo.mean().detach()}


def _check_vae(model: Any) -> VAE:
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a VAE (got {type(model).__name__})")
    return model


def elbo(model: VAE, x: Tensor, n_samples: int = 1) -> ELBO:
    """Per-example ELBO with the closed-form KL (Kingma & Welling 2014, eq. 7, the "SGVB B" estimator):
    ``rec`` averages ``log p(x|z)`` over ``n_samples`` reparameterised draws, ``kl`` is exact."""
    _check_vae(model)
    _check_int("n_samples", n_samples)
    mu, logvar = model.encode(x)
    std = torch.exp(0.5 * logvar)
    eps = torch.randn((n_samples, *mu.shape), dtype=mu.dtype, device=mu.device)  # (S, N, d)
    z = mu + std * eps  # (S, N, d)
    out = model.decode(z.reshape(-1, model.latent_dim))  # (S * N, *x_shape)
    out = out.reshape(n_samples, *x.shape[:1], *out.shape[1:])  # (S, N, *x_shape)
    rec = model.log_px(x, out).mean(0)  # (N,)
    kl = gaussian_kl(mu, logvar)  # (N,)
    return ELBO(rec, kl, rec - kl)


def log_importance_weights(model: VAE, x: Tensor, k: int) -> Tensor:
    r"""``log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)`` for ``k`` draws ``z_i ~ q(z|x)``:
    (k, N). Their mean is the all-Monte-Carlo ELBO (Kingma & Welling 2014, eq. 6); their
    log-mean-exp is the IWAE bound (Burda et al. 2016, eq. 8)."""
    _check_vae(model)
    _check_int("k", k)
    mu, logvar = model.encode(x)  # (N, d)
    eps = torch.randn((k, *mu.shape), dtype=mu.dtype, device=mu.device)  # (k, N, d)
    z = mu + torch.exp(0.5 * logvar) * eps  # (k, N, d)
    log_q = -0.5 * (eps.pow(2) + logvar + _LOG_2PI).sum(-1)  # (k, N): z - mu = std * eps
    log_pz = -0.5 * (z.pow(2) + _LOG_2PI).sum(-1)  # (k, N)
    out = model.decode(z.reshape(-1, model.latent_dim))  # (k * N, *x_shape)
    out = out.reshape(k, x.shape[0], *out.shape[1:])  # (k, N, *x_shape)
    return model.log_px(x, out) + log_pz - log_q


def elbo_monte_carlo(model: VAE, x: Tensor, n_samples: int = 1000) -> Tensor:
    """The ELBO with every term estimated by sampling (eq. 6, "SGVB A"): (N,). A check on :func:`elbo`."""
    return log_importance_weights(model, x, n_samples).mean(0)


@torch.no_grad()
def iwae_nll(model: VAE, x: Tensor, k: int = 5000, max_points: int = 50_000) -> Tensor:
    r"""Importance-weighted estimate of :math:`-\log p(x)` in nats, per example (N,) (Burda et al. 2016, eq. 8):

    .. math:: -\log \frac1k \sum_{i=1}^k \frac{p(x, z_i)}{q(z_i|x)},\quad z_i \sim q(z|x),

    computed with ``logsumexp`` over the ``k`` samples. Its expectation is an upper bound on
    :math:`-\log p(x)` that decreases with ``k`` (Theorem 1); ``k = 1`` is :math:`-`ELBO in expectation.
    The ``k * N`` decoder calls are vectorised and split into pieces of at most ``max_points``.
    """
    _check_vae(model)
    _check_int("k", k)
    _check_int("max_points", max_points)
    out = []
    for xb in x.split(max(1, max_points // k)):
        kc = max(1, max_points // len(xb))  # samples per piece for this chunk of examples
        lw = torch.cat([log_importance_weights(model, xb, min(kc, k - s)) for s in range(0, k, kc)])  # (k, n)
        out.append(-(torch.logsumexp(lw, 0) - math.log(k)))
    return torch.cat(out)


# ---------------------------------------------------------------------------------- training
class VAEStep:
    """``step(batch) -> {"loss", "rec", "kl", "elbo"}`` for :func:`deepcourse.core.fit` (one optimiser).

    ``binarize``: draw a fresh binary image ``x ~ Bernoulli(x)`` every step (the dynamic binarisation
    of Burda et al. 2016, Section 5), which makes the Bernoulli likelihood a proper discrete one.
    """

    def __init__(self, model: VAE, binarize: bool = False):
        self.model, self.binarize = _check_vae(model), bool(binarize)

    def __call__(self, batch: Any) -> dict[str, Tensor]:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        if self.binarize:
            x = torch.bernoulli(x)
        return self.model.loss(x)


def train_vae(model: VAE, x: Tensor, *, epochs: int, batch_size: int = 100, lr: float = 1e-3, binarize: bool = False,
              beta1: float = 0.9, lr_schedule: Callable[[torch.optim.Optimizer], Any] | None = None, run: Any = None,
              name: str = "", seed: int = 0, device: Any = None, callbacks: Sequence = ()):
    """Adam on the negative (beta-)ELBO over ``x`` for ``epochs`` epochs with :func:`deepcourse.core.fit`
    (Kingma & Welling 2014 used Adagrad; Adam is the usual choice today). Returns fit's state.
    ``lr_schedule(optimizer)`` builds a per-epoch scheduler. ``name`` prefixes the logs and names the
    checkpoint, so that several models trained in one run resume on their own."""
    from deepcourse.core import TensorLoader, fit

    _check_vae(model)
    _check_int("epochs", epochs, 0)
    loader = TensorLoader(x, batch_size=batch_size, shuffle=True, seed=seed)
    # foreach: one fused update per step instead of one per tensor (a third of the time of small CPU models)
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(beta1, 0.999), foreach=True)
    sched = lr_schedule(opt) if lr_schedule is not None else None
    ckpt = None if run is None else run.out / (f"checkpoint_{name.strip('/')}.pt" if name else "checkpoint.pt")
    return fit(VAEStep(model, binarize), loader, epochs=epochs, model=model, optimizer=opt, scheduler=sched, run=run,
               desc=name.strip("/") or "vae", checkpoint_path=ckpt, log_prefix=name, callbacks=callbacks, device=device)


def evaluate_vae(model: VAE, x: Tensor, batch_size: int = 500) -> dict[str, float]:
    """Mean ELBO terms over ``x`` (nats per example): ``elbo``, ``rec``, ``kl``, ``neg_elbo``."""
    with eval_mode(model):
        parts = [elbo(model, xb) for xb in x.split(batch_size)]
    rec = torch.cat([p.rec for p in parts]).mean().item()
    kl = torch.cat([p.kl for p in parts]).mean().item()
    return {"elbo": rec - kl, "rec": rec, "kl": kl, "neg_elbo": kl - rec}


@register_model("vae-mlp", example_input=lambda: torch.rand(4, 1, 8, 8),
                small=dict(image_shape=(1, 8, 8), hidden=(16,), latent_dim=2))
def dense_vae(image_shape: Sequence[int] = (1, 28, 28), hidden: Sequence[int] = (200, 200), latent_dim: int = 50,
              activation: str = "tanh", likelihood: str = "bernoulli", beta: float = 1.0,
              sigma: float | None = 0.1) -> VAE:
    """An MLP VAE: the 1-stochastic-layer model of Burda et al. 2016 (two hidden layers of 200 tanh
    units each way, 50 latent units) at the defaults."""
    from .networks import DenseDecoder, DenseEncoder

    in_features = int(math.prod(image_shape))
    enc = DenseEncoder(in_features, tuple(hidden), 2 * latent_dim, activation=activation)
    dec = DenseDecoder(latent_dim, tuple(reversed(tuple(hidden))), tuple(image_shape), activation=activation,
                       output="identity")
    return VAE(enc, dec, latent_dim, likelihood=likelihood, beta=beta, sigma=sigma)
