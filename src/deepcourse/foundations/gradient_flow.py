"""Gradient flow through a deep MLP: activation-matched initialisation and per-layer gradient norms.

The chain rule multiplies one activation derivative per layer into the gradient of the early
layers; a squashing activation (sigmoid, derivative at most 1/4) shrinks it layer after layer,
ReLU (derivative 1 where active) does not (notes 0.1, "Implications of the chain rule";
Glorot & Bengio 2010).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .models import MLP

__all__ = ["init_for", "layer_grad_norms"]


def init_for(model: MLP, activation: str) -> MLP:
    """Initialise the linear layers as recommended for the activation, biases at zero.

    Sigmoid: Glorot & Bengio (2010, eq. 16); ReLU: He et al. (2015, eq. 10). Each is the
    scheme under which its activation is normally used, so the comparison is fair to both.
    """
    for layer in model.linear_layers():
        if activation == "relu":
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        else:
            nn.init.xavier_normal_(layer.weight)
        nn.init.zeros_(layer.bias)
    return model


def layer_grad_norms(model: MLP, loss: Tensor) -> list[float]:
    """Frobenius norm of the loss gradient w.r.t. each linear layer's weight, input to output."""
    layers = model.linear_layers()
    grads = torch.autograd.grad(loss, [layer.weight for layer in layers])
    return [g.norm().item() for g in grads]
