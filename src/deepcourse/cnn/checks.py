"""Argument checks shared by the CNN constructors: each raises a ``ValueError`` that names the model and
the argument, so a bad ``model_args`` override fails before any training starts."""

from __future__ import annotations

__all__ = ["check_positive_int", "check_prob", "check_classifier_args", "check_se"]


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
