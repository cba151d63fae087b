"""Gradient-descent drivers of module 0.1: full-batch and mini-batch loops, and the optimiser table.

These loops train tiny models on small tensors held in memory. They return the raw per-step loss
curves the studies plot, and the mini-batch loop survives a diverging run (it stops and says so)
instead of raising, because divergence is what the learning-rate study measures. Classifiers
selected on validation data use :func:`deepcourse.core.train_classifier` instead.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn

from deepcourse.core import TensorLoader

__all__ = ["OPTIMIZERS", "make_optimizer", "train_full_batch", "train_minibatch"]

LossFn = Callable[[Tensor, Tensor], Tensor]

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr),
    "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),  # Polyak 1964 heavy ball
    "nesterov": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),  # Nesterov 1983; Sutskever 2013
    "rprop": lambda p, lr: torch.optim.Rprop(p, lr=lr),  # Riedmiller & Braun 1993
    "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr),  # Tieleman & Hinton 2012
    "adam": lambda p, lr: torch.optim.Adam(p, lr=lr),  # Kingma & Ba 2015
}
"""The optimisers of the notes ("Gradient descent: remarks"), by name: ``name -> (params, lr) -> Optimizer``."""


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """Build the optimiser ``name`` of :data:`OPTIMIZERS` with learning rate ``lr``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, lr)


def train_full_batch(model: nn.Module, loss_fn: LossFn, x: Tensor, y: Tensor,
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


def train_minibatch(model: nn.Module, loss_fn: LossFn, x: Tensor, y: Tensor, optimizer: torch.optim.Optimizer,
                    epochs: int, batch_size: int, seed: int,
                    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                    diverge_above: float = math.inf) -> tuple[list[float], bool]:
    """Mini-batch SGD over shuffled ``(x, y)`` (Robbins & Monro 1951); one scheduler step per batch.

    Returns the mini-batch losses and whether training diverged: a loss that is not finite or above
    ``diverge_above`` ends the run at once, since nothing more can be learned from it. The shuffling
    order depends only on ``seed`` and the epoch (:class:`~deepcourse.core.TensorLoader`).
    """
    loader = TensorLoader(x, y, batch_size=batch_size, shuffle=True, seed=seed)
    curve: list[float] = []
    model.train()
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            if not loss.item() <= diverge_above:  # also catches nan
                return curve, True
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            curve.append(loss.item())
    return curve, False
