"""Small, plain-Python training loops and measurements behind the module 0.1 experiments.

These loops train tiny models on whole (small) datasets in one batch, where ``core.fit``'s
machinery (checkpoints, resumable loaders) would cost more than the training itself; the
MNIST experiment uses ``core.fit``.
"""

from __future__ import annotations

from typing import Callable

import torch

from torch import Tensor, nn

from deepcourse.core.utils import num_threads

from .activations import sigmoid
from .models import MLP

__all__ = [
    "single_thread", "xor_data", "train_full_batch", "accuracy", "make_optimizer", "OPTIMIZERS", "SigmoidNet",
    "fit_sigmoid_net", "layer_grad_norms", "init_for",
]


def single_thread():
    """Run torch on one intra-op thread inside the block (the models of these studies are tiny:
    see :func:`deepcourse.core.utils.num_threads`)."""
    return num_threads(1)


def xor_data() -> tuple[Tensor, Tensor]:
    """The XOR truth table of the notes: inputs ``(4, 2)`` in {0, 1}, labels ``(4,)``."""
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([0, 1, 1, 0])
    return x, y


def accuracy(scores: Tensor, y: Tensor) -> float:
    """Accuracy of class scores ``(N, C)`` (argmax) or of one logit per sample ``(N,)`` (> 0)."""
    pred = scores.argmax(1) if scores.dim() == 2 and scores.shape[1] > 1 else (scores.reshape(-1) > 0).long()
    return (pred == y).float().mean().item()


OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr),
    "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),  # Polyak 1964 heavy ball
    "nesterov": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),  # Nesterov 1983; Sutskever 2013
    "rprop": lambda p, lr: torch.optim.Rprop(p, lr=lr),  # Riedmiller & Braun 1993
    "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr),  # Tieleman & Hinton 2012
    "adam": lambda p, lr: torch.optim.Adam(p, lr=lr),  # Kingma & Ba 2015
}


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, lr)


def train_full_batch(model: nn.Module, loss_fn: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor,
                     optimizer: torch.optim.Optimizer, steps: int,
                     scheduler: torch.optim.lr_scheduler.LRScheduler | None = None) -> list[float]:
    """Full-batch gradient descent for ``steps`` steps; returns the loss before each step.

    Full batch is what Rprop needs: it compares gradient signs from one step to the next,
    which mini-batch noise would scramble (Riedmiller & Braun 1993).
    """
    losses = []
    model.train()
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return losses


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

    def forward(self, x: Tensor) -> Tensor:
        h = sigmoid(x[:, None] * self.w + self.b)  # (M, N)
        return h @ self.v + self.c  # (M,)


def fit_sigmoid_net(n_units: int, x: Tensor, y: Tensor, steps: int, seed: int) -> SigmoidNet:
    """Fit :class:`SigmoidNet` to ``(x, y)``: output weights by linear least squares for the random
    initial steps, then every parameter by full-batch L-BFGS (Liu & Nocedal 1989) on the MSE."""
    net = SigmoidNet(n_units, torch.Generator().manual_seed(seed))
    with torch.no_grad():  # start from the best output weights for the random steps: a linear least-squares fit
        h = torch.cat([sigmoid(x[:, None] * net.w + net.b), torch.ones_like(x)[:, None]], 1)  # (M, N + 1)
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
