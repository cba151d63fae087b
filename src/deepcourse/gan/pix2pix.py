r"""pix2pix: paired image-to-image translation with a conditional GAN (Isola et al. 2017).

Objective (eq. 4 of the paper): :math:`G^* = \arg\min_G \max_D \mathcal{L}_{cGAN}(G, D) + \lambda\,\mathcal{L}_{L1}(G)`
with

* :math:`\mathcal{L}_{cGAN} = \mathbb{E}_{x,y}[\log D(x, y)] + \mathbb{E}_{x}[\log(1 - D(x, G(x)))]` (eq. 1):
  D sees the input x concatenated with the real target y or with the translation G(x);
* the unconditional variant :math:`\mathcal{L}_{GAN}` (eq. 2) where D sees only y or G(x);
* :math:`\mathcal{L}_{L1} = \mathbb{E}\lVert y - G(x)\rVert_1` (eq. 3), :math:`\lambda = 100`.

The generator is a U-Net whose dropout is its only noise source and stays *on* at test time (sec. 2.1 /
6.1.1); the discriminator is a :class:`~deepcourse.gan.patchgan.PatchGAN`. Training alternates one D step
and one G step (sec. 3.3), the D loss is halved "to slow down the rate at which D learns relative to G",
G uses the non-saturating loss (maximise log D(x, G(x))), and both use Adam, lr 2e-4, betas (0.5, 0.999).

``objective`` selects the rows of the paper's Table 1 ablation: ``"L1"``, ``"GAN"``, ``"cGAN"``,
``"L1+GAN"``, ``"L1+cGAN"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from deepcourse.cnn import UNet
from deepcourse.core import TensorLoader, fit, predict

from .losses import cgan_d_loss, cgan_g_loss
from .patchgan import PatchGAN

__all__ = ["OBJECTIVES", "Pix2Pix", "Pix2PixTrainer", "make_pix2pix", "train_pix2pix", "translate"]

OBJECTIVES = ("L1", "GAN", "cGAN", "L1+GAN", "L1+cGAN")


class Pix2Pix(nn.Module):
    """Generator ``g`` (U-Net, tanh output, dropout at test time) and discriminator ``d`` (PatchGAN, or
    None for the L1-only ablation). ``conditional``: D sees (x, y) concatenated, else y alone."""

    def __init__(self, g: nn.Module, d: nn.Module | None, objective: str) -> None:
        super().__init__()
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
        self.g, self.d, self.objective = g, d, objective
        self.conditional = "cGAN" in objective
        self.use_l1 = objective.startswith("L1")
        self.use_gan = objective != "L1"

    def forward(self, x: Tensor) -> Tensor:
        return self.g(x)

    def d_logits(self, x: Tensor, y: Tensor) -> Tensor:
        """Patch logits of D on target-or-fake ``y`` given input ``x``."""
        return self.d(torch.cat([x, y], 1) if self.conditional else y)  # (N, 1, H', W')


def make_pix2pix(in_channels: int = 1, out_channels: int = 1, objective: str = "L1+cGAN", depth: int = 2,
                 base_width: int = 32, receptive_field: str | int = "70", d_width: int = 64, dropout: float = 0.5,
                 image_size: int | None = None, norm: str = "batch") -> Pix2Pix:
    """A pix2pix model at a size of our choosing (the paper: 256x256, 8-level U-Net, 70x70 PatchGAN)."""
    g = UNet(in_channels, out_channels, depth=depth, base_width=base_width, dropout=dropout,
             dropout_levels=max(0, min(3, depth - 1)), dropout_at_test=True, norm=norm, out_activation="tanh")
    d = None
    if objective != "L1":
        d_in = in_channels + out_channels if "cGAN" in objective else out_channels
        d = PatchGAN(d_in, receptive_field, width=d_width, norm=norm, image_size=image_size)
    return Pix2Pix(g, d, objective)


class Pix2PixTrainer:
    """One alternating step on a batch ``(x, y)``: D first (on a detached G(x)), then G
    (:func:`~deepcourse.gan.losses.cgan_d_loss` and :func:`~deepcourse.gan.losses.cgan_g_loss`)."""

    def __init__(self, model: Pix2Pix, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer | None,
                 lambda_l1: float = 100.0) -> None:
        self.model, self.opt_g, self.opt_d, self.lambda_l1 = model, opt_g, opt_d, lambda_l1

    def __call__(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        x, y = batch
        m = self.model
        fake = m.g(x)  # (N, C, H, W)
        out: dict[str, Tensor] = {}
        if m.use_gan:
            # D step: halved loss, so D learns more slowly than G (sec. 3.3)
            d_loss = cgan_d_loss(m.d_logits(x, y), m.d_logits(x, fake.detach()), half=True)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            out["d_loss"] = d_loss.detach()
        # G step: non-saturating adversarial term + lambda * L1 (lambda 0 for the GAN-only rows)
        logits = m.d_logits(x, fake) if m.use_gan else None
        g_loss, adv, l1 = cgan_g_loss(logits, fake, y, self.lambda_l1 if m.use_l1 else 0.0)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        out["g_loss"] = g_loss.detach()
        if m.use_gan:
            out["g_adv"] = adv.detach()
        if m.use_l1:
            out["l1"] = l1.detach()
        return out


def train_pix2pix(model: Pix2Pix, x: Tensor, y: Tensor, *, epochs: int, batch_size: int = 64, lr: float = 2e-4,
                  lambda_l1: float = 100.0, seed: int = 0, run: Any = None, log_prefix: str = "",
                  checkpoint_path: str | Path | None = None, max_steps: int | None = None) -> dict:
    """Train ``model`` on pairs ``(x, y)`` with Adam(lr, betas=(0.5, 0.999)) through ``core.fit``.

    Returns the last step's metrics. With ``run``, each variant should get its own ``log_prefix``
    and ``checkpoint_path`` so that a resumed comparison continues each model on its own.
    """
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    device = run.device if run is not None else torch.device("cpu")
    model.to(device).train()
    betas = (0.5, 0.999)  # beta1 = 0.5: the default 0.9 makes adversarial training oscillate (Radford et al. 2016)
    opt_g = torch.optim.Adam(model.g.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(model.d.parameters(), lr=lr, betas=betas) if model.d is not None else None
    optimizers = {"g": opt_g} | ({"d": opt_d} if opt_d is not None else {})
    models = {"g": model.g} | ({"d": model.d} if model.d is not None else {})
    step = Pix2PixTrainer(model, opt_g, opt_d, lambda_l1)
    loader = TensorLoader(x, y, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed)
    state = fit(step, loader, epochs=epochs, max_steps=max_steps, model=models, optimizer=optimizers, run=run,
                device=device, log_prefix=log_prefix, checkpoint_path=checkpoint_path, desc=log_prefix or "pix2pix",
                log_every=25)
    return dict(state.metrics)


def translate(model: nn.Module, x: Tensor, batch_size: int = 500, seed: int | None = 0) -> Tensor:
    """G(x) in eval mode (batch norm uses running statistics; U-Net dropout stays on as the noise).

    ``seed`` fixes the dropout noise for reproducible evaluation (the global RNG is left untouched).
    """
    g = model.g if isinstance(model, Pix2Pix) else model
    dev = next(g.parameters()).device
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        if seed is not None:
            torch.manual_seed(seed)
        return predict(g, x, batch_size)
