"""The multilayer perceptron (MLP) of module 0.1.

A fully connected feed-forward network: each hidden layer is ``Linear -> [BatchNorm] ->
activation -> [Dropout]``, the output layer is linear (logits for classification, raw values
for regression; the loss adds the sigmoid/softmax, see :mod:`.losses`). Dropout follows
Srivastava et al. (2014); batch normalisation Ioffe & Szegedy (2015), placed before the
nonlinearity as in their paper (sec. 3.2).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .activations import get_activation

__all__ = ["MLP"]


@register_model(
    "mlp",
    example_input=lambda: torch.randn(4, 64),
    small=dict(in_features=64, hidden=(32,), out_features=10),
)
class MLP(nn.Module):
    """MLP with configurable widths, activation, dropout and optional batch normalisation.

    Args:
        in_features: input size; inputs of shape ``(N, ...)`` are flattened to ``(N, in_features)``.
        hidden: widths of the hidden layers (empty: a single linear layer, i.e. no hidden layer).
        out_features: output size.
        activation: hidden nonlinearity, a name known to :func:`.activations.get_activation`.
        dropout: drop probability after each hidden activation (0 disables it).
        batch_norm: insert ``BatchNorm1d`` after each hidden linear layer.
        output_activation: optional nonlinearity on the output (default: none, logits).
    """

    def __init__(self, in_features: int, hidden: Sequence[int] = (128,), out_features: int = 10,
                 activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False,
                 output_activation: str | None = None) -> None:
        super().__init__()
        if not isinstance(in_features, int) or in_features < 1:
            raise ValueError(f"MLP: in_features must be a positive int, got {in_features!r}")
        if not isinstance(out_features, int) or out_features < 1:
            raise ValueError(f"MLP: out_features must be a positive int, got {out_features!r}")
        hidden = tuple(hidden)
        if any(not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"MLP: hidden widths must be positive ints, got {hidden!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        get_activation(activation)  # fail now, with the list of allowed names, on a typo
        self.in_features, self.out_features, self.hidden = in_features, out_features, hidden

        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h, bias=not batch_norm))  # BN's shift replaces the bias
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(get_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        if output_activation is not None:
            layers.append(get_activation(output_activation))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2:
            raise ValueError(f"MLP: input must be batched (N, {self.in_features}), got shape {tuple(x.shape)}")
        x = x.flatten(1)  # (N, in_features)
        if x.shape[1] != self.in_features:
            raise ValueError(f"MLP: expected {self.in_features} input features, got {x.shape[1]} "
                             f"(input shape {tuple(x.shape)})")
        return self.net(x)

    def linear_layers(self) -> list[nn.Linear]:
        """The linear layers, input to output (used by the vanishing-gradient study)."""
        return [m for m in self.net if isinstance(m, nn.Linear)]
