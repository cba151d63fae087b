"""Trajectory length as a measure of expressivity (Raghu et al. 2017, "On the Expressive Power of Deep Neural
Networks"; used for LTCs by Hasani et al. 2021, Sec. 5).

Feed a network an input that traces a circle, collect its hidden states along the way, project them onto
their first two principal components and measure the arc length of the projected curve. The input circle
(radius 1) has length 2 pi; a network that stretches and folds its input gives a longer latent trajectory.
Raghu et al. show it grows exponentially with depth for random deep MLPs (faster with larger weight variance);
Hasani et al. report LTC trajectories longer than those of CT-RNNs and neural ODEs.

Networks are random (untrained), with weights drawn from a seeded generator, as in both papers.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .ltc import CTRNNCell, ContinuousRNN, LTCCell, ODERNNCell

__all__ = ["circle", "pca_2d", "arc_length", "scale_free_length", "trajectory_length", "mlp_states", "recurrent_states",
           "TRAJECTORY_MODELS", "latent_trajectory"]

TRAJECTORY_MODELS = ("mlp", "lstm", "ctrnn", "node", "ltc")


def circle(steps: int = 100, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``steps`` points ``(sin t, cos t)`` with ``t`` evenly spaced over ``[0, 2 pi]`` (the reference code's
    input), shape (steps, 2)."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    t = torch.linspace(0, 2 * math.pi, steps, dtype=dtype)
    return torch.stack([t.sin(), t.cos()], 1)


def pca_2d(h: torch.Tensor) -> torch.Tensor:
    """Coordinates of the rows of ``h`` (T, D) on their first two principal components (T, 2)."""
    if h.dim() != 2 or h.shape[0] < 2:
        raise ValueError(f"h must have shape (T, D) with T >= 2, got {tuple(h.shape)}")
    hc = h - h.mean(0)
    _, _, vh = torch.linalg.svd(hc, full_matrices=False)
    proj = hc @ vh[:2].T
    if proj.shape[1] < 2:
        proj = torch.cat([proj, proj.new_zeros(len(proj), 2 - proj.shape[1])], 1)
    return proj


def arc_length(points: torch.Tensor) -> float:
    """Length of the polyline through ``points`` (T, d): the sum of the distances between consecutive rows."""
    if points.dim() != 2 or points.shape[0] < 2:
        raise ValueError(f"points must have shape (T, d) with T >= 2, got {tuple(points.shape)}")
    return float((points[1:] - points[:-1]).norm(dim=1).sum())


def scale_free_length(points: torch.Tensor) -> float:
    """Arc length divided by the RMS distance of the points from their centroid: 2 pi for a circle of any
    radius, so networks whose states live on different scales (a bounded LTC, a drifting ODE-RNN) compare."""
    rms = float((points - points.mean(0)).square().sum(1).mean().sqrt())
    return arc_length(points) / rms if rms > 0 else 0.0


def trajectory_length(states: torch.Tensor) -> float:
    """Arc length of the states (T, D) projected on their first two principal components."""
    return arc_length(pca_2d(states))


@torch.no_grad()
def mlp_states(x: torch.Tensor, depth: int, width: int, sigma_w: float = 2.0, sigma_b: float = 1.0,
               activation: str = "hardtanh", generator: torch.Generator | None = None) -> torch.Tensor:
    """The last hidden layer (T, width) of a random MLP of ``depth`` layers applied to each row of ``x``
    (T, d): weights ~ N(0, sigma_w^2 / fan_in), biases ~ N(0, sigma_b^2) (Raghu et al.'s setting)."""
    act = {"hardtanh": torch.nn.functional.hardtanh, "tanh": torch.tanh, "relu": torch.relu}[activation]
    h = x
    for _ in range(depth):
        w = torch.randn(h.shape[1], width, generator=generator, dtype=x.dtype) * sigma_w / math.sqrt(h.shape[1])
        b = torch.randn(width, generator=generator, dtype=x.dtype) * sigma_b
        h = act(h @ w + b)
    return h


@torch.no_grad()
def recurrent_states(kind: str, x: torch.Tensor, hidden: int, generator: torch.Generator | None = None,
                     sigma_w: float | None = None) -> torch.Tensor:
    """Hidden states (T, hidden) of a random recurrent network of ``kind`` (``lstm``, ``ctrnn``, ``node``,
    ``ltc``) reading ``x`` (T, d) as one sequence from a zero state. Parameters follow each model's own
    initialisation, drawn from ``generator``; ``sigma_w`` (LSTM, CT-RNN, ODE-RNN) replaces the weights by
    N(0, sigma_w^2 / fan_in)."""
    if kind not in TRAJECTORY_MODELS[1:]:
        raise ValueError(f"kind must be one of {TRAJECTORY_MODELS[1:]}, got {kind!r}")
    fork = torch.random.fork_rng()
    with fork:
        if generator is not None:
            torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
        d = x.shape[1]
        if kind == "lstm":
            net: nn.Module = nn.LSTM(d, hidden, batch_first=True)
        else:
            cell = {"ctrnn": CTRNNCell, "node": ODERNNCell, "ltc": LTCCell}[kind](d, hidden)
            net = ContinuousRNN(cell)
        net = net.to(x.dtype)
        if sigma_w is not None and kind != "ltc":
            for name, p in net.named_parameters():
                if p.dim() == 2:
                    p.normal_(0, sigma_w / math.sqrt(p.shape[1]))
        out = net(x[None])
    return (out[0] if kind == "lstm" else out)[0]


def latent_trajectory(kind: str, steps: int = 100, hidden: int = 25, depth: int = 1, sigma_w: float | None = None,
                      generator: torch.Generator | None = None) -> tuple[torch.Tensor, float]:
    """The circle fed to a random network of ``kind``: its states' 2-D PCA projection (steps, 2) and the arc
    length of that projection. ``depth`` is the MLP's number of layers (ignored by recurrent kinds)."""
    x = circle(steps)
    if kind == "mlp":
        states = mlp_states(x, depth, hidden, 2.0 if sigma_w is None else sigma_w, generator=generator)
    else:
        states = recurrent_states(kind, x, hidden, generator, sigma_w)
    proj = pca_2d(states)
    return proj, arc_length(proj)
