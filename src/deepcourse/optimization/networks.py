"""The classifiers that module 9's experiments train, chosen by name in their configs.

* ``mlp``: the course's shared :class:`deepcourse.foundations.MLP`, two hidden layers of ``width`` with
  BatchNorm (so that SWA's BatchNorm update and the mean teacher's buffer averaging have work to do).
* ``cnn``: the course's shared small CNN, :class:`deepcourse.cnn.ConvNet`, in its all-convolutional
  form: two VGG-style stages of two conv-BN-ReLU layers (``width``, ``2 width`` channels), each ending
  in 2x2 max-pooling, global average pooling and one linear layer.
* ``mt-convnet``: :class:`MeanTeacherConvNet`, a scaled-down form of the ConvNet of Tarvainen & Valpola
  (2017, Appendix B.1, Table 5; from Laine & Aila 2017) with dropout after each pooling stage.
* ``resnet18``, ``preact-resnet18``, ``mobilenet-v2``: the registered ImageNet-style networks of
  :mod:`deepcourse.cnn` with the CIFAR stem (GPU presets); for MobileNet ``width / 32`` is the
  width multiplier alpha.
"""

from __future__ import annotations

import math

from torch import nn

from deepcourse.cnn import ConvNet, mobilenet_v2, preact_resnet18, resnet18
from deepcourse.foundations import MLP

__all__ = ["CLASSIFIERS", "MeanTeacherConvNet", "build_classifier"]

CLASSIFIERS = ("mlp", "cnn", "mt-convnet", "resnet18", "preact-resnet18", "mobilenet-v2")


class MeanTeacherConvNet(nn.Sequential):
    """The ConvNet of Tarvainen & Valpola (2017, Table 5), scaled down for a CPU.

    Theirs: three 3x3 conv layers of 128 channels, 2x2 max-pooling, dropout 0.5; three of 256, max-pooling,
    dropout 0.5; a 3x3 valid conv of 512, 1x1 convs of 256 and 128, global average pooling, a linear layer;
    BatchNorm and LeakyReLU(0.1) throughout. Ours keeps that shape with two 3x3 convs per stage and widths
    ``(w, 2w)``, then a 3x3 valid conv of ``4w`` and a 1x1 conv of ``2w``: with ``w = 16`` a 28x28 image costs
    about 5 M multiply-adds, against about 730 M for the paper's network on a 32x32 image. The dropout after each pooling stage is part of the
    noise that Mean Teacher's consistency cost acts on (Tarvainen & Valpola 2017, Section 2)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 16, dropout: float = 0.5):
        def conv(cin: int, cout: int, k: int, pad: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, k, padding=pad, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1)]

        w = width
        layers: list[nn.Module] = []
        c = in_channels
        for out in (w, 2 * w):
            layers += conv(c, out, 3, 1) + conv(out, out, 3, 1) + [nn.MaxPool2d(2)]
            layers += [nn.Dropout(dropout)] if dropout else []
            c = out
        layers += conv(c, 4 * w, 3, 0) + conv(4 * w, 2 * w, 1, 0)
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * w, num_classes)]  # (B, 2w) -> (B, K)
        super().__init__(*layers)


def build_classifier(kind: str, input_shape: tuple[int, ...], num_classes: int, width: int,
                     dropout: float = 0.0) -> nn.Module:
    """A fresh classifier ``kind`` (one of :data:`CLASSIFIERS`) for inputs of ``input_shape`` (one example:
    ``(C, H, W)`` images or ``(D,)`` features; convolutional kinds need images). ``dropout`` applies
    after each hidden layer of the MLP, before the CNN's classifier and after each pooling stage of
    ``mt-convnet``."""
    if kind == "mlp":
        return MLP(math.prod(input_shape), (width, width), num_classes, dropout=dropout, batch_norm=True)
    if len(input_shape) != 3:
        raise ValueError(f"model {kind!r} needs images (C, H, W), got inputs of shape {tuple(input_shape)}")
    c, side = input_shape[0], input_shape[-1]
    if kind == "cnn":
        return ConvNet(num_classes=num_classes, in_channels=c, image_size=side, widths=(width, 2 * width),
                       batch_norm=True, hidden_layers=0, global_pool=True, dropout=dropout)
    if kind == "mt-convnet":
        if side < 12:
            raise ValueError(f"model 'mt-convnet' needs images of at least 12x12, got {side}x{side}")
        return MeanTeacherConvNet(num_classes, c, width, dropout)
    if kind == "resnet18":
        return resnet18(num_classes=num_classes, in_channels=c, width=width)
    if kind == "preact-resnet18":
        return preact_resnet18(num_classes=num_classes, in_channels=c, width=width)
    if kind == "mobilenet-v2":
        return mobilenet_v2(num_classes=num_classes, in_channels=c, alpha=width / 32)
    raise ValueError(f"model must be one of {CLASSIFIERS}, got {kind!r}")
