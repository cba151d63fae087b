"""GAN objectives, each written next to its formula.

Discriminators output *logits* ``l`` (``D = sigmoid(l)``) for the log-loss family, so that
``log D = -softplus(-l)`` and ``log(1 - D) = -softplus(l)`` are computed without ever forming
``sigmoid(l)`` (which rounds to 0 or 1 and gives ``log 0``). Critics (WGAN) and least-squares
discriminators output raw scores. Every loss is a mean over the batch and is *minimised*.

References: Goodfellow et al. 2014, "Generative Adversarial Nets", eq. 1 and Algorithm 1;
Mao et al. 2017, "Least Squares Generative Adversarial Networks", eq. 2;
Arjovsky et al. 2017, "Wasserstein GAN", Algorithm 1; Gulrajani et al. 2017, "Improved Training
of Wasserstein GANs", eq. 3; Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks", eqs. 1-4.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "d_loss_minimax", "g_loss_minimax", "g_loss_nonsaturating",
    "d_loss_lsgan", "g_loss_lsgan",
    "critic_loss_wasserstein", "g_loss_wasserstein", "gradient_penalty",
    "cgan_d_loss", "cgan_g_loss",
    "D_LOSSES", "G_LOSSES",
]


def _check_same(a: Tensor, b: Tensor, na: str, nb: str) -> None:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{na} and {nb} must be tensors (got {type(a).__name__}, {type(b).__name__})")


def d_loss_minimax(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""Discriminator loss of the GAN value function (Goodfellow et al. 2014, eq. 1).

    D ascends :math:`V = \mathbb{E}_x[\log D(x)] + \mathbb{E}_z[\log(1 - D(G(z)))]`; we return
    :math:`-V`, i.e. the binary cross-entropy with label 1 on reals and 0 on fakes:
    :math:`\mathrm{softplus}(-l_{real}) + \mathrm{softplus}(l_{fake})` averaged over each batch.
    """
    _check_same(real_logits, fake_logits, "real_logits", "fake_logits")
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_minimax(fake_logits: Tensor) -> Tensor:
    r"""Generator loss of the minimax game (eq. 1, the update of Algorithm 1):
    :math:`\mathbb{E}_z[\log(1 - D(G(z)))] = -\mathbb{E}[\mathrm{softplus}(l_{fake})]`.

    Saturates: when D confidently rejects fakes (:math:`D \to 0`, early in training) its gradient
    vanishes, which is why the paper suggests the non-saturating form instead (Section 3).
    """
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits: Tensor) -> Tensor:
    r"""The "-log D trick" (Goodfellow et al. 2014, Section 3): G maximises
    :math:`\mathbb{E}_z[\log D(G(z))]`, same fixed point, strong gradients early on:
    :math:`-\mathbb{E}[\log D(G(z))] = \mathbb{E}[\mathrm{softplus}(-l_{fake})]`.
    """
    return F.softplus(-fake_logits).mean()


def d_loss_lsgan(real_out: Tensor, fake_out: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    r"""LSGAN discriminator (Mao et al. 2017, eq. 2): :math:`\tfrac12\mathbb{E}_x[(D(x) - b)^2] +
    \tfrac12\mathbb{E}_z[(D(G(z)) - a)^2]` with the 0-1 coding ``a = 0, b = 1``.

    A least-squares D keeps pulling fakes that it already classifies correctly towards the real score,
    so G still gets a gradient where the sigmoid cross-entropy saturates. CycleGAN (Zhu et al. 2017,
    sec. 4) uses this loss for both of its discriminators.
    """
    _check_same(real_out, fake_out, "real_out", "fake_out")
    return 0.5 * ((real_out - b) ** 2).mean() + 0.5 * ((fake_out - a) ** 2).mean()


def g_loss_lsgan(fake_out: Tensor, c: float = 1.0) -> Tensor:
    r"""LSGAN generator (Mao et al. 2017, eq. 2): :math:`\tfrac12\mathbb{E}_z[(D(G(z)) - c)^2]`, ``c = 1``.

    CycleGAN's generator term is :math:`\mathbb{E}[(D(G(x)) - 1)^2]` without the ½, i.e. twice this
    value; :mod:`deepcourse.gan.cyclegan` multiplies by 2 so that its weight against the cycle loss
    (:math:`\lambda_{cyc} = 10`) is the paper's.
    """
    return 0.5 * ((fake_out - c) ** 2).mean()


def critic_loss_wasserstein(real_score: Tensor, fake_score: Tensor) -> Tensor:
    r"""WGAN critic (Arjovsky et al. 2017, Algorithm 1, line 5). The critic ascends
    :math:`\frac1m\sum f_w(x^{(i)}) - \frac1m\sum f_w(g_\theta(z^{(i)}))`, the dual estimate of the
    Wasserstein-1 distance (for a K-Lipschitz ``f_w``); we return its negative. Note: no logarithms."""
    _check_same(real_score, fake_score, "real_score", "fake_score")
    return fake_score.mean() - real_score.mean()


def g_loss_wasserstein(fake_score: Tensor) -> Tensor:
    r"""WGAN generator (Algorithm 1, line 10): :math:`-\frac1m\sum f_w(g_\theta(z^{(i)}))`."""
    return -fake_score.mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, weight: float = 10.0,
                     alpha: Tensor | None = None) -> Tensor:
    r"""WGAN-GP penalty (Gulrajani et al. 2017, eq. 3):
    :math:`\lambda\,\mathbb{E}_{\hat x}[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2]` at
    :math:`\hat x = \alpha x + (1 - \alpha)\tilde x`, :math:`\alpha \sim U[0, 1]` per sample, :math:`\lambda = 10`.

    Replaces weight clipping, which pushes the critic's weights to +-c and makes it a poor,
    nearly binary function. ``alpha`` (shape ``(N,)``) may be given for testing.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape (got {tuple(real.shape)}, {tuple(fake.shape)})")
    n = real.shape[0]
    if alpha is None:
        alpha = torch.rand(n, device=real.device, dtype=real.dtype)
    alpha = alpha.reshape(n, *([1] * (real.dim() - 1)))  # (N, 1, ..., 1): one mix per sample
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)  # second-order: the penalty trains D
    norm = grad.reshape(n, -1).norm(2, dim=1)  # (N,)
    return weight * ((norm - 1) ** 2).mean()


def cgan_d_loss(real_logits: Tensor, fake_logits: Tensor, half: bool = True) -> Tensor:
    r"""Conditional GAN discriminator (Isola et al. 2017, eq. 1): D sees the pair ``(x, y)`` and
    ascends :math:`\mathbb{E}_{x,y}[\log D(x, y)] + \mathbb{E}_{x,z}[\log(1 - D(x, G(x, z)))]`.

    ``half=True`` divides by 2, as pix2pix does, "which slows down the rate at which D learns
    relative to G" (Isola et al. 2017, Section 3.3).
    """
    loss = d_loss_minimax(real_logits, fake_logits)
    return 0.5 * loss if half else loss


def cgan_g_loss(fake_logits: Tensor | None, fake: Tensor, target: Tensor, lambda_l1: float = 100.0
                ) -> tuple[Tensor, Tensor, Tensor]:
    r"""pix2pix generator objective (Isola et al. 2017, eqs. 3-4):
    :math:`\mathcal{L}_{cGAN} + \lambda\,\mathbb{E}\lVert y - G(x, z)\rVert_1`, with the
    non-saturating adversarial term :math:`-\log D(x, G(x, z))` and :math:`\lambda = 100`.

    L1 rather than L2: L2 averages the plausible outputs and blurs more. ``fake_logits=None``
    gives the "L1 alone" ablation. Returns ``(total, adversarial, l1)``; the L1 term is the mean
    absolute error per pixel.
    """
    if fake.shape != target.shape:
        raise ValueError(f"fake and target must have the same shape (got {tuple(fake.shape)}, {tuple(target.shape)})")
    if lambda_l1 < 0:
        raise ValueError(f"lambda_l1 must be >= 0 (got {lambda_l1})")
    l1 = (fake - target).abs().mean()
    adv = g_loss_nonsaturating(fake_logits) if fake_logits is not None else torch.zeros((), device=fake.device)
    return adv + lambda_l1 * l1, adv, l1


D_LOSSES = {"minimax": d_loss_minimax, "nonsaturating": d_loss_minimax, "lsgan": d_loss_lsgan}
G_LOSSES = {"minimax": g_loss_minimax, "nonsaturating": g_loss_nonsaturating, "lsgan": g_loss_lsgan}
