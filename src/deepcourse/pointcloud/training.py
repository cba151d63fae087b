"""Training glue shared by the classification experiments: augmentation of point batches and PointNet's loss
(cross-entropy plus the feature-transform regulariser), on top of :func:`deepcourse.core.train_classifier`."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core import Run, train_classifier

from .augment import jitter, random_scale, rotate

__all__ = ["AUGMENTATIONS", "augment_batch", "train_point_classifier"]

AUGMENTATIONS = ("none", "jitter", "rotate-jitter", "rotate-scale-jitter")


def augment_batch(x: Tensor, kind: str, generator: torch.Generator | None = None) -> Tensor:
    """``none``; ``jitter`` (sigma 0.01, clip 0.05); ``rotate-jitter`` (PointNet: a random rotation about the
    vertical axis, then jitter); ``rotate-scale-jitter`` (also scaling by U(0.8, 1.25))."""
    if kind not in AUGMENTATIONS:
        raise ValueError(f"augmentation must be one of {AUGMENTATIONS}; got {kind!r}")
    if kind == "none":
        return x
    if kind.startswith("rotate"):
        x = rotate(x, True, generator)
    if "scale" in kind:
        x = random_scale(x, generator=generator)
    return jitter(x, generator=generator)


def train_point_classifier(model: nn.Module, splits: Any, run: Run, *, epochs: int, lr: float,
                           batch_size: int = 32, augment: str = "none", reg_weight: float = 0.001,
                           name: str = "model", scheduler: str | None = "cosine", **kw) -> dict[str, Any]:
    """:func:`train_classifier` with point-cloud augmentation during training and, for models with a
    ``regulariser()`` (PointNet's T-Net), ``reg_weight * ||I - A A^T||^2`` added to the training loss."""
    g = run.generator(f"augment/{name}")
    has_reg = hasattr(model, "regulariser") and reg_weight > 0

    def prep(x: Tensor, train: bool) -> Tensor:
        return augment_batch(x, augment, g) if train else x

    def loss_fn(logits: Tensor, y: Tensor) -> Tensor:
        loss = F.cross_entropy(logits, y)
        if has_reg and model.training:
            loss = loss + reg_weight * model.regulariser()
        return loss

    return train_classifier(model, splits, run, epochs=epochs, lr=lr, batch_size=batch_size, prep=prep,
                            loss_fn=loss_fn, name=name, scheduler=scheduler, eval_batch=256, **kw)
