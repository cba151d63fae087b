"""Small helpers shared by the CNN architectures: argument checks, initialisation, channel rounding."""

from __future__ import annotations

from torch import nn

__all__ = ["check_positive_int", "check_prob", "check_classifier_args", "check_se", "init_weights", "make_divisible"]


def check_positive_int(owner: str, name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, got {value!r}")
    return value


def check_prob(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: {name} must be a probability in [0, 1), got {value!r}")
    return float(value)


def check_classifier_args(owner: str, num_classes: object, in_channels: object) -> None:
    check_positive_int(owner, "num_classes", num_classes)
    check_positive_int(owner, "in_channels", in_channels)


def check_se(owner: str, se_reduction: object) -> None:
    if se_reduction is not None:
        check_positive_int(owner, "se_reduction", se_reduction)


def init_weights(model: nn.Module) -> None:
    """He (Kaiming) normal initialisation for convolutions (He et al. 2015, Eq. 10, fan-out mode as in
    the ResNet reference code), unit scale / zero shift for normalisation layers, zero biases."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor`` without losing more than 10 % of it (the
    channel rounding of the MobileNet v2 reference code, used with the width multiplier)."""
    min_value = divisor if min_value is None else min_value
    out = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if out < 0.9 * value:
        out += divisor
    return out
