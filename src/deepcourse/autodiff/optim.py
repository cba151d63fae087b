"""Gradient-descent optimisers written out, one class per update rule.

Each ``step()`` reads ``p.grad`` for every parameter and changes ``p.data`` in
place.  Where torch has the same algorithm the defaults and the exact order
of operations match ``torch.optim`` (checked in the tests), so a step here
and a step there agree to rounding.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .tensor import Tensor

__all__ = ["Optimizer", "GD", "SGD", "Momentum", "Nesterov", "Rprop", "RMSProp", "Adam", "OPTIMIZERS"]


class Optimizer:
    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        self.lr = float(lr)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        self.t += 1
        for p, s in zip(self.params, self.state):
            if p.grad is not None:
                self.update(p, np.asarray(p.grad, dtype=p.data.dtype), s)

    def update(self, p: Tensor, g: np.ndarray, s: dict[str, Any]) -> None:
        raise NotImplementedError


class GD(Optimizer):
    """Plain gradient descent ``w <- w - eta grad L`` (Cauchy 1847).  Batch or full-batch
    is the caller's choice: feed the whole training set for GD, minibatches for SGD."""

    def __init__(self, params: Iterable[Tensor], lr: float = 0.1, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.weight_decay = float(weight_decay)

    def update(self, p, g, s):
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        p.data -= self.lr * g


class SGD(Optimizer):
    """SGD with optional heavy-ball momentum (Polyak 1964) or Nesterov momentum (Nesterov 1983,
    in the form of Sutskever et al. 2013), as torch writes them:
    ``b <- mu b + g`` (``b = g`` on the first step); step ``g + mu b`` (Nesterov) or ``b``."""

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, dampening: float = 0.0) -> None:
        super().__init__(params, lr)
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum!r}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0")
        self.momentum, self.nesterov = float(momentum), nesterov
        self.weight_decay, self.dampening = float(weight_decay), float(dampening)

    def update(self, p, g, s):
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.momentum:
            b = s.get("buf")
            b = g.copy() if b is None else self.momentum * b + (1.0 - self.dampening) * g
            s["buf"] = b
            g = g + self.momentum * b if self.nesterov else b
        p.data -= self.lr * g


class Momentum(SGD):
    """SGD with heavy-ball momentum (Polyak 1964; Rumelhart et al. 1986)."""

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(params, lr, momentum=momentum)


class Nesterov(SGD):
    """SGD with Nesterov momentum: the gradient is, in effect, taken at the look-ahead point."""

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(params, lr, momentum=momentum, nesterov=True)


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun 1993): only the sign of each partial derivative
    is used; its step size Delta grows by eta+ while the sign persists and shrinks by eta- when it flips.

    ``backtracking=False`` is the variant without weight-backtracking that torch implements
    (Rprop-, Igel & Huesken 2000): on a flip, shrink Delta, make no move and forget the gradient.
    ``backtracking=True`` is the original algorithm the notes describe: on a flip, also
    undo the previous move (``w <- w - Delta w(t-1)``, "restore the previous search point").
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50.0), backtracking: bool = False) -> None:
        super().__init__(params, lr)
        if not 0 < etas[0] < 1 < etas[1]:
            raise ValueError(f"etas must satisfy 0 < eta- < 1 < eta+, got {etas!r}")
        self.etaminus, self.etaplus = etas
        self.step_min, self.step_max = step_sizes
        self.backtracking = backtracking

    def update(self, p, g, s):
        if "prev" not in s:
            s["prev"] = np.zeros_like(p.data)
            s["step"] = np.full_like(p.data, self.lr)
            s["dw"] = np.zeros_like(p.data)
        prod = np.sign(g * s["prev"])
        factor = np.where(prod > 0, self.etaplus, np.where(prod < 0, self.etaminus, 1.0)).astype(p.data.dtype)
        s["step"] = np.clip(s["step"] * factor, self.step_min, self.step_max)
        flipped = prod < 0
        g = np.where(flipped, 0.0, g).astype(p.data.dtype)
        dw = -np.sign(g) * s["step"]
        if self.backtracking:
            dw = np.where(flipped, -s["dw"], dw)  # undo the move that jumped over the minimum
        p.data += dw
        s["dw"], s["prev"] = dw, g


class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton 2012, lecture 6.5): divide by a running RMS of the gradient,
    ``v <- a v + (1 - a) g^2; w <- w - eta g / (sqrt(v) + eps)`` (torch's defaults)."""

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.alpha, self.eps = float(alpha), float(eps)

    def update(self, p, g, s):
        v = s.get("v")
        v = (1.0 - self.alpha) * g * g if v is None else self.alpha * v + (1.0 - self.alpha) * g * g
        s["v"] = v
        p.data -= self.lr * g / (np.sqrt(v) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1): bias-corrected first and second moment estimates,
    ``w <- w - eta m_hat / (sqrt(v_hat) + eps)``."""

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.b1, self.b2 = betas
        self.eps = float(eps)

    def update(self, p, g, s):
        m = s.get("m", 0.0) * self.b1 + (1.0 - self.b1) * g
        v = s.get("v", 0.0) * self.b2 + (1.0 - self.b2) * g * g
        s["m"], s["v"] = m, v
        c1, c2 = 1.0 - self.b1**self.t, 1.0 - self.b2**self.t
        p.data -= (self.lr / c1) * m / (np.sqrt(v) / np.sqrt(c2) + self.eps)


OPTIMIZERS = {"gd": GD, "sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "rprop": Rprop,
              "rprop_backtracking": lambda params, **kw: Rprop(params, backtracking=True, **kw),
              "rmsprop": RMSProp, "adam": Adam}
