"""The residual image-to-image generator of Johnson, Alahi & Fei-Fei (2016, "Perceptual Losses for
Real-Time Style Transfer and Super-Resolution", supplementary Table 1), as CycleGAN uses it (Zhu, Park,
Isola & Efros 2017, appendix 7.2: "c7s1-64, d128, d256, R256 x 9, u128, u64, c7s1-3").

``ResnetBlock`` is ``x + norm(conv3x3(pad(relu(norm(conv3x3(pad(x)))))))`` with *reflection* padding,
which keeps image borders free of the dark seams zero padding leaves; instance normalisation is the
default (Ulyanov et al. 2016), since it normalises each image on its own.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .checks import check_positive_int, check_prob
from .init import init_weights
from .unet import make_norm

__all__ = ["ResnetBlock", "ResnetGenerator"]


class ResnetBlock(nn.Module):
    """Residual block with reflection padding (CycleGAN's "R" block), width-preserving.

    Args:
        channels: input and output channels.
        norm: ``"instance"`` (default), ``"batch"`` or ``"none"``.
        dropout: drop probability between the two convolutions (pix2pix/CycleGAN option).
    """

    def __init__(self, channels: int, norm: str = "instance", dropout: float = 0.0) -> None:
        super().__init__()
        check_positive_int("ResnetBlock", "channels", channels)
        check_prob("ResnetBlock", "dropout", dropout)
        self.channels = channels
        layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), make_norm(norm, channels),
                                   nn.ReLU(inplace=True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), make_norm(norm, channels)]
        self.block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"ResnetBlock: expected input (B, {self.channels}, H, W), got {tuple(x.shape)}")
        return x + self.block(x)  # no activation after the sum, as in the reference code


class ResnetGenerator(nn.Module):
    """c7s1-w, ``n_down`` stride-2 convolutions (doubling), ``n_blocks`` ResnetBlocks, ``n_down``
    fractionally strided convolutions (halving), c7s1-out and tanh. Height and width must be
    divisible by ``2**n_down`` for the output to match the input size.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 64, n_blocks: int = 9,
                 n_down: int = 2, norm: str = "instance", dropout: float = 0.0) -> None:
        super().__init__()
        for arg, v, lo in (("in_channels", in_channels, 1), ("out_channels", out_channels, 1), ("width", width, 1),
                           ("n_blocks", n_blocks, 0), ("n_down", n_down, 0)):
            check_positive_int("ResnetGenerator", arg, v, lo)
        self.in_channels, self.n_down = in_channels, n_down
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7), make_norm(norm, width),
                                   nn.ReLU(inplace=True)]
        c = width
        for _ in range(n_down):
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), make_norm(norm, 2 * c), nn.ReLU(inplace=True)]
            c *= 2
        layers += [ResnetBlock(c, norm, dropout) for _ in range(n_blocks)]
        for _ in range(n_down):
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1), make_norm(norm, c // 2),
                       nn.ReLU(inplace=True)]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ResnetGenerator: expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        return self.net(x)  # (B, out_channels, H, W), values in (-1, 1)


register_model("resnet-generator", example_input=lambda: torch.randn(2, 3, 16, 16),
               small=dict(width=4, n_blocks=2))(ResnetGenerator)
