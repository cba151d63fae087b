"""U-Net (Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional Networks for Biomedical Image Segmentation").

A contracting path of ``depth`` levels (two 3x3 conv + ReLU, then 2x2 max-pool, doubling the width at
every level) and a symmetric expanding path (a 2x2 "up-convolution" halving the width, concatenation
with the encoder map of the same level, two 3x3 conv + ReLU), closed by a 1x1 convolution to the output
channels (the paper's Fig. 1: depth 4, widths 64 ... 1024, 23 convolution layers). The skip
connections hand the decoder the fine localisation the pooled path has lost.

Two departures from the paper, both common practice: the 3x3 convolutions are padded, so the output
has the input's height and width (the paper's unpadded 572x572 -> 388x388 needs overlap-tile cropping),
and each convolution is followed by a normalisation layer (batch norm by default). Inputs whose size
is not divisible by ``2**depth`` are handled by padding the upsampled map to its skip's size.

Dropout: the paper puts dropout at the end of the contracting path; pix2pix (Isola et al. 2017,
sec. 3.2 and 6.1.1) uses a U-Net generator with dropout 0.5 in the innermost decoder levels and keeps
it *on at test time* as the generator's only source of noise: ``dropout_at_test=True``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .checks import check_positive_int, check_prob, check_se
from .init import init_weights
from .se import make_se

__all__ = ["MCDropout", "DoubleConv", "UNet", "make_norm"]


def make_norm(kind: str, channels: int) -> nn.Module:
    """``"batch"``, ``"instance"`` (Ulyanov et al. 2016, the usual choice for image-to-image GANs) or ``"none"``."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'instance' or 'none', got {kind!r}")


class MCDropout(nn.Module):
    """Element-wise dropout that can stay active in ``eval()`` mode (``always=True``): the test-time
    noise of the pix2pix generator, and Monte-Carlo dropout (Gal & Ghahramani 2016)."""

    def __init__(self, p: float = 0.5, always: bool = False) -> None:
        super().__init__()
        self.p, self.always = check_prob("MCDropout", "p", p), bool(always)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training or self.always)

    def extra_repr(self) -> str:
        return f"p={self.p}, always={self.always}"


class DoubleConv(nn.Sequential):
    """(3x3 conv, norm, ReLU) x 2, then an optional SE gate (the U-Net's unit at every level)."""

    def __init__(self, cin: int, cout: int, norm: str = "batch", se_reduction: int | None = None) -> None:
        bias = norm == "none"  # a following norm layer's shift makes the conv bias redundant
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=bias), make_norm(norm, cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=bias), make_norm(norm, cout), nn.ReLU(inplace=True),
            make_se(cout, se_reduction),
        )


class UNet(nn.Module):
    """U-Net with configurable depth and width.

    Args:
        in_channels, out_channels: channels of the input image and of the output map (classes or image channels).
        depth: number of 2x2 poolings (paper: 4); the bottleneck has ``base_width * 2**depth`` channels.
        base_width: channels of the first level (paper: 64).
        se_reduction: add an SE gate to every double convolution (None: no SE).
        dropout: drop probability at the bottleneck and in the ``dropout_levels`` innermost decoder levels.
        dropout_levels: how many decoder levels (innermost first) get dropout besides the bottleneck (pix2pix: 3).
        dropout_at_test: keep dropout active in ``eval()`` mode (pix2pix); can be changed later by
            assigning ``model.dropout_at_test``.
        norm: ``"batch"``, ``"instance"`` or ``"none"``.
        upsample: ``"transpose"`` (2x2 transposed conv, the paper's up-convolution) or ``"bilinear"``
            (bilinear x2 then a 1x1 conv; avoids checkerboard artefacts, Odena et al. 2016).
        out_activation: ``None`` (logits), ``"tanh"`` (images in [-1, 1], as a GAN generator) or ``"sigmoid"``.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 2, depth: int = 4, base_width: int = 64,
                 se_reduction: int | None = None, dropout: float = 0.0, dropout_levels: int = 3,
                 dropout_at_test: bool = False, norm: str = "batch", upsample: str = "transpose",
                 out_activation: str | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        check_positive_int(name, "in_channels", in_channels)
        check_positive_int(name, "out_channels", out_channels)
        check_positive_int(name, "depth", depth)
        check_positive_int(name, "base_width", base_width)
        check_positive_int(name, "dropout_levels", dropout_levels, 0)
        check_prob(name, "dropout", dropout)
        check_se(name, se_reduction)
        make_norm(norm, 1)
        if upsample not in ("transpose", "bilinear"):
            raise ValueError(f"{name}: upsample must be 'transpose' or 'bilinear', got {upsample!r}")
        if out_activation not in (None, "tanh", "sigmoid"):
            raise ValueError(f"{name}: out_activation must be None, 'tanh' or 'sigmoid', got {out_activation!r}")
        self.in_channels, self.out_channels, self.depth = in_channels, out_channels, depth
        self.out_activation = out_activation
        widths = [base_width * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList([DoubleConv(in_channels, widths[0], norm, se_reduction)] +
                                  [DoubleConv(widths[i - 1], widths[i], norm, se_reduction) for i in range(1, depth + 1)])
        self.bottleneck_dropout = MCDropout(dropout, dropout_at_test) if dropout > 0 else nn.Identity()
        ups, decs, drops = [], [], []
        for level in range(depth, 0, -1):  # innermost first
            cin, cout = widths[level], widths[level - 1]
            if upsample == "transpose":
                ups.append(nn.ConvTranspose2d(cin, cout, 2, stride=2))
            else:
                ups.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                         nn.Conv2d(cin, cout, 1)))
            decs.append(DoubleConv(2 * cout, cout, norm, se_reduction))  # input: [upsampled, skip] concatenated
            inner_index = depth - level  # 0 for the innermost decoder level
            drops.append(MCDropout(dropout, dropout_at_test) if dropout > 0 and inner_index < dropout_levels else nn.Identity())
        self.up, self.dec, self.dec_dropout = nn.ModuleList(ups), nn.ModuleList(decs), nn.ModuleList(drops)
        self.head = nn.Conv2d(widths[0], out_channels, 1)
        init_weights(self)

    @property
    def dropout_at_test(self) -> bool:
        return any(m.always for m in self.modules() if isinstance(m, MCDropout))

    @dropout_at_test.setter
    def dropout_at_test(self, value: bool) -> None:
        for m in self.modules():
            if isinstance(m, MCDropout):
                m.always = bool(value)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"UNet: expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if min(x.shape[2:]) < 2 ** self.depth:
            raise ValueError(f"UNet: height and width must be >= 2**depth = {2 ** self.depth}, got {tuple(x.shape[2:])}")
        skips = []
        out = x
        for i, block in enumerate(self.down):
            if i > 0:
                out = F.max_pool2d(out, 2)  # (B, C, H / 2^i, W / 2^i), floored
            out = block(out)
            skips.append(out)
        out = self.bottleneck_dropout(skips.pop())  # (B, base * 2^depth, H / 2^depth, W / 2^depth)
        for up, dec, drop in zip(self.up, self.dec, self.dec_dropout):
            skip = skips.pop()
            out = up(out)  # (B, C / 2, 2h, 2w)
            dh, dw = skip.shape[2] - out.shape[2], skip.shape[3] - out.shape[3]
            if dh or dw:  # odd sizes: pooling floored, so the upsampled map is short by one row/column
                out = F.pad(out, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))
            out = drop(dec(torch.cat([out, skip], dim=1)))  # (B, C / 2, H_skip, W_skip)
        out = self.head(out)  # (B, out_channels, H, W)
        if self.out_activation == "tanh":
            return out.tanh()
        if self.out_activation == "sigmoid":
            return out.sigmoid()
        return out


@register_model("unet", example_input=lambda: torch.randn(2, 3, 16, 16),
                small=dict(in_channels=3, out_channels=2, depth=2, base_width=4, se_reduction=4, dropout=0.5))
def unet(in_channels: int = 1, out_channels: int = 2, depth: int = 4, base_width: int = 64, **kwargs) -> UNet:
    """U-Net of the paper's Fig. 1 by default (depth 4, base width 64)."""
    return UNet(in_channels, out_channels, depth, base_width, **kwargs)
