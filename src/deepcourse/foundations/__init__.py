"""Module 0.1 on torch: units, activations, losses, the MLP and the optimiser studies.

The experiments live in :mod:`deepcourse.foundations.experiments`; the registry imports that
module itself (``deepcourse.core.registry.discover``), so it is deliberately not imported here.
"""

from __future__ import annotations

from .activations import (
    ACTIVATIONS, ELU, Identity, LeakyReLU, Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus, Swish,
    Tanh, elu, get_activation, leaky_relu, log_softmax, mish, prelu, relu, relu6, sigmoid, silu, softmax,
    softplus, swish, tanh,
)
from .losses import (
    binary_cross_entropy, binary_cross_entropy_with_logits, charbonnier_loss, cosine_distance, cross_entropy,
    cross_entropy_with_logits, entropy, hinge_loss, huber_loss, kl_divergence, l1_loss, l2_loss, mae_loss,
    mse_loss, multiclass_hinge_loss, smooth_l1_loss, zero_one_loss,
)
from .models import MLP
from .ssim import gaussian_window, ssim, ssim_loss, ssim_map
from .units import LinearUnit, Maxout, NonlinearUnit, RadialUnit, linear_unit, radial_unit
from .utils import Standardizer, one_hot, standardize

__all__ = [
    "ACTIVATIONS", "ELU", "Identity", "LeakyReLU", "Mish", "PReLU", "ReLU", "ReLU6", "Sigmoid", "SiLU",
    "Softmax", "Softplus", "Swish", "Tanh", "elu", "get_activation", "leaky_relu", "log_softmax", "mish",
    "prelu", "relu", "relu6", "sigmoid", "silu", "softmax", "softplus", "swish", "tanh",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "charbonnier_loss", "cosine_distance",
    "cross_entropy", "cross_entropy_with_logits", "entropy", "hinge_loss", "huber_loss", "kl_divergence",
    "l1_loss", "l2_loss", "mae_loss", "mse_loss", "multiclass_hinge_loss", "smooth_l1_loss", "zero_one_loss",
    "MLP", "gaussian_window", "ssim", "ssim_loss", "ssim_map",
    "LinearUnit", "Maxout", "NonlinearUnit", "RadialUnit", "linear_unit", "radial_unit",
    "Standardizer", "one_hot", "standardize",
]
