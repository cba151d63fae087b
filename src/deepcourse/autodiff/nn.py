"""A small neural kit on the reverse-mode engine: units, layers, activations, losses, delta rule.

Units and losses follow module 0.1 of the course: the linear unit
``y = sum_i w_i x_i`` (with ``x_0 = 1`` as the bias), the radial unit whose
excitation is ``||x - w||_2`` (Broomhead & Lowe 1988, radial basis functions),
sigmoid/tanh/ReLU/leaky-ReLU nonlinearities, and the regression and
classification losses.  Training a whole stack by the chain rule is error
backpropagation (Rumelhart, Hinton & Williams 1986).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import ops
from .tensor import Tensor, as_tensor, where

__all__ = ["Parameter", "Module", "LinearUnit", "RadialUnit", "Dense", "Sequential", "MLP", "ACTIVATIONS",
           "mse_loss", "l2_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "bce_loss", "bce_with_logits",
           "cross_entropy", "zero_one_loss", "delta_rule_step"]


class Parameter(Tensor):
    """A leaf tensor that a ``Module`` trains (``requires_grad`` is on)."""

    __slots__ = ()

    def __init__(self, data: Any) -> None:
        super().__init__(data, requires_grad=True)


class Module:
    """Base class: ``parameters()`` finds every ``Parameter`` in attributes, sub-modules and lists."""

    def forward(self, *args: Any) -> Tensor:
        raise NotImplementedError

    def __call__(self, *args: Any) -> Tensor:
        return self.forward(*args)

    def parameters(self) -> list[Parameter]:
        out: list[Parameter] = []
        seen: set[int] = set()

        def visit(v: Any) -> None:
            if isinstance(v, Parameter):
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
            elif isinstance(v, Module):
                for x in vars(v).values():
                    visit(x)
            elif isinstance(v, (list, tuple)):
                for x in v:
                    visit(x)
        visit(self)
        return out

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None


ACTIVATIONS: dict[str, Callable[[Any], Any]] = {
    "identity": lambda x: x,
    "sigmoid": ops.sigmoid,
    "tanh": ops.tanh,
    "relu": ops.relu,
    "leaky_relu": lambda x: ops.leaky_relu(x, 0.1),  # the notes' max(0.1 x, x)
    "softmax": lambda x: ops.softmax(x, axis=-1),
}


def _activation(name: str) -> Callable:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation={name!r}; allowed: {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def _init(rng: np.random.Generator, fan_in: int, fan_out: int, activation: str, dtype: Any) -> np.ndarray:
    # He et al. 2015 for ReLU-like units, Glorot & Bengio 2010 otherwise: keeps activations' variance
    # roughly constant across layers so deep stacks neither saturate nor die at initialisation.
    if activation in ("relu", "leaky_relu"):
        bound = np.sqrt(6.0 / fan_in)
    else:
        bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(dtype)


class LinearUnit(Module):
    """One unit ``y = sigma(sum_i w_i x_i + b)`` (McCulloch & Pitts 1943; Rosenblatt 1958)."""

    def __init__(self, n_in: int, activation: str = "identity", rng: np.random.Generator | None = None) -> None:
        rng = rng or np.random.default_rng(0)
        self.w = Parameter(rng.normal(0, 0.1, size=n_in))
        self.b = Parameter(np.zeros(()))
        self.act = _activation(activation)

    def forward(self, x: Any) -> Tensor:
        return self.act(as_tensor(x) @ self.w + self.b)  # (N,)


class RadialUnit(Module):
    """Excitation ``||x - w||_2``; with ``gaussian=True`` output ``exp(-||x - w||^2 / (2 s^2))``."""

    def __init__(self, n_in: int, width: float = 1.0, gaussian: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        rng = rng or np.random.default_rng(0)
        self.w = Parameter(rng.normal(0, 1.0, size=n_in))
        self.width, self.gaussian = float(width), gaussian

    def forward(self, x: Any) -> Tensor:
        d2 = ((as_tensor(x) - self.w) ** 2).sum(axis=-1)  # (N,)
        if self.gaussian:
            return (d2 * (-0.5 / self.width**2)).exp()
        return (d2 + 1e-12).sqrt()


class Dense(Module):
    """A fully connected layer ``y = sigma(x W + b)``, x (N, n_in) -> (N, n_out)."""

    def __init__(self, n_in: int, n_out: int, activation: str = "identity", rng: np.random.Generator | None = None,
                 dtype: Any = np.float64) -> None:
        if n_in < 1 or n_out < 1:
            raise ValueError(f"Dense: n_in and n_out must be >= 1, got {n_in}, {n_out}")
        rng = rng or np.random.default_rng(0)
        self.W = Parameter(_init(rng, n_in, n_out, activation, dtype))
        self.b = Parameter(np.zeros(n_out, dtype=dtype))
        self.act = _activation(activation)

    def forward(self, x: Any) -> Tensor:
        return self.act(as_tensor(x) @ self.W + self.b)


class Sequential(Module):
    def __init__(self, *layers: Module) -> None:
        self.layers = list(layers)

    def forward(self, x: Any) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class MLP(Sequential):
    """Dense layers of ``sizes`` with ``activation`` between them and ``out_activation`` at the end."""

    def __init__(self, sizes: Sequence[int], activation: str = "relu", out_activation: str = "identity",
                 seed: int = 0, dtype: Any = np.float64) -> None:
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least input and output sizes, got {list(sizes)}")
        rng = np.random.default_rng(seed)
        acts = [activation] * (len(sizes) - 2) + [out_activation]
        super().__init__(*[Dense(a, b, act, rng, dtype) for a, b, act in zip(sizes[:-1], sizes[1:], acts)])


# ---- losses (mean over the batch unless the name says otherwise) ---------------------------
def _pair(pred: Any, target: Any) -> tuple[Tensor, Any]:
    pred = as_tensor(pred)
    target = target.data if isinstance(target, Tensor) else np.asarray(target, dtype=pred.dtype)
    if np.shape(target) != pred.shape:
        raise ValueError(f"loss: prediction shape {pred.shape} != target shape {np.shape(target)}")
    return pred, target


def mse_loss(pred: Any, target: Any) -> Tensor:
    """MSE = (1/m) ||y_hat - y||_2^2."""
    p, t = _pair(pred, target)
    return ((p - t) ** 2).mean()


def l2_loss(pred: Any, target: Any) -> Tensor:
    """Quadratic loss ||y_hat - y||_2^2 (a sum, as in the delta-rule derivation)."""
    p, t = _pair(pred, target)
    return ((p - t) ** 2).sum()


def l1_loss(pred: Any, target: Any) -> Tensor:
    """Mean absolute error; the subgradient at 0 is 0 (sign(0))."""
    p, t = _pair(pred, target)
    return abs(p - t).mean()


def huber_loss(pred: Any, target: Any, delta: float = 1.0) -> Tensor:
    """Huber (1964): 0.5 d^2 if |d| <= delta else delta (|d| - delta/2), elementwise, averaged."""
    p, t = _pair(pred, target)
    d = p - t
    a = abs(d)
    return where(a.data <= delta, d * d * 0.5, (a - 0.5 * delta) * delta).mean()


def smooth_l1_loss(pred: Any, target: Any, beta: float = 1.0) -> Tensor:
    """Smooth L1 (Girshick 2015): 0.5 d^2 / beta if |d| < beta else |d| - beta/2."""
    p, t = _pair(pred, target)
    d = p - t
    a = abs(d)
    return where(a.data < beta, d * d * (0.5 / beta), a - 0.5 * beta).mean()


def bce_loss(prob: Any, target: Any, eps: float = 1e-12) -> Tensor:
    """Binary cross-entropy -[y log q + (1 - y) log(1 - q)] on probabilities, averaged."""
    q, y = _pair(prob, target)
    return -(y * (q + eps).log() + (1.0 - y) * (1.0 - q + eps).log()).mean()


def bce_with_logits(logits: Any, target: Any) -> Tensor:
    """BCE on logits z: max(z, 0) - z y + log(1 + e^{-|z|}) (never overflows)."""
    z, y = _pair(logits, target)
    return (ops.relu(z) - z * y + (1.0 + (-abs(z)).exp()).log()).mean()


def cross_entropy(logits: Any, labels: Any) -> Tensor:
    """Categorical cross-entropy -log softmax(z)_y averaged over the batch; labels are class indices."""
    z = as_tensor(logits)
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels).astype(np.int64)
    if z.ndim != 2 or labels.shape != (z.shape[0],):
        raise ValueError(f"cross_entropy: need logits (N, C) and labels (N,), got {z.shape} and {labels.shape}")
    logp = z.log_softmax(axis=-1)  # (N, C)
    return -logp[np.arange(z.shape[0]), labels].mean()


def zero_one_loss(scores: Any, labels: Any) -> float:
    """Fraction misclassified, 1[argmax y_hat != c] averaged; not differentiable (a metric only)."""
    s = scores.numpy() if isinstance(scores, Tensor) else np.asarray(scores)
    return float(np.mean(s.argmax(axis=-1) != np.asarray(labels)))


def delta_rule_step(w: np.ndarray, x: np.ndarray, target: np.ndarray, lr: float,
                    activation: str = "identity") -> tuple[np.ndarray, float]:
    """One batch step of the delta rule (Widrow & Hoff 1960), written out without autodiff.

    Linear unit: ``w <- w - eta sum_j delta_j x_j`` with ``delta_j = y_j - t_j`` (the gradient of
    the quadratic loss up to its factor 2, folded into eta as in the notes).  Nonlinear unit
    ``y = sigma(w.x)``: ``w <- w - eta sum_j delta_j sigma'(y'_j) x_j``.  ``x`` includes the
    constant input ``x_0 = 1``.  Returns the new weights and the loss before the step.
    """
    exc = x @ w  # (N,) excitation y'
    if activation == "identity":
        y, dsig = exc, np.ones_like(exc)
    elif activation == "sigmoid":
        y = 1.0 / (1.0 + np.exp(-exc))
        dsig = y * (1.0 - y)
    elif activation == "tanh":
        y = np.tanh(exc)
        dsig = 1.0 - y * y
    else:
        raise ValueError(f"delta_rule_step: activation={activation!r}; allowed: identity, sigmoid, tanh")
    delta = y - target
    return w - lr * (delta * dsig) @ x, float(np.sum(delta**2))


def iterate_minibatches(n: int, batch: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Shuffled index batches covering ``range(n)`` once (the "stochastic" in SGD)."""
    perm = rng.permutation(n)
    for i in range(0, n, batch):
        yield perm[i:i + batch]
