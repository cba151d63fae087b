"""Automatic differentiation from scratch on NumPy (course module 10, mechanisms of module 0.1).

Three kinds of AD side by side, all checked against torch in ``tests/autodiff``:

* forward mode with dual numbers (``Dual``, ``jvp``, ``derivative``, ``jacfwd``);
* reverse mode on a recorded graph (``Tensor``, ``grad``, ``value_and_grad``, ``vjp``,
  ``jacrev``, ``no_grad``) and forward-over-reverse second order (``hvp``, ``hessian``);
* source-to-source transformation of straight-line Python (``deepcourse.autodiff.source``).

On top: ``jacobian`` with automatic mode choice and matrix-chain ordering
(``deepcourse.autodiff.jacobian``), a neural kit (``nn``), optimisers written out
(``optim``) and Hopfield networks (``hopfield``).  Imports NumPy only, never torch.
"""
from __future__ import annotations

from . import hopfield, nn, ops, optim, source
from .conv import conv2d, max_pool2d
from .dual import Dual, derivative, jacfwd, jvp
from .jacobian import chain_costs, jacobian, matrix_chain_order
from .ops import (cos, exp, leaky_relu, log, log_softmax, logsumexp, relu, sigmoid, sin, softmax, sqrt, tan,
                  tanh)
from .tensor import Tensor, concatenate, maximum, minimum, no_grad, stack, where
from .transforms import grad, hessian, hvp, jacrev, value_and_grad, vjp

__all__ = [
    "Dual", "jvp", "derivative", "jacfwd",
    "Tensor", "no_grad", "grad", "value_and_grad", "vjp", "jacrev", "hvp", "hessian",
    "jacobian", "matrix_chain_order", "chain_costs",
    "conv2d", "max_pool2d", "concatenate", "stack", "where", "maximum", "minimum",
    "exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "sqrt", "relu", "leaky_relu",
    "softmax", "log_softmax", "logsumexp", "ops", "nn", "optim", "hopfield", "source",
]
