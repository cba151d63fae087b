"""Module 0.1 on torch: units, activations, losses, the MLP and the optimiser studies.

:class:`MLP` (registered as ``"mlp"``) is the project's one MLP classifier and :func:`kl_divergence` its
one KL divergence: other topics import them from here. The experiments live in the package
:mod:`deepcourse.foundations.experiments`, one file per claim; the registry imports those modules
itself (``deepcourse.core.registry.discover``), so they are deliberately not imported here.
"""

from __future__ import annotations

from .activations import (
    ACTIVATIONS, ELU, Identity, LeakyReLU, Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus, Swish,
    Tanh, elu, get_activation, leaky_relu, log_softmax, mish, prelu, relu, relu6, sigmoid, silu, softmax,
    softplus, swish, tanh,
)
from .approximation import SigmoidNet, fit_sigmoid_net, target_function
from .gradient_descent import OPTIMIZERS, make_optimizer, train_full_batch, train_minibatch
from .gradient_flow import init_for, layer_grad_norms
from .losses import (
    binary_cross_entropy, binary_cross_entropy_with_logits, charbonnier_loss, cosine_distance, cross_entropy,
    cross_entropy_with_logits, entropy, hinge_loss, huber_loss, kl_divergence, l1_loss, l2_loss, mae_loss,
    mse_loss, multiclass_hinge_loss, smooth_l1_loss, zero_one_loss,
)
from .models import MLP
from .preprocessing import Standardizer, one_hot, standardize
from .ssim import gaussian_window, ssim, ssim_loss, ssim_map
from .units import LinearUnit, Maxout, NonlinearUnit, RadialUnit, linear_unit, radial_unit

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
    "SigmoidNet", "fit_sigmoid_net", "target_function",
    "OPTIMIZERS", "make_optimizer", "train_full_batch", "train_minibatch", "init_for", "layer_grad_norms",
]
