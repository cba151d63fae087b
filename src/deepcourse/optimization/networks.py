"""The classifiers that module 9's experiments train, chosen by name in their configs.

* ``mlp``: the course's shared :class:`deepcourse.foundations.MLP`, two hidden layers of ``width`` with
  BatchNorm (so that SWA's BatchNorm update and the mean teacher's buffer averaging have work to do).
* ``cnn``: the course's shared small CNN, :class:`deepcourse.cnn.ConvNet`, in its all-convolutional
  form: two VGG-style stages of two conv-BN-ReLU layers (``width``, ``2 width`` channels), each ending
  in 2x2 max-pooling, global average pooling and one linear layer.
* ``resnet18``, ``preact-resnet18``, ``mobilenet-v2``: the registered ImageNet-style networks of
  :mod:`deepcourse.cnn` with the CIFAR stem (GPU presets); for MobileNet ``width / 32`` is the
  width multiplier alpha.
"""

from __future__ import annotations

import math

from torch import nn

from deepcourse.cnn import ConvNet, mobilenet_v2, preact_resnet18, resnet18
from deepcourse.foundations import MLP

__all__ = ["CLASSIFIERS", "build_classifier"]

CLASSIFIERS = ("mlp", "cnn", "resnet18", "preact-resnet18", "mobilenet-v2")


def build_classifier(kind: str, input_shape: tuple[int, ...], num_classes: int, width: int,
                     dropout: float = 0.0) -> nn.Module:
    """A fresh classifier ``kind`` (one of :data:`CLASSIFIERS`) for inputs of ``input_shape`` (one example:
    ``(C, H, W)`` images or ``(D,)`` features; convolutional kinds need images). ``dropout`` applies
    after each hidden layer of the MLP and before the CNN's classifier."""
    if kind == "mlp":
        return MLP(math.prod(input_shape), (width, width), num_classes, dropout=dropout, batch_norm=True)
    if len(input_shape) != 3:
        raise ValueError(f"model {kind!r} needs images (C, H, W), got inputs of shape {tuple(input_shape)}")
    c, side = input_shape[0], input_shape[-1]
    if kind == "cnn":
        return ConvNet(num_classes=num_classes, in_channels=c, image_size=side, widths=(width, 2 * width),
                       batch_norm=True, hidden_layers=0, global_pool=True, dropout=dropout)
    if kind == "resnet18":
        return resnet18(num_classes=num_classes, in_channels=c, width=width)
    if kind == "preact-resnet18":
        return preact_resnet18(num_classes=num_classes, in_channels=c, width=width)
    if kind == "mobilenet-v2":
        return mobilenet_v2(num_classes=num_classes, in_channels=c, alpha=width / 32)
    raise ValueError(f"model must be one of {CLASSIFIERS}, got {kind!r}")
