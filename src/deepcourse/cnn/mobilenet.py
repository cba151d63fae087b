"""MobileNets: v1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications") and v2 (Sandler, Howard, Zhu, Zhmoginov & Chen 2018, "MobileNetV2: Inverted
Residuals and Linear Bottlenecks").

v1 factorises a 3x3 convolution into a depthwise 3x3 (one filter per channel) and a pointwise 1x1
(v1, Fig. 3), cutting the cost from ``D_K^2 M N D_F^2`` to ``D_K^2 M D_F^2 + M N D_F^2`` multiply-adds
(Eq. 5), about 8-9x fewer for 3x3 kernels. The width multiplier ``alpha`` thins every layer
(``M -> alpha M``, Eq. 6), so cost and parameters fall roughly as ``alpha^2``.

v2's inverted residual block (v2, Table 1 and Fig. 3b) expands the narrow input ``t`` times with a
1x1 convolution + ReLU6, filters it with a depthwise 3x3 + ReLU6 and projects it back with a *linear*
1x1 (no nonlinearity: ReLU in a low-dimensional space destroys information, sec. 3.2); the shortcut
joins the narrow ends when the stride is 1 and the widths match.

For 32x32 inputs (``cifar_stem=True``) the stem convolution has stride 1, and v2 keeps stride 1 on its
second stage too, so the last feature map is 2x2 (v1) or 4x4 (v2) instead of 1x1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .checks import check_classifier_args, check_prob, check_se
from .init import init_weights
from .se import make_se

__all__ = ["DepthwiseSeparable", "InvertedResidual", "MobileNetV1", "MobileNetV2", "mobilenet_v1", "mobilenet_v2", "se_mobilenet_v2"]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor`` without losing more than 10 % of it (the
    channel rounding of the MobileNet v2 reference code, used with the width multiplier)."""
    min_value = divisor if min_value is None else min_value
    out = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if out < 0.9 * value:
        out += divisor
    return out


def _act(name: str) -> nn.Module:
    if name == "relu6":
        return nn.ReLU6(inplace=True)
    if name == "relu":
        return nn.ReLU(inplace=True)
    raise ValueError(f"activation must be 'relu6' or 'relu', got {name!r}")


def conv_bn_act(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: str | None = "relu6") -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(_act(act))
    return nn.Sequential(*layers)


def _check_alpha(owner: str, alpha: object) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
        raise ValueError(f"{owner}: alpha (width multiplier) must be > 0, got {alpha!r}")
    return float(alpha)


class DepthwiseSeparable(nn.Module):
    """Depthwise 3x3 + BN + ReLU6, [SE], pointwise 1x1 + BN + ReLU6 (v1, Fig. 3 right)."""

    def __init__(self, cin: int, cout: int, stride: int = 1, se_reduction: int | None = None, act: str = "relu6") -> None:
        super().__init__()
        self.depthwise = conv_bn_act(cin, cin, 3, stride, groups=cin, act=act)  # groups=cin: one filter per channel
        self.se = make_se(cin, se_reduction)
        self.pointwise = conv_bn_act(cin, cout, 1, act=act)

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.se(self.depthwise(x)))


# v1, Table 1: (output channels, stride) of the 13 depthwise-separable layers
V1_LAYERS: tuple[tuple[int, int], ...] = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                                          (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


class MobileNetV1(nn.Module):
    """MobileNet v1 (Howard et al. 2017, Table 1) with width multiplier ``alpha``.

    Args:
        num_classes, in_channels: classifier outputs and input channels.
        alpha: width multiplier (1, 0.75, 0.5, 0.25 in the paper); channels are rounded to multiples of 8.
        se_reduction: optional SE gate after each depthwise convolution.
        cifar_stem: stem stride 1 for 32x32 inputs (stride 2 for 224x224, as in the paper).
        activation: "relu6" (the released models) or "relu" (the paper's text).
        dropout: drop probability before the classifier.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, alpha: float = 1.0, se_reduction: int | None = None,
                 cifar_stem: bool = True, activation: str = "relu6", dropout: float = 0.0) -> None:
        super().__init__()
        name = type(self).__name__
        check_classifier_args(name, num_classes, in_channels)
        alpha = _check_alpha(name, alpha)
        check_se(name, se_reduction)
        check_prob(name, "dropout", dropout)
        _act(activation)
        self.in_channels, self.num_classes, self.alpha, self.dropout = in_channels, num_classes, alpha, dropout
        c = make_divisible(32 * alpha)
        self.stem = conv_bn_act(in_channels, c, 3, 1 if cifar_stem else 2, act=activation)
        layers = []
        for cout, s in V1_LAYERS:
            cout = make_divisible(cout * alpha)
            layers.append(DepthwiseSeparable(c, cout, s, se_reduction, activation))
            c = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(c, num_classes)
        self.features_dim = c
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"MobileNetV1: expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        out = self.layers(self.stem(x)).mean(dim=(2, 3))  # (B, C): global average pooling
        return self.fc(F.dropout(out, self.dropout, self.training))


class InvertedResidual(nn.Module):
    """Expand 1x1 (``t`` times) + ReLU6, depthwise 3x3 + ReLU6, [SE], linear 1x1 projection (v2, Table 1);
    ``x +`` that when ``stride == 1`` and ``cin == cout``."""

    def __init__(self, cin: int, cout: int, stride: int, expansion: int, se_reduction: int | None = None) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride!r}")
        hidden = cin * expansion
        self.use_residual = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expansion != 1:  # t = 1 (the first block) has nothing to expand
            layers.append(conv_bn_act(cin, hidden, 1))
        layers.append(conv_bn_act(hidden, hidden, 3, stride, groups=hidden))
        layers.append(make_se(hidden, se_reduction))
        layers.append(conv_bn_act(hidden, cout, 1, act=None))  # linear bottleneck: no ReLU on the narrow output
        self.block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        return x + out if self.use_residual else out


# v2, Table 2: expansion t, output channels c, repeats n, first stride s
V2_SETTINGS: tuple[tuple[int, int, int, int], ...] = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                                                      (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class MobileNetV2(nn.Module):
    """MobileNet v2 (Sandler et al. 2018, Table 2): 17 inverted residual blocks and a 1x1 conv to 1280.

    Args:
        num_classes, in_channels: classifier outputs and input channels.
        alpha: width multiplier; the last 1x1 convolution keeps 1280 channels for ``alpha < 1`` (sec. 6.1).
        expansion: overrides ``t`` of every block after the first (Table 2 uses 6).
        se_reduction: optional SE gate after each depthwise convolution.
        cifar_stem: stride 1 in the stem and in the second stage for 32x32 inputs.
        last_channel: width of the final 1x1 convolution (default ``1280 * max(1, alpha)``).
        dropout: drop probability before the classifier (0.2 in the reference code).
        settings: the ``(t, c, n, s)`` rows (default: Table 2).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, alpha: float = 1.0, expansion: int | None = None,
                 se_reduction: int | None = None, cifar_stem: bool = True, last_channel: int | None = None,
                 dropout: float = 0.2, settings: Sequence[tuple[int, int, int, int]] = V2_SETTINGS) -> None:
        super().__init__()
        name = type(self).__name__
        check_classifier_args(name, num_classes, in_channels)
        alpha = _check_alpha(name, alpha)
        check_se(name, se_reduction)
        check_prob(name, "dropout", dropout)
        if expansion is not None and (isinstance(expansion, bool) or not isinstance(expansion, int) or expansion < 1):
            raise ValueError(f"{name}: expansion must be a positive int or None, got {expansion!r}")
        self.in_channels, self.num_classes, self.alpha, self.dropout = in_channels, num_classes, alpha, dropout
        c = make_divisible(32 * alpha)
        self.stem = conv_bn_act(in_channels, c, 3, 1 if cifar_stem else 2)
        blocks = []
        for row, (t, cout, n, s) in enumerate(settings):
            if expansion is not None and row > 0:
                t = expansion
            if cifar_stem and row == 1:
                s = 1
            cout = make_divisible(cout * alpha)
            for i in range(n):
                blocks.append(InvertedResidual(c, cout, s if i == 0 else 1, t, se_reduction))
                c = cout
        self.blocks = nn.Sequential(*blocks)
        last = last_channel if last_channel is not None else make_divisible(1280 * max(1.0, alpha))
        self.head = conv_bn_act(c, last, 1)
        self.fc = nn.Linear(last, num_classes)
        self.features_dim = last
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"MobileNetV2: expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        out = self.head(self.blocks(self.stem(x))).mean(dim=(2, 3))  # (B, last_channel)
        return self.fc(F.dropout(out, self.dropout, self.training))


def _example() -> Tensor:
    return torch.randn(2, 3, 16, 16)


@register_model("mobilenet-v1", example_input=_example, small=dict(alpha=0.25))
def mobilenet_v1(num_classes: int = 10, in_channels: int = 3, alpha: float = 1.0, se_reduction: int | None = None,
                 cifar_stem: bool = True, **kwargs) -> MobileNetV1:
    """MobileNet v1 (3.2M parameters at 10 classes, alpha = 1)."""
    return MobileNetV1(num_classes, in_channels, alpha, se_reduction, cifar_stem, **kwargs)


@register_model("mobilenet-v2", example_input=_example, small=dict(alpha=0.25, last_channel=64))
def mobilenet_v2(num_classes: int = 10, in_channels: int = 3, alpha: float = 1.0, se_reduction: int | None = None,
                 cifar_stem: bool = True, **kwargs) -> MobileNetV2:
    """MobileNet v2 (2.24M parameters at 10 classes, alpha = 1)."""
    return MobileNetV2(num_classes, in_channels, alpha, se_reduction=se_reduction, cifar_stem=cifar_stem, **kwargs)


@register_model("se-mobilenet-v2", example_input=_example, small=dict(alpha=0.25, last_channel=64))
def se_mobilenet_v2(num_classes: int = 10, in_channels: int = 3, alpha: float = 1.0, se_reduction: int = 16,
                    cifar_stem: bool = True, **kwargs) -> MobileNetV2:
    """MobileNet v2 with an SE gate (r = 16, Hu et al. 2018's default) after every depthwise convolution."""
    return MobileNetV2(num_classes, in_channels, alpha, se_reduction=se_reduction, cifar_stem=cifar_stem, **kwargs)
