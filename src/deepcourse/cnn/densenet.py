"""DenseNet-BC (Huang, Liu, van der Maaten & Weinberger 2017, "Densely Connected Convolutional Networks").

Inside a dense block, layer ``l`` sees the concatenation of every earlier feature map of the block
(Eq. 2): ``x_l = H_l([x_0, x_1, ..., x_{l-1}])``, and adds ``k`` new channels (the growth rate),
so the block's width grows linearly, ``k_0 + k (l - 1)``. The "B" variant makes ``H_l`` a
bottleneck, BN-ReLU-Conv1x1 (``4k`` channels) then BN-ReLU-Conv3x3 (``k`` channels); the "C"
variant compresses at every transition (BN-ReLU-Conv1x1 to ``floor(theta m)`` channels, then 2x2
average pooling) with ``theta = 0.5`` (sec. 3, "Compression"). For CIFAR there are three dense
blocks of ``(L - 4) / 6`` bottleneck layers after a 3x3 stem of ``2k`` channels; DenseNet-BC with
``L = 100, k = 12`` has 0.8M parameters (Table 2).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .checks import check_classifier_args, check_positive_int, check_prob
from .init import init_weights

__all__ = ["DenseLayer", "DenseBlock", "Transition", "DenseNet", "densenet_bc"]


class DenseLayer(nn.Module):
    """``H_l``: BN-ReLU-Conv1x1(``bn_size * k``)-BN-ReLU-Conv3x3(``k``) (the "B" bottleneck), or
    BN-ReLU-Conv3x3(``k``) without it; optional dropout after each convolution (the paper's 0.2
    for runs without data augmentation)."""

    def __init__(self, in_channels: int, growth_rate: int, bottleneck: bool = True, bn_size: int = 4,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = dropout
        if bottleneck:
            inner = bn_size * growth_rate
            self.bottleneck = nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
                                            nn.Conv2d(in_channels, inner, 1, bias=False))
        else:
            inner, self.bottleneck = in_channels, None
        self.bn = nn.BatchNorm2d(inner)
        self.conv = nn.Conv2d(inner, growth_rate, 3, padding=1, bias=False)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = torch.cat(features, dim=1)  # (B, k_0 + k (l - 1), H, W): every earlier map, Eq. 2
        if self.bottleneck is not None:
            x = F.dropout(self.bottleneck(x), self.dropout, self.training)
        return F.dropout(self.conv(self.bn(x).relu()), self.dropout, self.training)  # (B, k, H, W)


class DenseBlock(nn.Module):
    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bottleneck: bool = True,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(in_channels + i * growth_rate, growth_rate, bottleneck, dropout=dropout)
                                    for i in range(num_layers))
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return torch.cat(features, dim=1)  # (B, out_channels, H, W)


class Transition(nn.Sequential):
    """BN-ReLU-Conv1x1 to ``out_channels`` then 2x2 average pooling (sec. 3, "Pooling layers")."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
                         nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.AvgPool2d(2))


class DenseNet(nn.Module):
    """DenseNet(-BC) for 32x32 inputs: three dense blocks (Huang et al. 2017, sec. 4.2 and Table 2).

    Args:
        depth: ``L``; with ``bottleneck``, ``(L - 4) / 6`` layers per block (``L - 4`` divisible by 6),
            else ``(L - 4) / 3``.
        growth_rate: ``k``.
        compression: ``theta`` in (0, 1]; 0.5 for DenseNet-BC, 1 for no compression.
        bottleneck: use the 1x1 bottleneck in every layer ("B").
        dropout: drop probability after each convolution of a dense layer.
        num_classes, in_channels: classifier outputs and input channels.
    """

    def __init__(self, depth: int = 100, growth_rate: int = 12, compression: float = 0.5, bottleneck: bool = True,
                 dropout: float = 0.0, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        name = type(self).__name__
        check_classifier_args(name, num_classes, in_channels)
        check_positive_int(name, "depth", depth, 7)
        check_positive_int(name, "growth_rate", growth_rate)
        check_prob(name, "dropout", dropout)
        if isinstance(compression, bool) or not isinstance(compression, (int, float)) or not 0 < compression <= 1:
            raise ValueError(f"{name}: compression must be in (0, 1], got {compression!r}")
        per = 6 if bottleneck else 3
        if (depth - 4) % per:
            raise ValueError(f"{name}: depth - 4 must be divisible by {per} (bottleneck={bottleneck}), got depth={depth}")
        n = (depth - 4) // per
        self.in_channels, self.num_classes = in_channels, num_classes
        channels = 2 * growth_rate if bottleneck and compression < 1 else 16  # the paper's stem widths
        self.stem = nn.Conv2d(in_channels, channels, 3, padding=1, bias=False)
        stages: list[nn.Module] = []
        for b in range(3):
            block = DenseBlock(n, channels, growth_rate, bottleneck, dropout)
            stages.append(block)
            channels = block.out_channels
            if b < 2:
                out = int(math.floor(compression * channels))
                stages.append(Transition(channels, out))
                channels = out
        self.blocks = nn.Sequential(*stages)
        self.final = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        self.fc = nn.Linear(channels, num_classes)
        self.features_dim = channels
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"DenseNet: expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        out = self.final(self.blocks(self.stem(x)))
        return self.fc(out.mean(dim=(2, 3)))  # (B, num_classes)


@register_model("densenet-bc", example_input=lambda: torch.randn(2, 3, 16, 16),
                small=dict(depth=10, growth_rate=4, dropout=0.2))
def densenet_bc(depth: int = 100, growth_rate: int = 12, compression: float = 0.5, dropout: float = 0.0,
                num_classes: int = 10, in_channels: int = 3) -> DenseNet:
    """DenseNet-BC-``depth`` with growth rate ``k`` (default L = 100, k = 12: 0.8M parameters)."""
    return DenseNet(depth, growth_rate, compression, True, dropout, num_classes, in_channels)
