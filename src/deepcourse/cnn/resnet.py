"""Residual networks: ResNet (He, Zhang, Ren & Sun 2016a, "Deep Residual Learning for Image
Recognition") and pre-activation ResNet (He, Zhang, Ren & Sun 2016b, "Identity Mappings in Deep
Residual Networks"), with an optional Squeeze-and-Excitation gate in every block (Hu et al. 2018).

A residual block computes ``y = F(x, {W_i}) + W_s x`` (2016a, Eq. 1-2): the layers learn the
residual ``F`` and the shortcut carries ``x`` unchanged, or through a 1x1 projection ``W_s`` when the
stride or the width changes ("option B"). The original block applies ReLU after the addition;
the pre-activation block moves BN and ReLU in front of each convolution, so that the shortcut path
is a pure identity from block to block (2016b, Eq. 3-4 and Fig. 1b / 4e): ``x_{l+1} = x_l + F(x_l)``.

The CIFAR stem is a single 3x3 convolution with stride 1 and no max-pool, so a 32x32 input
keeps its resolution until the first strided stage (32 -> 32 -> 16 -> 8 -> 4); the ImageNet stem
(7x7 stride 2 + 3x3 max-pool, 2016a Table 1) is available as ``stem="imagenet"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .checks import check_classifier_args, check_positive_int, check_se
from .init import init_weights
from .se import make_se

__all__ = [
    "BasicBlock", "Bottleneck", "PreActBlock", "PreActBottleneck", "ResNet",
    "resnet18", "resnet34", "resnet50", "preact_resnet18", "se_resnet18",
]


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)  # BN follows: a bias is redundant


def conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BN, ReLU after the addition (2016a, Fig. 2 / Fig. 5 left).

    ``y = relu(SE(BN(conv(relu(BN(conv(x)))))) + shortcut(x))``; SE (if ``se_reduction``) gates the
    residual before the addition (Hu et al. 2018, Fig. 3).
    """

    expansion = 1
    preact = False

    def __init__(self, in_planes: int, planes: int, stride: int = 1, se_reduction: int | None = None) -> None:
        super().__init__()
        out = planes * self.expansion
        self.conv1, self.bn1 = conv3x3(in_planes, planes, stride), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = conv3x3(planes, planes), nn.BatchNorm2d(planes)
        self.se = make_se(out, se_reduction)
        self.shortcut = nn.Sequential()  # identity
        if stride != 1 or in_planes != out:  # option B: projection only where shapes change
            self.shortcut = nn.Sequential(conv1x1(in_planes, out, stride), nn.BatchNorm2d(out))

    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn2

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x)).relu()
        out = self.se(self.bn2(self.conv2(out)))
        return (out + self.shortcut(x)).relu()


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), BN after each, ReLU after the addition (2016a, Fig. 5 right).

    The stride sits on the 3x3 convolution (as in torchvision's "ResNet v1.5"), which loses less
    information than striding the first 1x1.
    """

    expansion = 4
    preact = False

    def __init__(self, in_planes: int, planes: int, stride: int = 1, se_reduction: int | None = None) -> None:
        super().__init__()
        out = planes * self.expansion
        self.conv1, self.bn1 = conv1x1(in_planes, planes), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = conv3x3(planes, planes, stride), nn.BatchNorm2d(planes)
        self.conv3, self.bn3 = conv1x1(planes, out), nn.BatchNorm2d(out)
        self.se = make_se(out, se_reduction)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != out:
            self.shortcut = nn.Sequential(conv1x1(in_planes, out, stride), nn.BatchNorm2d(out))

    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn3

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out)).relu()
        out = self.se(self.bn3(self.conv3(out)))
        return (out + self.shortcut(x)).relu()


class PreActBlock(nn.Module):
    """Pre-activation basic block: ``x + conv(relu(BN(conv(relu(BN(x))))))`` (2016b, Fig. 1b, Eq. 3).

    Nothing is applied after the addition, so the identity path stays clean. When a projection is
    needed it takes the pre-activated input, as in the authors' code.
    """

    expansion = 1
    preact = True

    def __init__(self, in_planes: int, planes: int, stride: int = 1, se_reduction: int | None = None) -> None:
        super().__init__()
        out = planes * self.expansion
        self.bn1, self.conv1 = nn.BatchNorm2d(in_planes), conv3x3(in_planes, planes, stride)
        self.bn2, self.conv2 = nn.BatchNorm2d(planes), conv3x3(planes, planes)
        self.se = make_se(out, se_reduction)
        self.shortcut = conv1x1(in_planes, out, stride) if stride != 1 or in_planes != out else None

    def forward(self, x: Tensor) -> Tensor:
        pre = self.bn1(x).relu()
        skip = self.shortcut(pre) if self.shortcut is not None else x
        out = self.conv1(pre)
        out = self.conv2(self.bn2(out).relu())
        return self.se(out) + skip


class PreActBottleneck(nn.Module):
    """Pre-activation bottleneck (2016b, Fig. 4e applied to the 1x1-3x3-1x1 block)."""

    expansion = 4
    preact = True

    def __init__(self, in_planes: int, planes: int, stride: int = 1, se_reduction: int | None = None) -> None:
        super().__init__()
        out = planes * self.expansion
        self.bn1, self.conv1 = nn.BatchNorm2d(in_planes), conv1x1(in_planes, planes)
        self.bn2, self.conv2 = nn.BatchNorm2d(planes), conv3x3(planes, planes, stride)
        self.bn3, self.conv3 = nn.BatchNorm2d(planes), conv1x1(planes, out)
        self.se = make_se(out, se_reduction)
        self.shortcut = conv1x1(in_planes, out, stride) if stride != 1 or in_planes != out else None

    def forward(self, x: Tensor) -> Tensor:
        pre = self.bn1(x).relu()
        skip = self.shortcut(pre) if self.shortcut is not None else x
        out = self.conv1(pre)
        out = self.conv2(self.bn2(out).relu())
        out = self.conv3(self.bn3(out).relu())
        return self.se(out) + skip


_BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck, "preact": PreActBlock, "preact-bottleneck": PreActBottleneck}


class ResNet(nn.Module):
    """A four-stage residual network (2016a, Table 1; stage widths ``w, 2w, 4w, 8w``, strides 1, 2, 2, 2).

    Args:
        block: ``"basic"``, ``"bottleneck"``, ``"preact"``, ``"preact-bottleneck"`` or a block class.
        layers: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18, ``(3, 4, 6, 3)`` for ResNet-34/50.
        num_classes: outputs of the final linear layer.
        in_channels: channels of the input images.
        width: channels of the first stage (64 in the paper).
        se_reduction: add an SE gate with this reduction ratio to every block (None: no SE).
        stem: ``"cifar"`` (3x3 stride 1, no pooling) or ``"imagenet"`` (7x7 stride 2 + max-pool).
        zero_init_residual: start every block's last BN scale at 0, so each block begins as the identity
            (Goyal et al. 2017, sec. 5.1); only for post-activation blocks.
    """

    def __init__(self, block: str | type = "basic", layers: Sequence[int] = (2, 2, 2, 2), num_classes: int = 10,
                 in_channels: int = 3, width: int = 64, se_reduction: int | None = None, stem: str = "cifar",
                 zero_init_residual: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        check_classifier_args(name, num_classes, in_channels)
        check_positive_int(name, "width", width)
        check_se(name, se_reduction)
        if isinstance(block, str):
            if block not in _BLOCKS:
                raise ValueError(f"{name}: block must be one of {', '.join(_BLOCKS)} or a block class, got {block!r}")
            block = _BLOCKS[block]
        layers = tuple(layers)
        if len(layers) != 4 or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in layers):
            raise ValueError(f"{name}: layers must be 4 positive ints (blocks per stage), got {layers!r}")
        if stem not in ("cifar", "imagenet"):
            raise ValueError(f"{name}: stem must be 'cifar' or 'imagenet', got {stem!r}")
        self.preact = bool(getattr(block, "preact", False))
        self.num_classes, self.in_channels = num_classes, in_channels

        if stem == "cifar":
            stem_layers: list[nn.Module] = [conv3x3(in_channels, width)]
        else:
            stem_layers = [nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)]
        if not self.preact:  # a pre-activation net normalises at the start of its first block instead
            stem_layers += [nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
        if stem == "imagenet":
            stem_layers.append(nn.MaxPool2d(3, stride=2, padding=1))
        self.stem = nn.Sequential(*stem_layers)

        stages, planes = [], width
        in_planes = width
        for i, n in enumerate(layers):
            blocks = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(block(in_planes, planes, stride, se_reduction))
                in_planes = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
            planes *= 2
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        # 2016b: the last block is followed by one more BN + ReLU, since its output was never normalised
        self.final = nn.Sequential(nn.BatchNorm2d(in_planes), nn.ReLU(inplace=True)) if self.preact else nn.Identity()
        self.fc = nn.Linear(in_planes, num_classes)
        self.features_dim = in_planes
        init_weights(self)
        if zero_init_residual and not self.preact:
            for m in self.modules():
                if hasattr(m, "last_bn"):
                    nn.init.zeros_(m.last_bn().weight)

    def features(self, x: Tensor) -> Tensor:
        """Pooled features before the classifier, shape ``(B, features_dim)``."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{type(self).__name__}: expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        out = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.final(out).mean(dim=(2, 3))  # (B, C): global average pooling

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))  # (B, num_classes)


_SMALL = dict(width=8)


def _example() -> Tensor:
    return torch.randn(2, 3, 16, 16)


def _variant(name: str, block: str, depths: tuple[int, ...], doc: str, se_default: int | None = None):
    """Register ``name`` as a ResNet factory with the given block type and stage depths (CIFAR stem by default)."""

    def build(num_classes: int = 10, in_channels: int = 3, width: int = 64, se_reduction: int | None = se_default,
              stem: str = "cifar", **kwargs) -> ResNet:
        return ResNet(block, depths, num_classes, in_channels, width, se_reduction, stem, **kwargs)

    build.__name__ = build.__qualname__ = name.replace("-", "_")
    build.__doc__ = doc
    return register_model(name, example_input=_example, small=_SMALL)(build)


resnet18 = _variant("resnet18", "basic", (2, 2, 2, 2),
                    "ResNet-18 (2016a, Table 1: basic blocks, 2-2-2-2), CIFAR stem by default: 11.17M parameters at 10 "
                    "classes.")
resnet34 = _variant("resnet34", "basic", (3, 4, 6, 3),
                    "ResNet-34 (2016a, Table 1: basic blocks, 3-4-6-3): 21.28M parameters at 10 classes.")
resnet50 = _variant("resnet50", "bottleneck", (3, 4, 6, 3), "ResNet-50 (2016a, Table 1: bottleneck blocks, 3-4-6-3).")
preact_resnet18 = _variant("preact-resnet18", "preact", (2, 2, 2, 2),
                           "Pre-activation ResNet-18 (2016b), the model of the mixup paper's CIFAR-10 table.")
se_resnet18 = _variant("se-resnet18", "basic", (2, 2, 2, 2),
                       "SE-ResNet-18: ResNet-18 with an SE gate (r = 16) in every block (Hu et al. 2018, Fig. 3).",
                       se_default=16)
