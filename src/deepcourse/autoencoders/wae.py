r"""Wasserstein auto-encoders (Tolstikhin, Bousquet, Gelly & Schoelkopf 2018, "Wasserstein Auto-Encoders").

A WAE minimises a relaxed optimal-transport cost between the data and the model (Theorem 1, eq. 4):

.. math:: \mathbb{E}_{P_X}\mathbb{E}_{Q(Z|X)}[c(X, G(Z))] + \lambda\, \mathcal{D}_Z(Q_Z, P_Z),

the reconstruction cost (here :math:`c(x, y) = \lVert x - y\rVert_2^2`, summed over pixels, as in
the paper's experiments) plus a penalty that pushes the *aggregate* code distribution
:math:`Q_Z = \int Q(Z|x)\,dP_X(x)` towards the prior :math:`P_Z = \mathcal{N}(0, \sigma_z^2 I)`. Unlike
the VAE's KL term, which pulls every single :math:`Q(Z|x)` towards :math:`P_Z` (Figure 1 of the
paper), only the mixture is matched, so the encoder can be deterministic and the codes of different
images can stay apart, which keeps reconstructions sharp.

Two choices of :math:`\mathcal{D}_Z`:

* **WAE-MMD** (Algorithm 2): the unbiased U-statistic estimate of the maximum mean discrepancy
  (Gretton et al. 2012) with the inverse multiquadratics kernel, :func:`mmd_unbiased` / :func:`imq_kernel`.
* **WAE-GAN** (Algorithm 1): a discriminator on the latent space tells prior samples from codes; the
  encoder is penalised with :math:`-\lambda \log D(\tilde z)`, :class:`WAEGANStep`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core.models import register_model

__all__ = [
    "PAPER_SCALES",
    "WAE",
    "imq_kernel",
    "mmd_unbiased",
    "squared_error",
    "latent_discriminator",
    "WAEMMDStep",
    "WAEGANStep",
    "wae_gan_optimizers",
    "paper_schedule",
    "train_wae_mmd",
    "train_wae_gan",
    "dense_wae",
]

# the scales the paper's code sums the IMQ kernel over (C = 2 d sigma_z^2 * s for each s)
PAPER_SCALES: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def _check_int(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low} (got {value!r})")
    return value


def _check_positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a number > 0 (got {value!r})")
    return float(value)


def imq_kernel(x: Tensor, y: Tensor, scales: Sequence[float] = PAPER_SCALES, sigma2: float = 1.0) -> Tensor:
    r"""Inverse multiquadratics kernel matrix :math:`k(x, y) = \sum_s C_s / (C_s + \lVert x - y\rVert_2^2)`
    with :math:`C_s = 2\, d\, \sigma_z^2\, s` (Tolstikhin et al. 2018, Section 4: C = 2 d_z sigma_z^2,
    summed over the scales ``s`` of the paper's code so that no single bandwidth has to be right).

    ``x``: (n, d), ``y``: (m, d); returns (n, m). ``sigma2``: the prior's variance :math:`\sigma_z^2`.
    """
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise TypeError(f"x and y must be tensors (got {type(x).__name__}, {type(y).__name__})")
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must be (n, d) and (m, d) with the same d (got {tuple(x.shape)}, {tuple(y.shape)})")
    scales = tuple(scales)
    if not scales or any(isinstance(s, bool) or not isinstance(s, (int, float)) or not s > 0 for s in scales):
        raise ValueError(f"scales must be a non-empty sequence of numbers > 0 (got {scales!r})")
    _check_positive("sigma2", sigma2)
    d = x.shape[1]
    # squared distances without cdist's sqrt: its gradient is NaN at distance 0 (the diagonal)
    dist2 = (x.pow(2).sum(1, keepdim=True) + y.pow(2).sum(1) - 2.0 * x @ y.T).clamp_min(0.0)  # (n, m)
    c = torch.tensor(scales, dtype=x.dtype, device=x.device) * (2.0 * d * sigma2)  # (S,)
    return (c / (c + dist2.unsqueeze(-1))).sum(-1)  # (n, m)


def mmd_unbiased(z_q: Tensor, z_p: Tensor, kernel: Callable[[Tensor, Tensor], Tensor] = imq_kernel) -> Tensor:
    r"""Unbiased U-statistic estimate of :math:`\mathrm{MMD}_k^2(Q_Z, P_Z)` (Tolstikhin et al. 2018, Algorithm 2;
    Gretton et al. 2012, Lemma 6):

    .. math:: \frac{1}{n(n-1)}\sum_{\ell\ne j} k(\tilde z_\ell, \tilde z_j) + \frac{1}{m(m-1)}\sum_{\ell\ne j} k(z_\ell, z_j)
              - \frac{2}{nm}\sum_{\ell, j} k(\tilde z_\ell, z_j).

    ``z_q``: (n, d) codes, ``z_p``: (m, d) prior samples, n, m >= 2. Leaving out the diagonal removes
    the bias, so the estimate is zero in expectation (and can be slightly negative) when Q_Z = P_Z.
    Returns a scalar tensor (differentiable).
    """
    for name, z in (("z_q", z_q), ("z_p", z_p)):
        if not isinstance(z, Tensor):
            raise TypeError(f"{name} must be a tensor (got {type(z).__name__})")
        if z.dim() != 2 or z.shape[0] < 2:
            raise ValueError(f"{name} must be (n >= 2, d) (got {tuple(z.shape)})")
    n, m = z_q.shape[0], z_p.shape[0]
    k_qq, k_pp, k_qp = kernel(z_q, z_q), kernel(z_p, z_p), kernel(z_q, z_p)  # (n, n), (m, m), (n, m)
    return ((k_qq.sum() - k_qq.diagonal().sum()) / (n * (n - 1)) + (k_pp.sum() - k_pp.diagonal().sum()) / (m * (m - 1))
            - 2.0 * k_qp.mean())


def squared_error(x: Tensor, x_hat: Tensor) -> Tensor:
    r"""The paper's cost :math:`c(x, y) = \lVert x - y\rVert_2^2`, summed over all but the first dim: (N,)."""
    if x.shape != x_hat.shape:
        raise ValueError(f"x and x_hat must have the same shape (got {tuple(x.shape)} and {tuple(x_hat.shape)})")
    return (x - x_hat).pow(2).flatten(1).sum(1)


class WAE(nn.Module):
    """A deterministic encoder ``mu(x)`` and decoder ``G(z)`` with prior ``N(0, sigma_z^2 I)``
    (Tolstikhin et al. 2018, Section 4: "deterministic encoder-decoder pairs").

    ``encoder``: ``(N, *x_shape) -> (N, latent_dim)``; ``decoder``: ``(N, latent_dim) -> (N, *x_shape)``
    in data space (a sigmoid output for images in [0, 1]).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, latent_dim: int, sigma_z: float = 1.0):
        super().__init__()
        if not isinstance(encoder, nn.Module) or not isinstance(decoder, nn.Module):
            raise TypeError(f"encoder and decoder must be nn.Module (got {type(encoder).__name__}, "
                            f"{type(decoder).__name__})")
        self.encoder, self.decoder = encoder, decoder
        self.latent_dim = _check_int("latent_dim", latent_dim)
        self.sigma_z = _check_positive("sigma_z", sigma_z)

    def encode(self, x: Tensor) -> Tensor:
        z = self.encoder(x)  # (N, latent_dim)
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"the encoder must return (N, latent_dim) = (N, {self.latent_dim}) (got {tuple(z.shape)})")
        return z

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    mean = decode  # the decoder is deterministic: E[x | z] = G(z)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = self.encode(x)
        return self.decode(z), z  # (N, *x_shape), (N, latent_dim)

    def prior(self, n: int, like: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """``n`` draws from ``P_Z = N(0, sigma_z^2 I)``: (n, latent_dim)."""
        p = like if like is not None else next(self.parameters())
        return (torch.randn(n, self.latent_dim, generator=generator) * self.sigma_z).to(p.device, p.dtype)

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``G(z)`` for ``z ~ P_Z``."""
        return self.decode(self.prior(_check_int("n", n), generator=generator))


def _check_wae(model: Any) -> WAE:
    if not isinstance(model, WAE):
        raise TypeError(f"model must be a WAE (got {type(model).__name__})")
    return model


def latent_discriminator(latent_dim: int, hidden: Sequence[int] = (512, 512, 512, 512)) -> nn.Module:
    """The WAE-GAN adversary on Z: an MLP from ``latent_dim`` to one logit. The paper's MNIST
    adversary has four hidden layers of 512 ReLU units (Tolstikhin et al. 2018, appendix on the
    MNIST architectures)."""
    from .networks import DenseEncoder

    return DenseEncoder(_check_int("latent_dim", latent_dim), tuple(hidden), 1, activation="relu")


class WAEMMDStep:
    r"""One step of Algorithm 2 (WAE-MMD) for :func:`deepcourse.core.fit` (one optimiser):
    ``loss = mean c(x, G(mu(x))) + lam * MMD_k(codes, prior draws)``. The paper used ``lam = 10``."""

    def __init__(self, model: WAE, lam: float = 10.0, kernel: Callable[[Tensor, Tensor], Tensor] | None = None):
        self.model, self.lam = _check_wae(model), _check_positive("lam", lam)
        self.kernel = kernel or (lambda a, b: imq_kernel(a, b, sigma2=model.sigma_z ** 2))

    def __call__(self, batch: Any) -> dict[str, Tensor]:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        x_hat, z_q = self.model(x)
        rec = squared_error(x, x_hat).mean()
        mmd = mmd_unbiased(z_q, self.model.prior(len(x), like=z_q), self.kernel)
        return {"loss": rec + self.lam * mmd, "rec": rec.detach(), "mmd": mmd.detach()}


def wae_gan_optimizers(model: WAE, disc: nn.Module, lr: float = 1e-3, lr_d: float = 5e-4,
                       beta1: float = 0.5) -> dict[str, torch.optim.Optimizer]:
    """Adam(beta1 = 0.5) with lr 1e-3 for the encoder-decoder and 5e-4 for the adversary
    (Tolstikhin et al. 2018, Section 4)."""
    betas = (beta1, 0.999)
    return {"ae": torch.optim.Adam(model.parameters(), lr=lr, betas=betas, foreach=True),
            "d": torch.optim.Adam(disc.parameters(), lr=lr_d, betas=betas, foreach=True)}


class WAEGANStep:
    r"""One iteration of Algorithm 1 (WAE-GAN), for :func:`deepcourse.core.fit` with several optimisers.

    1. The adversary ascends :math:`\frac{\lambda}{n}\sum_i \log D(z_i) + \log(1 - D(\tilde z_i))` with
       :math:`z_i \sim P_Z` and :math:`\tilde z_i = \mu(x_i)` (binary cross-entropy times ``lam``).
    2. Encoder and decoder descend :math:`\frac1n\sum_i c(x_i, G(\tilde z_i)) - \lambda \log D(\tilde z_i)`
       against the just-updated adversary.

    ``lam``: the paper's MNIST value is 10 (Section 4, "we used lambda = 10 ... across all datasets"); its
    CelebA WAE-GAN used 1.
    """

    def __init__(self, model: WAE, disc: nn.Module, opt_ae: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
                 lam: float = 10.0):
        self.model, self.disc = _check_wae(model), disc
        if not isinstance(disc, nn.Module):
            raise TypeError(f"disc must be an nn.Module (got {type(disc).__name__})")
        self.opt_ae, self.opt_d, self.lam = opt_ae, opt_d, _check_positive("lam", lam)

    @property
    def models(self) -> dict[str, nn.Module]:
        return {"ae": self.model, "d": self.disc}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"ae": self.opt_ae, "d": self.opt_d}

    def __call__(self, batch: Any) -> dict[str, Any]:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        x_hat, z_q = self.model(x)  # (N, *x_shape), (N, d)
        z_p = self.model.prior(len(x), like=z_q)  # (N, d)
        # 1. adversary: prior draws are "real" (label 1), codes "fake" (label 0); no graph into the encoder
        d_p, d_q = self.disc(z_p), self.disc(z_q.detach())  # (N, 1) logits
        loss_d = self.lam * (F.binary_cross_entropy_with_logits(d_p, torch.ones_like(d_p))
                             + F.binary_cross_entropy_with_logits(d_q, torch.zeros_like(d_q)))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        # 2. encoder-decoder: reconstruction - lam * log D(z~) (the non-saturating form of Algorithm 1)
        rec = squared_error(x, x_hat).mean()
        d_q = self.disc(z_q)
        gan = F.binary_cross_entropy_with_logits(d_q, torch.ones_like(d_q))  # = -mean log D(z~)
        loss = rec + self.lam * gan
        self.opt_ae.zero_grad(set_to_none=True)
        loss.backward()  # also fills the adversary's grads; its zero_grad before its next step drops them
        self.opt_ae.step()
        return {"loss": loss.detach(), "rec": rec.detach(), "gan": gan.detach(), "d_loss": loss_d.detach(),
                "d_prior": torch.sigmoid(d_p).mean().detach(), "d_codes": torch.sigmoid(d_q).mean().detach()}


def paper_schedule(optimizer: torch.optim.Optimizer, epochs: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The paper's MNIST schedule rescaled to ``epochs``: lr / 2 after 30% of the epochs (30 of 100),
    and a further / 5 after 50% (Tolstikhin et al. 2018, MNIST training details). Stepped once per epoch."""
    _check_int("epochs", epochs)
    # floor(x + 0.5), not round(): Python rounds halves to even, which put both drops at epoch 2 of 5
    a = max(1, math.floor(0.3 * epochs + 0.5))
    b = max(a + 1, math.floor(0.5 * epochs + 0.5))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 1.0 if e < a else 0.5 if e < b else 0.1)


def _ckpt(run: Any, name: str):
    return None if run is None else run.out / (f"checkpoint_{name.strip('/')}.pt" if name else "checkpoint.pt")


def train_wae_mmd(model: WAE, x: Tensor, *, epochs: int, batch_size: int = 100, lr: float = 1e-3, lam: float = 10.0,
                  beta1: float = 0.5, schedule: bool = True, run: Any = None, name: str = "", seed: int = 0,
                  device: Any = None, callbacks: Sequence = ()):
    """Train a WAE-MMD (Algorithm 2) with Adam(beta1 = 0.5) and :func:`deepcourse.core.fit`; returns fit's state."""
    from deepcourse.core import TensorLoader, fit

    _check_int("epochs", epochs, 0)
    loader = TensorLoader(x, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(beta1, 0.999), foreach=True)
    sched = paper_schedule(opt, epochs) if schedule else None
    return fit(WAEMMDStep(model, lam), loader, epochs=epochs, model=model, optimizer=opt, scheduler=sched, run=run,
               desc=name.strip("/") or "wae-mmd", checkpoint_path=_ckpt(run, name), log_prefix=name,
               callbacks=callbacks, device=device)


def train_wae_gan(model: WAE, disc: nn.Module, x: Tensor, *, epochs: int, batch_size: int = 100, lr: float = 1e-3,
                  lr_d: float = 5e-4, lam: float = 10.0, beta1: float = 0.5, schedule: bool = True, run: Any = None,
                  name: str = "", seed: int = 0, device: Any = None, callbacks: Sequence = ()):
    """Train a WAE-GAN (Algorithm 1) with :func:`deepcourse.core.fit` and two optimisers; returns fit's state."""
    from deepcourse.core import TensorLoader, fit

    _check_int("epochs", epochs, 0)
    loader = TensorLoader(x, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed)
    opts = wae_gan_optimizers(model, disc, lr, lr_d, beta1)
    step = WAEGANStep(model, disc, opts["ae"], opts["d"], lam)
    scheds = {k: paper_schedule(o, epochs) for k, o in opts.items()} if schedule else None
    return fit(step, loader, epochs=epochs, model=step.models, optimizer=step.optimizers, scheduler=scheds, run=run,
               desc=name.strip("/") or "wae-gan", checkpoint_path=_ckpt(run, name), log_prefix=name,
               callbacks=callbacks, device=device)


@register_model("wae-mlp", example_input=lambda: torch.rand(4, 1, 8, 8),
                small=dict(image_shape=(1, 8, 8), hidden=(16,), latent_dim=2))
def dense_wae(image_shape: Sequence[int] = (1, 28, 28), hidden: Sequence[int] = (256, 128), latent_dim: int = 8,
              activation: str = "relu", sigma_z: float = 1.0) -> WAE:
    """An MLP WAE with a sigmoid decoder output (images in [0, 1])."""
    from .networks import DenseDecoder, DenseEncoder

    enc = DenseEncoder(int(math.prod(image_shape)), tuple(hidden), latent_dim, activation=activation)
    dec = DenseDecoder(latent_dim, tuple(reversed(tuple(hidden))), tuple(image_shape), activation=activation,
                       output="sigmoid")
    return WAE(enc, dec, latent_dim, sigma_z=sigma_z)
