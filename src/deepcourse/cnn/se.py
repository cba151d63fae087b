"""Squeeze-and-Excitation (Hu, Shen & Sun 2018, "Squeeze-and-Excitation Networks").

An SE block recalibrates the channels of a feature map ``u`` of shape ``(B, C, H, W)``:

* squeeze (Eq. 2): ``z_c = 1/(H W) sum_{i,j} u_c(i, j)``, a global average per channel;
* excitation (Eq. 3): ``s = sigmoid(W_2 relu(W_1 z))`` with ``W_1: C -> C/r`` and ``W_2: C/r -> C``,
  a bottleneck MLP whose reduction ratio ``r`` trades parameters (``2 C^2 / r``) for capacity;
* scale (Eq. 4): ``x~_c = s_c u_c``.

In a residual network the block sits on the residual branch, after the last convolution and
before the addition of the identity (the paper's Fig. 3, "SE-ResNet module"); in a MobileNet block
it sits after the depthwise convolution, where the channels are widest.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["SqueezeExcitation"]


class SqueezeExcitation(nn.Module):
    """Channel gating ``x * sigmoid(W_2 relu(W_1 avgpool(x)))`` (Hu et al. 2018, Eqs. 2-4).

    Args:
        channels: ``C``, the number of input (and output) channels.
        reduction: ``r``; the hidden layer has ``max(min_hidden, C // r)`` units (paper default 16).
        min_hidden: lower bound on the hidden width, so that narrow layers keep a usable gate.
    """

    def __init__(self, channels: int, reduction: int = 16, min_hidden: int = 4) -> None:
        super().__init__()
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"SqueezeExcitation: channels must be a positive int, got {channels!r}")
        if not isinstance(reduction, int) or reduction < 1:
            raise ValueError(f"SqueezeExcitation: reduction must be a positive int, got {reduction!r}")
        hidden = max(min_hidden, channels // reduction)
        self.channels, self.reduction, self.hidden = channels, reduction, hidden
        self.fc1 = nn.Linear(channels, hidden)  # W_1 (with bias, as in the released models)
        self.fc2 = nn.Linear(hidden, channels)  # W_2

    def gates(self, x: Tensor) -> Tensor:
        """The excitation ``s`` of Eq. 3, shape ``(B, C, 1, 1)``, each entry in (0, 1)."""
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"SqueezeExcitation: expected input (B, {self.channels}, H, W), got {tuple(x.shape)}")
        z = x.mean(dim=(2, 3))  # (B, C): squeeze, Eq. 2
        s = self.fc2(self.fc1(z).relu()).sigmoid()  # (B, C): excitation, Eq. 3
        return s[:, :, None, None]  # (B, C, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gates(x)  # Eq. 4, broadcast over H, W

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}, hidden={self.hidden}"


def make_se(channels: int, reduction: int | None) -> nn.Module:
    """An SE block when ``reduction`` is given, else the identity (used by the blocks' ``se_reduction``)."""
    return nn.Identity() if reduction is None else SqueezeExcitation(channels, reduction)
