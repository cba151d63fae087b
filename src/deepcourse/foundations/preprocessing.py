r"""Data preparation of module 0.1: one-hot encoding and input standardisation.

One-hot encoding presents a categorical variable without inventing an order among its values
(notes, "Presentation: One-hot encoding"). Standardisation :math:`(x - \mu_x)/\sigma_x` puts each
input near zero with unit spread, so first-layer weight updates do not all share one sign (notes,
"Data preprocessing for regression tasks"; LeCun et al. 1998, "Efficient BackProp", sec. 4.3).
The statistics are fitted on the training split only and then applied unchanged to the
validation and test splits: fitting on test data would leak it into the model.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["one_hot", "Standardizer", "standardize"]


def one_hot(labels: Tensor, num_classes: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Encode integer labels ``(...)`` as one-hot vectors ``(..., num_classes)``.

    Raises ``TypeError`` for non-integer labels and ``ValueError`` for labels outside
    ``[0, num_classes)``.
    """
    if not isinstance(labels, Tensor):
        labels = torch.as_tensor(labels)
    if labels.is_floating_point() or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"one_hot: labels must be an integer tensor, got dtype {labels.dtype}")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive int, got {num_classes!r}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must be in [0, {num_classes}), got range "
                         f"[{int(labels.min())}, {int(labels.max())}]")
    out = torch.zeros(*labels.shape, num_classes, dtype=dtype, device=labels.device)  # (..., C)
    return out.scatter_(-1, labels.long().unsqueeze(-1), 1)


class Standardizer:
    r"""Per-feature standardisation :math:`(x - \mu)/\sigma` fitted on training data.

    ``fit(x_train)`` stores the mean and standard deviation of each feature (columns of an
    ``(N, D)`` tensor, or of the flattened trailing axes); ``transform`` applies them to any
    split. A constant feature (:math:`\sigma = 0`) is only centred, never divided by zero.
    """

    def __init__(self, eps: float = 1e-8) -> None:
        self.eps = eps
        self.mean: Tensor | None = None
        self.std: Tensor | None = None

    def fit(self, x: Tensor) -> "Standardizer":
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"Standardizer.fit: x must be a floating-point tensor, got "
                            f"{type(x).__name__ if not isinstance(x, Tensor) else x.dtype}")
        if x.dim() < 1 or x.shape[0] < 2:
            raise ValueError(f"Standardizer.fit: need at least 2 samples on axis 0, got shape {tuple(x.shape)}")
        self.mean = x.mean(0)
        std = x.std(0, unbiased=False)
        self.std = torch.where(std > self.eps, std, torch.ones_like(std))  # constant feature: centre only
        return self

    def _check(self, x: Tensor, who: str) -> None:
        if self.mean is None:
            raise RuntimeError(f"Standardizer.{who}: call fit() on the training data first")
        if not isinstance(x, Tensor) or x.shape[1:] != self.mean.shape:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"Standardizer.{who}: expected samples of shape {tuple(self.mean.shape)}, got {shape}")

    def transform(self, x: Tensor) -> Tensor:
        self._check(x, "transform")
        return (x - self.mean.to(x)) / self.std.to(x)

    def inverse_transform(self, z: Tensor) -> Tensor:
        self._check(z, "inverse_transform")
        return z * self.std.to(z) + self.mean.to(z)

    def fit_transform(self, x: Tensor) -> Tensor:
        return self.fit(x).transform(x)

    def state_dict(self) -> dict[str, Tensor]:
        if self.mean is None:
            raise RuntimeError("Standardizer.state_dict: not fitted")
        return {"mean": self.mean, "std": self.std}

    def load_state_dict(self, state: dict[str, Tensor]) -> "Standardizer":
        self.mean, self.std = state["mean"], state["std"]
        return self


def standardize(train: Tensor, *others: Tensor) -> tuple[Tensor, ...]:
    """Fit a :class:`Standardizer` on ``train`` and apply it to ``train`` and every other split."""
    s = Standardizer().fit(train)
    return (s.transform(train), *(s.transform(o) for o in others))
