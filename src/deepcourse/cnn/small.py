"""The small networks of the lottery-ticket paper (Frankle & Carbin 2019, "The Lottery Ticket Hypothesis:
Finding Sparse, Trainable Neural Networks", Figure 2).

* LeNet-300-100 (LeCun et al. 1998): a fully connected 784-300-100-10 network with ReLU, 266,610
  parameters, trained on MNIST.
* Conv-2/4/6: scaled-down VGG nets (Simonyan & Zisserman 2015) for CIFAR-10: pairs of 3x3 convolutions
  (64, 64 | 128, 128 | 256, 256), each pair followed by 2x2 max-pooling, then fully connected layers
  256-256-10. Figure 2 lists 4.3M, 2.4M and 1.7M parameters; the layers it describes give 4.30M,
  2.43M and 2.26M at 32x32 (the Conv-6 entry disagrees with its own layer list; we follow the layers).
  Dropout is optional, as in the paper's sec. 4.

:class:`ConvNet` is also the project's one small CNN: its keyword-only options (``widths``,
``convs_per_block``, ``batch_norm``, ``hidden_layers``, ``global_pool``) give the conv-BN-pool students,
quantisation nets and FID feature networks of other modules without another class.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .checks import check_classifier_args, check_positive_int, check_prob

__all__ = ["LeNet300100", "ConvNet", "conv2", "conv4", "conv6"]


@register_model("lenet-300-100", example_input=lambda: torch.randn(2, 1, 28, 28))
class LeNet300100(nn.Module):
    """784-300-100-10 with ReLU (Frankle & Carbin 2019, Figure 2, "Lenet"). Inputs ``(B, C, H, W)`` or
    ``(B, in_channels * image_size**2)`` are flattened.

    Args:
        num_classes, in_channels, image_size: output size and input shape (default 1x28x28 MNIST).
        hidden: the two hidden widths.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, image_size: int = 28,
                 hidden: tuple[int, int] = (300, 100)) -> None:
        super().__init__()
        check_classifier_args("LeNet300100", num_classes, in_channels)
        check_positive_int("LeNet300100", "image_size", image_size)
        hidden = tuple(hidden)
        if len(hidden) != 2 or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"LeNet300100: hidden must be two positive ints, got {hidden!r}")
        self.in_features = in_channels * image_size * image_size
        self.fc1 = nn.Linear(self.in_features, hidden[0])
        self.fc2 = nn.Linear(hidden[0], hidden[1])
        self.fc3 = nn.Linear(hidden[1], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)  # (B, in_features)
        if x.shape[1] != self.in_features:
            raise ValueError(f"LeNet300100: expected {self.in_features} input features, got {x.shape[1]}")
        return self.fc3(self.fc2(self.fc1(x).relu()).relu())


class ConvNet(nn.Sequential):
    """The one small CNN of the project: VGG-style blocks of 3x3 convolutions, each block ending in 2x2
    max-pooling, then fully connected layers. The defaults are Conv-2/4/6 of Frankle & Carbin (2019,
    Figure 2): ``blocks`` pairs of convolutions with ReLU, widths ``64 * 2**i``, FC 256-256-``num_classes``.

    A flat ``nn.Sequential`` of modules only (no functional calls in ``forward``), so structured pruning
    (``optimization.shrink_sequential``), layer fusion and quantisation can walk its layers by index.

    Args:
        blocks: number of convolution blocks, at most ``log2(image_size)`` (1, 2, 3: Conv-2, Conv-4, Conv-6).
        num_classes, in_channels, image_size: output size and input shape (default 3x32x32 CIFAR-10).
        width: channels of the first block; block ``i`` has ``width * 2**i`` (64 in the paper).
        hidden: width of the hidden fully connected layers (256).
        dropout: drop probability before each fully connected layer (the paper's dropout runs).
        widths: channels of each block, overriding ``blocks`` and ``width`` (e.g. ``(32, 64)``).
        convs_per_block: 3x3 convolutions per block (2 in the paper, 1 for a plain conv-pool stack).
        batch_norm: conv (no bias) -> BatchNorm -> ReLU instead of conv -> ReLU.
        hidden_layers: number of hidden fully connected layers of width ``hidden`` (2 in the paper;
            1 gives a ``hidden``-dimensional feature layer; 0 a linear classifier on the pooled maps).
        global_pool: average each channel over space instead of flattening the map (any image size).

    :meth:`embed` returns the input of the last linear layer, ``(B, feature_dim)``.
    """

    def __init__(self, blocks: int = 2, num_classes: int = 10, in_channels: int = 3, image_size: int = 32,
                 width: int = 64, hidden: int = 256, dropout: float = 0.0, *, widths: tuple[int, ...] | None = None,
                 convs_per_block: int = 2, batch_norm: bool = False, hidden_layers: int = 2,
                 global_pool: bool = False) -> None:
        name = type(self).__name__
        check_classifier_args(name, num_classes, in_channels)
        if widths is None:
            check_positive_int(name, "blocks", blocks)
            check_positive_int(name, "width", width)
            widths = tuple(width * 2 ** i for i in range(blocks))
        widths = tuple(widths)
        if not widths:
            raise ValueError(f"{name}: widths must name at least one block, got {widths!r}")
        for w in widths:
            check_positive_int(name, "widths[i]", w)
        check_positive_int(name, "convs_per_block", convs_per_block)
        check_positive_int(name, "hidden_layers", hidden_layers, 0)
        if hidden_layers:
            check_positive_int(name, "hidden", hidden)
        check_prob(name, "dropout", dropout)
        check_positive_int(name, "image_size", image_size, 2 ** len(widths))
        layers: list[nn.Module] = []
        c = in_channels
        for w in widths:
            for _ in range(convs_per_block):
                layers.append(nn.Conv2d(c, w, 3, padding=1, bias=not batch_norm))
                layers += [nn.BatchNorm2d(w), nn.ReLU(inplace=True)] if batch_norm else [nn.ReLU(inplace=True)]
                c = w
            layers.append(nn.MaxPool2d(2))
        side = image_size // 2 ** len(widths)
        if global_pool:
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]  # (B, C, 1, 1) -> (B, C)
            d = c
        else:
            layers.append(nn.Flatten())  # (B, C * side * side)
            d = c * side * side
        for _ in range(hidden_layers):
            layers += [nn.Dropout(dropout)] if dropout else []
            layers += [nn.Linear(d, hidden), nn.ReLU(inplace=True)]
            d = hidden
        layers += [nn.Dropout(dropout)] if dropout else []
        layers.append(nn.Linear(d, num_classes))
        super().__init__(*layers)
        self.in_channels, self.dropout, self.feature_dim = in_channels, dropout, d

    def _check(self, x: Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ConvNet: expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return super().forward(x)  # (B, num_classes)

    def embed(self, x: Tensor) -> Tensor:
        """Activations entering the last linear layer (after its dropout), ``(B, feature_dim)``."""
        self._check(x)
        for layer in list(self)[:-1]:
            x = layer(x)
        return x


_SMALL = dict(image_size=16, width=4, hidden=16)


def _example() -> Tensor:
    return torch.randn(2, 3, 16, 16)


@register_model("conv2", example_input=_example, small=_SMALL)
def conv2(num_classes: int = 10, in_channels: int = 3, image_size: int = 32, **kwargs) -> ConvNet:
    """Conv-2 (4.3M parameters at 3x32x32)."""
    return ConvNet(1, num_classes, in_channels, image_size, **kwargs)


@register_model("conv4", example_input=_example, small=_SMALL)
def conv4(num_classes: int = 10, in_channels: int = 3, image_size: int = 32, **kwargs) -> ConvNet:
    """Conv-4 (2.4M parameters at 3x32x32)."""
    return ConvNet(2, num_classes, in_channels, image_size, **kwargs)


@register_model("conv6", example_input=_example, small=_SMALL)
def conv6(num_classes: int = 10, in_channels: int = 3, image_size: int = 32, **kwargs) -> ConvNet:
    """Conv-6 (2.26M parameters at 3x32x32; Figure 2 says 1.7M, see the module docstring)."""
    return ConvNet(3, num_classes, in_channels, image_size, **kwargs)
