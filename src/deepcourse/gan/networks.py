"""Generators and discriminators: MLPs (2-D toy data, the original GAN's MNIST model) and DCGAN.

DCGAN (Radford et al. 2016, Section 3, "Architecture guidelines for stable Deep Convolutional GANs"):

* no pooling: strided convolutions in D, fractionally-strided (transposed) convolutions in G,
  so each network learns its own up/down-sampling;
* batch norm in both, except G's output layer and D's input layer (batch norm everywhere
  "resulted in sample oscillation and model instability");
* no fully connected hidden layers; G's first layer is a matrix product of ``z`` reshaped to a
  small feature map (here a transposed convolution on a ``1 x 1`` map, the same thing);
* ReLU in G with Tanh at the output (a bounded output saturates fast and covers the colour
  range); LeakyReLU(0.2) in D;
* weights from N(0, 0.02), Adam with lr 2e-4 and beta1 = 0.5 (:func:`dcgan_optimizers`).

Images are in [-1, 1], ``(N, C, H, W)``. Discriminators return one score per image, ``(N,)``:
a logit for the log-loss GANs, a raw score for WGAN critics and Coulomb potentials.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from deepcourse.core.models import register_model

__all__ = ["MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "dcgan_init",
           "dcgan_optimizers", "DCGAN_LAYOUTS"]


def _check_pos_int(name: str, v: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{name} must be an int >= 1 (got {v!r})")


@register_model("gan-mlp-g", example_input=lambda: torch.randn(4, 2), small=dict(latent_dim=2, hidden=(16, 16)))
class MLPGenerator(nn.Module):
    """``z -> x``: an MLP with ReLU hidden layers; ``out_shape=(2,)`` for toy data or ``(1, 28, 28)``
    for images. ``tanh=True`` squashes the output to [-1, 1] (images); 2-D data is left linear.

    Goodfellow et al. 2014 used ReLU/sigmoid MLPs of this kind for MNIST (Section 5).
    """

    def __init__(self, latent_dim: int = 2, hidden: Sequence[int] = (128, 128, 128), out_shape: Sequence[int] = (2,),
                 tanh: bool = False, batch_norm: bool = False):
        super().__init__()
        _check_pos_int("latent_dim", latent_dim)
        self.latent_dim, self.out_shape = latent_dim, tuple(out_shape)
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            _check_pos_int("hidden width", h)
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(nn.ReLU())
            width = h
        layers.append(nn.Linear(width, math.prod(self.out_shape)))
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).reshape(z.shape[0], *self.out_shape)  # (N, *out_shape)


@register_model("gan-mlp-d", example_input=lambda: torch.randn(4, 2), small=dict(in_shape=(2,), hidden=(16, 16)))
class MLPDiscriminator(nn.Module):
    """``x -> score (N,)``: an MLP with LeakyReLU(0.2) hidden layers (no saturation for D's gradient
    to G) and optional dropout (Goodfellow et al. 2014 trained D with dropout on MNIST)."""

    def __init__(self, in_shape: Sequence[int] = (2,), hidden: Sequence[int] = (128, 128, 128), dropout: float = 0.0):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1) (got {dropout})")
        layers: list[nn.Module] = []
        width = math.prod(tuple(in_shape))
        for h in hidden:
            _check_pos_int("hidden width", h)
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.reshape(x.shape[0], -1)).squeeze(1)  # (N,)


# image size -> (side of the first feature map, number of 2x up/down-sampling stages)
DCGAN_LAYOUTS = {8: (2, 2), 16: (4, 2), 28: (7, 2), 32: (4, 3), 64: (4, 4)}


def _layout(image_size: int) -> tuple[int, int]:
    if image_size not in DCGAN_LAYOUTS:
        raise ValueError(f"image_size must be one of {sorted(DCGAN_LAYOUTS)} (got {image_size!r})")
    return DCGAN_LAYOUTS[image_size]


def dcgan_init(module: nn.Module) -> None:
    """Radford et al. 2016, Section 4: all weights from N(0, 0.02); batch-norm scales N(1, 0.02), shifts 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


@register_model("dcgan-g", example_input=lambda: torch.randn(2, 16),
                small=dict(latent_dim=16, channels=1, image_size=8, base=8))
class DCGANGenerator(nn.Module):
    """DCGAN generator: ``z (N, latent_dim)`` -> image ``(N, channels, image_size, image_size)`` in [-1, 1].

    ``z`` is projected to a ``s0 x s0`` map with ``base * 2^(stages-1)`` channels, then each stage is a
    stride-2 transposed convolution (kernel 4, padding 1) that doubles the side and halves the
    channels; BN + ReLU after every layer but the last, which is Tanh. For 28x28: 7 -> 14 -> 28;
    32x32: 4 -> 8 -> 16 -> 32; 8x8 (sklearn digits): 2 -> 4 -> 8.
    """

    def __init__(self, latent_dim: int = 100, channels: int = 1, image_size: int = 28, base: int = 64):
        super().__init__()
        for name, v in (("latent_dim", latent_dim), ("channels", channels), ("base", base)):
            _check_pos_int(name, v)
        s0, stages = _layout(image_size)
        self.latent_dim, self.channels, self.image_size = latent_dim, channels, image_size
        width = base * 2 ** (stages - 1)
        # bias=False before BN: the BN shift makes a conv bias redundant
        layers: list[nn.Module] = [nn.ConvTranspose2d(latent_dim, width, s0, 1, 0, bias=False),  # (N, width, s0, s0)
                                   nn.BatchNorm2d(width), nn.ReLU(True)]
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),  # side x2, channels /2
                       nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        # output layer: no BN (BN here made the paper's samples oscillate), Tanh to [-1, 1]
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]  # (N, C, H, W)
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.reshape(z.shape[0], self.latent_dim, 1, 1))  # (N, latent, 1, 1) -> (N, C, H, W)


@register_model("dcgan-d", example_input=lambda: torch.randn(4, 1, 8, 8),
                small=dict(channels=1, image_size=8, base=8))
class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: image -> score ``(N,)``, the mirror of :class:`DCGANGenerator`.

    Stride-2 convolutions (kernel 4, padding 1) halve the side and double the channels, LeakyReLU(0.2)
    throughout; BN on every layer but the input layer; a final convolution over the whole
    ``s0 x s0`` map gives one logit. ``batch_norm=False`` (a WGAN-GP critic: the gradient penalty is
    per sample, and BN couples the samples of a batch) drops BN everywhere.
    """

    def __init__(self, channels: int = 1, image_size: int = 28, base: int = 64, batch_norm: bool = True):
        super().__init__()
        for name, v in (("channels", channels), ("base", base)):
            _check_pos_int(name, v)
        s0, stages = _layout(image_size)
        self.channels, self.image_size = channels, image_size
        # input layer: no BN (the paper's rule), else the critic normalises away the data statistics
        layers: list[nn.Module] = [nn.Conv2d(channels, base, 4, 2, 1), nn.LeakyReLU(0.2, True)]  # side /2
        width = base
        for _ in range(stages - 1):
            layers.append(nn.Conv2d(width, width * 2, 4, 2, 1, bias=not batch_norm))  # side /2, channels x2
            if batch_norm:
                layers.append(nn.BatchNorm2d(width * 2))
            layers.append(nn.LeakyReLU(0.2, True))
            width *= 2
        layers.append(nn.Conv2d(width, 1, s0, 1, 0))  # (N, 1, 1, 1): one score per image
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).reshape(x.shape[0])  # (N,)


def dcgan_optimizers(g: nn.Module, d: nn.Module, lr: float = 2e-4, beta1: float = 0.5
                     ) -> dict[str, torch.optim.Optimizer]:
    """Adam(lr=2e-4, betas=(0.5, 0.999)) for both (Radford et al. 2016, Section 4).
    beta1 = 0.5: the default 0.9 keeps too much momentum in a moving game and made DCGAN oscillate."""
    if not lr > 0:
        raise ValueError(f"lr must be > 0 (got {lr})")
    return {"g": torch.optim.Adam(g.parameters(), lr=lr, betas=(beta1, 0.999)),
            "d": torch.optim.Adam(d.parameters(), lr=lr, betas=(beta1, 0.999))}
