"""Units and simple layers of module 0.1: linear, radial, nonlinear, Maxout.

A *unit* maps an input vector to a scalar excitation; a *layer* is a vector of units evaluated
in parallel, which is why every class below takes ``out_features`` (one unit = ``out_features=1``).
Weights are stored as ``(out_features, in_features)``: row ``i`` is the weight vector of unit ``i``
(the notes' :math:`w_{ij}`, "the j-th weight of the i-th unit").
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .activations import get_activation

__all__ = ["linear_unit", "radial_unit", "LinearUnit", "RadialUnit", "NonlinearUnit", "Maxout"]


def _check_input(x: Tensor, in_features: int, who: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: input must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 1 or x.shape[-1] != in_features:
        raise ValueError(
            f"{who}: input must have {in_features} features on its last axis, got shape {tuple(x.shape)}"
        )


def _check_sizes(in_features: int, out_features: int, who: str) -> None:
    for name, v in (("in_features", in_features), ("out_features", out_features)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{who}: {name} must be a positive int, got {v!r}")


def linear_unit(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""Excitation of linear units :math:`y = \sum_i w_i x_i + b`, i.e. :math:`y = Wx + b`.

    ``x``: ``(..., in)``, ``weight``: ``(out, in)``, ``bias``: ``(out,)`` -> ``(..., out)``.
    """
    y = x @ weight.t()  # (..., out)
    return y if bias is None else y + bias


def radial_unit(x: Tensor, centres: Tensor) -> Tensor:
    r"""Excitation of radial units :math:`\|x - w\|_2` (the notes' "radial unit"; Broomhead & Lowe 1988).

    ``x``: ``(..., in)``, ``centres``: ``(out, in)`` -> ``(..., out)``: distance to each centre.
    """
    diff = x.unsqueeze(-2) - centres  # (..., out, in)
    # vector_norm's backward is defined as 0 at a zero vector, so x == w gives no NaN.
    return torch.linalg.vector_norm(diff, dim=-1)  # (..., out)


class LinearUnit(nn.Module):
    r"""A layer of linear units :math:`y = Wx + b` (the notes' "linear unit", a dichotomiser).

    Initialised like ``torch.nn.Linear``: :math:`U(-1/\sqrt{n}, 1/\sqrt{n})` for :math:`n` inputs
    (LeCun et al. 1998, "Efficient BackProp").
    """

    def __init__(self, in_features: int, out_features: int = 1, bias: bool = True) -> None:
        super().__init__()
        _check_sizes(in_features, out_features, "LinearUnit")
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_features, "LinearUnit")
        return linear_unit(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class RadialUnit(nn.Module):
    r"""A layer of radial units: excitation :math:`\|x - w_i\|_2` for each centre :math:`w_i`.

    ``kind="distance"`` returns the distance itself (the notes' formula); ``kind="gaussian"``
    returns the Gaussian radial basis function :math:`\exp(-\gamma \|x - w_i\|^2)` used by RBF
    networks (Broomhead & Lowe 1988; Moody & Darken 1989), which is 1 at the centre and decays
    with distance.
    """

    def __init__(self, in_features: int, out_features: int = 1, kind: str = "distance", gamma: float = 1.0) -> None:
        super().__init__()
        _check_sizes(in_features, out_features, "RadialUnit")
        if kind not in ("distance", "gaussian"):
            raise ValueError(f"RadialUnit: kind must be 'distance' or 'gaussian', got {kind!r}")
        if gamma <= 0:
            raise ValueError(f"RadialUnit: gamma must be > 0, got {gamma}")
        self.in_features, self.out_features, self.kind, self.gamma = in_features, out_features, kind, gamma
        self.weight = nn.Parameter(torch.randn(out_features, in_features))  # centres, one per row

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_features, "RadialUnit")
        d = radial_unit(x, self.weight)  # (..., out)
        return d if self.kind == "distance" else torch.exp(-self.gamma * d.square())

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, kind={self.kind!r}"


class NonlinearUnit(nn.Module):
    r"""A layer of nonlinear units :math:`y = \sigma(Wx + b)`; ``activation`` names :math:`\sigma`.

    With the sigmoid and one output this is logistic regression, the notes' example of a unit
    that can be trained directly.
    """

    def __init__(self, in_features: int, out_features: int = 1, activation: str | nn.Module = "sigmoid",
                 bias: bool = True) -> None:
        super().__init__()
        self.linear = LinearUnit(in_features, out_features, bias)
        self.activation = get_activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.linear(x))


class Maxout(nn.Module):
    r"""Maxout layer (Goodfellow, Warde-Farley, Mirza, Courville & Bengio 2013).

    Each of the ``out_features`` units computes ``pieces`` affine functions and returns the
    largest: :math:`h_i(x) = \max_{j \le k} (w_{ij}^T x + b_{ij})`. With two pieces this is the
    notes' :math:`\max(w_1^T x + b_1, w_2^T x + b_2)`; it can represent ReLU (one piece zero) and
    |x|, and in general any convex piecewise-linear function with ``pieces`` segments.
    """

    def __init__(self, in_features: int, out_features: int, pieces: int = 2) -> None:
        super().__init__()
        _check_sizes(in_features, out_features, "Maxout")
        if not isinstance(pieces, int) or pieces < 1:
            raise ValueError(f"Maxout: pieces must be a positive int, got {pieces!r}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.linear = LinearUnit(in_features, out_features * pieces)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_features, "Maxout")
        z = self.linear(x)  # (..., out * pieces)
        z = z.unflatten(-1, (self.out_features, self.pieces))  # (..., out, pieces)
        return z.amax(dim=-1)  # (..., out)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"
