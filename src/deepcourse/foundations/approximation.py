r"""Cybenko's one-hidden-layer approximator of a 1-D function, and how it is fitted.

Cybenko (1989) proved that finite sums :math:`F(x) = \sum_{i=1}^N v_i\,\sigma(w_i x + b_i)` are dense in
the continuous functions on a compact set: for every tolerance some N reaches it. The theorem says
nothing about finding the weights; :func:`fit_sigmoid_net` finds them with least squares and L-BFGS.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .activations import sigmoid

__all__ = ["SigmoidNet", "fit_sigmoid_net", "target_function"]


def target_function(x: Tensor) -> Tensor:
    """A continuous function on [0, 1] with several bumps of different widths."""
    return torch.sin(6 * math.pi * x ** 1.5) * (1 - x) + 0.5 * x


class SigmoidNet(nn.Module):
    r"""Cybenko's (1989) approximator :math:`F(x) = \sum_{i=1}^N v_i\,\sigma(w_i x + b_i) + c` for 1-D ``x``.

    The sigmoid steps are initialised at random positions :math:`x = -b_i/w_i` in [0, 1] with
    random steepness, so that from the start each unit covers a different part of the interval.
    """

    def __init__(self, n_units: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        g = generator
        centres = torch.rand(n_units, generator=g, dtype=torch.float64)  # step positions in [0, 1]
        w = torch.randn(n_units, generator=g, dtype=torch.float64) * 2 * (n_units + 2)
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(-w * centres)
        self.v = nn.Parameter(torch.randn(n_units, generator=g, dtype=torch.float64) * 0.1)
        self.c = nn.Parameter(torch.zeros((), dtype=torch.float64))

    def hidden(self, x: Tensor) -> Tensor:
        """The N unit outputs for inputs ``x`` of shape ``(M,)``: ``(M, N)``."""
        return sigmoid(x[:, None] * self.w + self.b)  # (M, N)

    def forward(self, x: Tensor) -> Tensor:
        return self.hidden(x) @ self.v + self.c  # (M,)


def fit_sigmoid_net(n_units: int, x: Tensor, y: Tensor, steps: int, seed: int) -> SigmoidNet:
    """Fit :class:`SigmoidNet` to ``(x, y)``: output weights by linear least squares for the random
    initial steps, then every parameter by full-batch L-BFGS (Liu & Nocedal 1989) on the MSE."""
    net = SigmoidNet(n_units, torch.Generator().manual_seed(seed))
    with torch.no_grad():  # start from the best output weights for the random steps: a linear least-squares fit
        h = torch.cat([net.hidden(x), torch.ones_like(x)[:, None]], 1)  # (M, N + 1)
        sol = torch.linalg.lstsq(h, y[:, None], rcond=None).solution[:, 0]  # (N + 1,)
        net.v.copy_(sol[:-1])
        net.c.copy_(sol[-1])
    opt = torch.optim.LBFGS(net.parameters(), lr=1.0, max_iter=steps, history_size=50,
                            tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        opt.zero_grad()
        loss = (net(x) - y).square().mean()
        loss.backward()
        return loss

    opt.step(closure)
    return net
