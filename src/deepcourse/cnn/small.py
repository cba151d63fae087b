"""The small networks of the lottery-ticket paper (Frankle & Carbin 2019, "The Lottery Ticket Hypothesis:
Finding Sparse, Trainable Neural Networks", Figure 2).

* LeNet-300-100 (LeCun et al. 1998): a fully connected 784-300-100-10 network with ReLU, 266,610
  parameters, trained on MNIST.
* Conv-2/4/6: scaled-down VGG nets (Simonyan & Zisserman 2015) for CIFAR-10: pairs of 3x3 convolutions
  (64, 64 | 128, 128 | 256, 256), each pair followed by 2x2 max-pooling, then fully connected layers
  256-256-10. Figure 2 lists 4.3M, 2.4M and 1.7M parameters; the layers it describes give 4.30M,
  2.43M and 2.26M at 32x32 (the Conv-6 entry disagrees with its own layer list; we follow the layers).
  Dropout is optional, as in the paper's sec. 4.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core.models import register_model

from ._common import check_classifier_args, check_positive_int, check_prob

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


class ConvNet(nn.Module):
    """Conv-2/4/6 (Frankle & Carbin 2019, Figure 2): ``blocks`` pairs of 3x3 convolutions with ReLU,
    widths ``64 * 2**i``, each pair followed by 2x2 max-pooling; then FC 256-256-``num_classes``.

    Args:
        blocks: 1, 2 or 3 (Conv-2, Conv-4, Conv-6), at most ``log2(image_size)``.
        num_classes, in_channels, image_size: output size and input shape (default 3x32x32 CIFAR-10).
        width: channels of the first pair (64 in the paper).
        hidden: width of the two hidden fully connected layers (256).
        dropout: drop probability before each fully connected layer (the paper's dropout runs).
    """

    def __init__(self, blocks: int = 2, num_classes: int = 10, in_channels: int = 3, image_size: int = 32,
                 width: int = 64, hidden: int = 256, dropout: float = 0.0) -> None:
        super().__init__()
        name = type(self).__name__
        check_classifier_args(name, num_classes, in_channels)
        check_positive_int(name, "blocks", blocks)
        check_positive_int(name, "width", width)
        check_positive_int(name, "hidden", hidden)
        check_prob(name, "dropout", dropout)
        check_positive_int(name, "image_size", image_size, 2 ** blocks)
        self.in_channels, self.dropout = in_channels, dropout
        layers: list[nn.Module] = []
        c = in_channels
        for i in range(blocks):
            w = width * 2 ** i
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(inplace=True),
                       nn.Conv2d(w, w, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        side = image_size // 2 ** blocks
        self.fc1 = nn.Linear(c * side * side, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ConvNet: expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        out = self.features(x).flatten(1)  # (B, C * side * side)
        out = F.dropout(out, self.dropout, self.training)
        out = F.dropout(self.fc1(out).relu(), self.dropout, self.training)
        out = F.dropout(self.fc2(out).relu(), self.dropout, self.training)
        return self.fc3(out)


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
