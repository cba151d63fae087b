"""Activation functions of module 0.1, written from their formulas.

Every activation exists twice: as a plain function (``relu(x)``) and as an ``nn.Module``
(``ReLU()``), so that a model can name its nonlinearity by string (``get_activation("relu")``).
The functions are written with the numerically safe forms of their formulas (no ``exp`` of a
large positive number is ever taken), and the tests compare each one with torch's own version
and with ``torch.autograd.gradcheck`` in float64.

Squashing functions (sigmoid, tanh) have derivatives that fall to zero away from the origin; the
rectifier family (ReLU, LeakyReLU, ELU, PReLU, Swish, Mish) keeps a non-zero derivative over half
of the axis or more, which is why the notes recommend them against vanishing gradients.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

__all__ = [
    "sigmoid", "tanh", "relu", "leaky_relu", "elu", "prelu", "swish", "silu", "mish", "relu6",
    "softplus", "softmax", "log_softmax",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "PReLU", "Swish", "SiLU", "Mish", "ReLU6",
    "Softplus", "Softmax", "Identity",
    "ACTIVATIONS", "get_activation",
]


# ----------------------------------------------------------------------------- functions
def softplus(x: Tensor, beta: float = 1.0) -> Tensor:
    r"""Softplus, a smooth ReLU: :math:`\frac{1}{\beta}\log(1 + e^{\beta x})`.

    Computed as :math:`\max(z, 0) + \log(1 + e^{-|z|})` with :math:`z = \beta x`, which never
    exponentiates a large positive number (Dugas et al. 2001 introduced softplus as a smooth
    rectifier).
    """
    if beta <= 0:
        raise ValueError(f"softplus: beta must be > 0, got {beta}")
    z = beta * x
    return (torch.clamp(z, min=0) + torch.log1p(torch.exp(-z.abs()))) / beta


def sigmoid(x: Tensor) -> Tensor:
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, codomain (0, 1).

    Written as :math:`\exp(-\mathrm{softplus}(-x))`, stable for any ``x``. Its derivative is
    :math:`\sigma(x)(1 - \sigma(x))` (notes, "Properties of softmax"), at most 1/4.
    """
    return torch.exp(-softplus(-x))


def tanh(x: Tensor) -> Tensor:
    r"""Hyperbolic tangent, the bipolar squashing function: :math:`\tanh(x) = 2\sigma(2x) - 1`."""
    return 2.0 * sigmoid(2.0 * x) - 1.0


def relu(x: Tensor) -> Tensor:
    r"""Rectified linear unit :math:`\max(0, x)` (Nair & Hinton 2010; Glorot et al. 2011)."""
    return torch.clamp(x, min=0)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    r"""Leaky ReLU :math:`\max(a x, x)` for :math:`0 \le a < 1` (Maas, Hannun & Ng 2013).

    Maas et al. used :math:`a = 0.01`; the notes plot :math:`a = 0.1`. The small slope keeps a
    gradient flowing for negative inputs, so a unit cannot "die".
    """
    if not 0 <= negative_slope < 1:
        raise ValueError(f"leaky_relu: negative_slope must be in [0, 1), got {negative_slope}")
    return torch.where(x >= 0, x, negative_slope * x)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    r"""Exponential linear unit (Clevert, Unterthiner & Hochreiter 2016).

    :math:`x` for :math:`x > 0`, :math:`\alpha(e^x - 1)` otherwise. Negative outputs push the
    mean activation towards zero. The exponential is taken of :math:`\min(x, 0)` only, so the
    branch that ``torch.where`` discards cannot overflow into a NaN gradient.
    """
    if alpha <= 0:
        raise ValueError(f"elu: alpha must be > 0, got {alpha}")
    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0)))


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    r"""Parametric ReLU (He, Zhang, Ren & Sun 2015, eq. 1): :math:`\max(0, y_i) + a_i \min(0, y_i)`.

    ``weight`` holds one slope per channel (shape ``(C,)``, channel axis 1 of ``x``) or a single
    slope shared by all channels (shape ``(1,)``).
    """
    if weight.dim() != 1:
        raise ValueError(f"prelu: weight must be 1-D (one slope per channel), got shape {tuple(weight.shape)}")
    c = weight.numel()
    if c != 1:
        if x.dim() < 2 or x.shape[1] != c:
            raise ValueError(
                f"prelu: weight has {c} slopes but x of shape {tuple(x.shape)} has "
                f"{x.shape[1] if x.dim() >= 2 else 'no'} channels on axis 1"
            )
        weight = weight.view(1, c, *([1] * (x.dim() - 2)))  # (1, C, 1, ...) broadcasts over B, H, W
    return torch.clamp(x, min=0) + weight * torch.clamp(x, max=0)


def swish(x: Tensor, beta: float | Tensor = 1.0) -> Tensor:
    r"""Swish :math:`x\,\sigma(\beta x)` (Ramachandran, Zoph & Le 2017).

    :math:`\beta = 0` gives :math:`x/2`, :math:`\beta \to \infty` tends to ReLU, :math:`\beta = 1`
    is SiLU. The input gates itself through a sigmoid ("self-gating").
    """
    return x * sigmoid(beta * x)


def silu(x: Tensor) -> Tensor:
    r"""Sigmoid-weighted linear unit :math:`x\,\sigma(x)` (Elfwing, Uchibe & Doya 2018; Hendrycks & Gimpel 2016)."""
    return x * sigmoid(x)


def mish(x: Tensor) -> Tensor:
    r"""Mish :math:`x \tanh(\mathrm{softplus}(x))` (Misra 2019): smooth and non-monotonic."""
    return x * torch.tanh(softplus(x))


def relu6(x: Tensor) -> Tensor:
    r"""ReLU capped at 6, :math:`\min(\max(0, x), 6)` (Krizhevsky 2010; used by MobileNet for low-precision robustness)."""
    return torch.clamp(x, min=0, max=6)


def _check_dim(z: Tensor, dim: int, fn: str) -> None:
    if z.dim() == 0:
        raise ValueError(f"{fn}: input must have at least 1 dimension, got a scalar")
    if not -z.dim() <= dim < z.dim():
        raise ValueError(f"{fn}: dim={dim} is out of range for an input with {z.dim()} dimensions")


def softmax(z: Tensor, dim: int = -1) -> Tensor:
    r"""Softmax :math:`\sigma(z)_i = e^{z_i} / \sum_j e^{z_j}` along ``dim`` (Bridle 1990).

    The notes show it is invariant to adding a constant to every :math:`z_i`; we use that
    invariance to subtract :math:`\max_j z_j` first, so the largest exponent is :math:`e^0 = 1`
    and no overflow can occur.
    """
    _check_dim(z, dim, "softmax")
    shifted = z - z.amax(dim=dim, keepdim=True).detach()  # constant shift: leaves the result unchanged
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(z: Tensor, dim: int = -1) -> Tensor:
    r""":math:`\log \sigma(z)_i = z_i - \log\sum_j e^{z_j}`, computed with the max-shift (log-sum-exp trick)."""
    _check_dim(z, dim, "log_softmax")
    m = z.amax(dim=dim, keepdim=True).detach()
    return z - m - torch.log(torch.exp(z - m).sum(dim=dim, keepdim=True))


# ----------------------------------------------------------------------------- modules
class Sigmoid(nn.Module):
    """Module form of :func:`sigmoid`."""

    def forward(self, x: Tensor) -> Tensor:
        return sigmoid(x)


class Tanh(nn.Module):
    """Module form of :func:`tanh`."""

    def forward(self, x: Tensor) -> Tensor:
        return tanh(x)


class ReLU(nn.Module):
    """Module form of :func:`relu`."""

    def forward(self, x: Tensor) -> Tensor:
        return relu(x)


class LeakyReLU(nn.Module):
    """Module form of :func:`leaky_relu` (Maas et al. 2013); fixed slope."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        leaky_relu(torch.zeros(1), negative_slope)  # validates the slope now, not at first forward
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(nn.Module):
    """Module form of :func:`elu` (Clevert et al. 2016)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        if alpha <= 0:
            raise ValueError(f"ELU: alpha must be > 0, got {alpha}")
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class PReLU(nn.Module):
    """Parametric ReLU with a learned slope per channel (He et al. 2015).

    ``num_parameters=1`` shares one slope over all channels; otherwise it must equal the size of
    axis 1 of the input. He et al. initialise the slopes at 0.25.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        if num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be >= 1, got {num_parameters}")
        self.weight = nn.Parameter(torch.full((num_parameters,), float(init)))

    def forward(self, x: Tensor) -> Tensor:
        return prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.weight.numel()}"


class Swish(nn.Module):
    r"""Swish :math:`x\,\sigma(\beta x)` with a learnable :math:`\beta` (Ramachandran et al. 2017).

    ``learnable=False`` freezes :math:`\beta` (``beta=1`` then equals SiLU).
    """

    def __init__(self, beta: float = 1.0, learnable: bool = True) -> None:
        super().__init__()
        b = torch.tensor(float(beta))
        if learnable:
            self.beta = nn.Parameter(b)
        else:
            self.register_buffer("beta", b)

    def forward(self, x: Tensor) -> Tensor:
        return swish(x, self.beta)


class SiLU(nn.Module):
    """Module form of :func:`silu` (Swish with beta fixed at 1)."""

    def forward(self, x: Tensor) -> Tensor:
        return silu(x)


class Mish(nn.Module):
    """Module form of :func:`mish` (Misra 2019)."""

    def forward(self, x: Tensor) -> Tensor:
        return mish(x)


class ReLU6(nn.Module):
    """Module form of :func:`relu6`."""

    def forward(self, x: Tensor) -> Tensor:
        return relu6(x)


class Softplus(nn.Module):
    """Module form of :func:`softplus`."""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        if beta <= 0:
            raise ValueError(f"Softplus: beta must be > 0, got {beta}")
        self.beta = beta

    def forward(self, x: Tensor) -> Tensor:
        return softplus(x, self.beta)


class Softmax(nn.Module):
    """Softmax "layer" over ``dim`` (the notes: often implemented as a layer)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return softmax(x, self.dim)


class Identity(nn.Module):
    """Linear (identity) activation, the output unit for regression."""

    def forward(self, x: Tensor) -> Tensor:
        return x


ACTIVATIONS: dict[str, Callable[..., nn.Module]] = {
    "identity": Identity, "linear": Identity,
    "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU, "elu": ELU,
    "prelu": PReLU, "swish": Swish, "silu": SiLU, "mish": Mish, "relu6": ReLU6,
    "softplus": Softplus, "softmax": Softmax,
}


def get_activation(name: str | nn.Module, **kwargs) -> nn.Module:
    """Build an activation module from its name (case-insensitive; ``-`` and ``_`` equivalent).

    A module passed in is returned unchanged. Unknown names raise ``ValueError`` listing the
    allowed ones.
    """
    if isinstance(name, nn.Module):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str) or an nn.Module, got {type(name).__name__}")
    key = name.lower().replace("-", "_")
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; allowed: {', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[key](**kwargs)
