"""Wide residual networks (Zagoruyko & Komodakis 2016, "Wide Residual Networks").

WRN-d-k is a pre-activation ResNet (He et al. 2016b) that is shallow and wide: three groups of
``n = (d - 4) / 6`` basic blocks with widths ``16k, 32k, 64k`` after a 16-channel 3x3 stem (the
paper's Table 1), so the depth ``d`` counts the stem, two convolutions per block, the three
projection shortcuts' group transitions and the classifier. Dropout sits *between* the two
convolutions of each block, after the second BN-ReLU (sec. 2.4, Fig. 1d: "wide-dropout"), where it
regularises the wide block without disturbing the identity path. WRN-28-10 has 36.5M parameters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .checks import check_classifier_args, check_positive_int, check_prob, check_se
from .init import init_weights
from .se import make_se

__all__ = ["WideBlock", "WideResNet", "wide_resnet"]


class WideBlock(nn.Module):
    """``x + conv3x3(dropout(relu(BN(conv3x3(relu(BN(x)))))))``, the "B(3,3)" block of the paper (Fig. 1d)."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1, dropout: float = 0.0,
                 se_reduction: int | None = None) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.dropout = dropout
        self.se = make_se(planes, se_reduction)
        self.shortcut = (nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False)
                         if stride != 1 or in_planes != planes else None)

    def forward(self, x: Tensor) -> Tensor:
        pre = self.bn1(x).relu()
        skip = self.shortcut(pre) if self.shortcut is not None else x
        out = self.bn2(self.conv1(pre)).relu()
        out = F.dropout(out, self.dropout, self.training)
        return self.se(self.conv2(out)) + skip


class WideResNet(nn.Module):
    """WRN-``depth``-``widen`` for 32x32 inputs (Zagoruyko & Komodakis 2016, Table 1).

    Args:
        depth: total depth ``d``; ``d - 4`` must be divisible by 6 (10, 16, 22, 28, 40, ...).
        widen: widening factor ``k`` (channels ``16k, 32k, 64k``).
        dropout: drop probability between the two convolutions of each block (paper: 0.3).
        num_classes, in_channels: classifier outputs and input channels.
        base: channels of the stem and unit of the group widths (16 in the paper).
        se_reduction: optional SE gate in every block.
    """

    def __init__(self, depth: int = 28, widen: int = 10, dropout: float = 0.0, num_classes: int = 10,
                 in_channels: int = 3, base: int = 16, se_reduction: int | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        check_classifier_args(name, num_classes, in_channels)
        check_positive_int(name, "depth", depth, 10)
        if (depth - 4) % 6:
            raise ValueError(f"{name}: depth - 4 must be divisible by 6 (10, 16, 22, 28, 40, ...), got depth={depth}")
        check_positive_int(name, "widen", widen)
        check_positive_int(name, "base", base)
        check_prob(name, "dropout", dropout)
        check_se(name, se_reduction)
        self.in_channels, self.num_classes, self.depth, self.widen = in_channels, num_classes, depth, widen
        n = (depth - 4) // 6
        widths = (base * widen, 2 * base * widen, 4 * base * widen)
        self.stem = nn.Conv2d(in_channels, base, 3, padding=1, bias=False)
        groups, cin = [], base
        for g, w in enumerate(widths):
            blocks = [WideBlock(cin if i == 0 else w, w, (1 if g == 0 else 2) if i == 0 else 1, dropout, se_reduction)
                      for i in range(n)]
            groups.append(nn.Sequential(*blocks))
            cin = w
        self.groups = nn.Sequential(*groups)
        self.final = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(inplace=True))
        self.fc = nn.Linear(cin, num_classes)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"WideResNet: expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        out = self.final(self.groups(self.stem(x)))
        return self.fc(out.mean(dim=(2, 3)))  # (B, num_classes)


@register_model("wide-resnet", example_input=lambda: torch.randn(2, 3, 16, 16),
                small=dict(depth=10, widen=1, dropout=0.3, base=4))
def wide_resnet(depth: int = 28, widen: int = 10, dropout: float = 0.0, num_classes: int = 10, in_channels: int = 3,
                base: int = 16, se_reduction: int | None = None) -> WideResNet:
    """WRN-d-k (default WRN-28-10, 36.5M parameters)."""
    return WideResNet(depth, widen, dropout, num_classes, in_channels, base, se_reduction)
