"""Truncated-SVD compression of dense layers (Xue et al. 2013; Denton et al. 2014; Girshick 2015, Fast R-CNN).

A trained ``nn.Linear`` computes ``y = W x + b`` with ``W`` of shape ``(u, v)`` (``u`` outputs,
``v`` inputs). Its singular value decomposition ``W = U Sigma V^T`` truncated to the top ``t``
singular values gives the best rank-``t`` approximation in both the Frobenius and the spectral norm
(Eckart & Young 1936)::

    W ~ W_t = U_t Sigma_t V_t^T,   ||W - W_t||_F^2 = sum_{i > t} sigma_i^2,   ||W - W_t||_2 = sigma_{t+1}

and the layer becomes two linear layers with no nonlinearity between them: the first has weight
``Sigma_t V_t^T`` ``(t, v)`` and no bias, the second has weight ``U_t`` ``(u, t)`` and ``W``'s bias.
Parameters (and multiply-adds) fall from ``u v`` to ``t (u + v)``, a saving only when
``t < u v / (u + v)``.

:func:`rank_sweep` factorises a trained network at a list of ranks and measures each copy's test
accuracy, parameters, FLOPs and CPU latency.
"""

from __future__ import annotations

import copy
import time
from typing import Callable, Iterable

import torch
from torch import Tensor, nn

from deepcourse.core import count_flops, eval_mode, predict
from deepcourse.core.utils import num_threads
from deepcourse.metrics import accuracy

__all__ = ["truncated_svd", "svd_linear", "compress_linears", "truncation_error", "break_even_rank",
           "rank_for_energy", "measure_latency", "dense_params", "rank_sweep"]


def _check_rank(rank: int, full: int) -> int:
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= full:
        raise ValueError(f"rank must be an int in [1, {full}] (min of the weight's shape), got {rank!r}")
    return rank


def truncated_svd(w: Tensor, rank: int) -> tuple[Tensor, Tensor, Tensor]:
    """``(U_t (u, t), S_t (t,), Vh_t (t, v))`` of a matrix ``w (u, v)``, computed in float64."""
    if w.dim() != 2:
        raise ValueError(f"w must be a matrix, got shape {tuple(w.shape)}")
    rank = _check_rank(rank, min(w.shape))
    u, s, vh = torch.linalg.svd(w.detach().double(), full_matrices=False)  # (u, k), (k,), (k, v), k = min(u, v)
    return u[:, :rank], s[:rank], vh[:rank]


def truncation_error(w: Tensor, rank: int) -> tuple[float, float]:
    """Frobenius and spectral norm of ``W - W_t``, measured (not predicted): the tests compare them
    with ``sqrt(sum_{i>t} sigma_i^2)`` and ``sigma_{t+1}``."""
    u, s, vh = truncated_svd(w, rank)
    diff = w.detach().double() - (u * s) @ vh  # (u, v)
    return float(torch.linalg.matrix_norm(diff, "fro")), float(torch.linalg.matrix_norm(diff, 2))


def break_even_rank(layer: nn.Linear) -> int:
    """Largest ``t`` with ``t (u + v) < u v``: above it the factorised layer is *bigger*."""
    u, v = layer.out_features, layer.in_features
    return max((u * v - 1) // (u + v), 0)


def rank_for_energy(w: Tensor, energy: float) -> int:
    """Smallest ``t`` whose singular values keep ``energy`` of ``sum sigma_i^2`` (a rank-selection rule)."""
    if not 0 < energy <= 1:
        raise ValueError(f"energy must be in (0, 1], got {energy!r}")
    s2 = torch.linalg.svdvals(w.detach().double()) ** 2
    frac = torch.cumsum(s2, 0) / s2.sum()
    return int(torch.searchsorted(frac, torch.tensor(energy, dtype=frac.dtype) - 1e-12).item()) + 1


def svd_linear(layer: nn.Linear, rank: int) -> nn.Sequential:
    """Replace ``layer`` by ``Linear(v, t, bias=False)`` with weight ``Sigma_t V_t^T`` followed by
    ``Linear(t, u)`` with weight ``U_t`` and ``layer``'s bias (the notes' slide; Girshick 2015)."""
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"layer must be nn.Linear, got {type(layer).__name__}")
    u, s, vh = truncated_svd(layer.weight, rank)
    first = nn.Linear(layer.in_features, rank, bias=False)
    second = nn.Linear(rank, layer.out_features, bias=layer.bias is not None)
    dtype, device = layer.weight.dtype, layer.weight.device
    with torch.no_grad():
        first.weight.copy_((s[:, None] * vh).to(dtype))  # (t, v) = Sigma_t V_t^T
        second.weight.copy_(u.to(dtype))  # (u, t)
        if layer.bias is not None:
            second.bias.copy_(layer.bias)
    return nn.Sequential(first, second).to(device)


def dense_params(model: nn.Module) -> int:
    """Parameters held by the model's ``nn.Linear`` layers (weights and biases)."""
    return sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters())


def compress_linears(model: nn.Module, rank: int | dict[str, int], skip: Iterable[str] = (),
                     only_if_smaller: bool = True) -> nn.Module:
    """A copy of ``model`` with its ``nn.Linear`` layers factorised.

    ``rank`` is one rank for every layer (clipped to each layer's ``min(u, v)``) or a ``{name: rank}``
    dict naming the layers to factorise. Layers named in ``skip`` (e.g. a small output layer) stay
    dense, and with ``only_if_smaller`` so do layers where rank ``t`` would not save parameters.
    """
    model = copy.deepcopy(model)
    skip = set(skip)
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear) and n not in skip]
    if isinstance(rank, dict):
        unknown = set(rank) - set(names)
        if unknown:
            raise ValueError(f"rank names unknown Linear layers {sorted(unknown)}; available: {names}")
        names = [n for n in names if n in rank]
    for name in names:
        layer = model.get_submodule(name)
        t = rank[name] if isinstance(rank, dict) else min(int(rank), min(layer.weight.shape))
        if only_if_smaller and t > break_even_rank(layer):
            continue
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, svd_linear(layer, t))
    return model


@torch.no_grad()
def measure_latency(model: nn.Module, x: Tensor, repeats: int = 20, warmup: int = 3,
                    timer: Callable[[], float] = time.perf_counter) -> float:
    """Median wall time (seconds) of ``model(x)`` in eval mode over ``repeats`` calls, after ``warmup``."""
    times = []
    with eval_mode(model):
        for _ in range(warmup):
            model(x)
        for _ in range(repeats):
            t0 = timer()
            model(x)
            times.append(timer() - t0)
    return float(sorted(times)[len(times) // 2])


def rank_sweep(model: nn.Module, x: Tensor, y: Tensor, ranks: Iterable[int], latency_x: Tensor, *,
               rounds: int = 3, repeats: int = 5) -> tuple[dict, list[dict]]:
    """Factorise every ``nn.Linear`` of ``model`` but the output layer at each rank (no fine-tuning) and
    measure ``(x, y)`` accuracy, dense parameters, FLOPs per example and the latency of one ``latency_x``
    batch on one CPU thread. Ranks above a layer's break-even rank leave it dense; a rank that leaves every
    layer dense is dropped. Returns ``(dense, rows)``: the same measures for the model itself, and one row
    per kept rank (``rank``, ``acc``, ``params``, ``flops``, ``latency_ms``).

    Latency is measured in ``rounds`` over all models in turn, keeping each model's best median, so that
    load from other processes on a shared machine hits every model alike."""
    last = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1:]
    base = {"acc": accuracy(predict(model, x), y), "params": dense_params(model),
            "flops": count_flops(model, latency_x[:1])}
    rows, smalls = [], []
    for t in sorted(set(ranks)):
        small = compress_linears(model, t, skip=last)
        if dense_params(small) == base["params"]:  # above the break-even rank nothing is factorised
            continue
        smalls.append(small)
        rows.append({"rank": t, "acc": accuracy(predict(small, x), y), "params": dense_params(small),
                     "flops": count_flops(small, latency_x[:1])})
    lats = [[] for _ in range(len(smalls) + 1)]
    with num_threads(1):
        for _ in range(rounds):
            for i, m in enumerate([model] + smalls):
                lats[i].append(measure_latency(m, latency_x, repeats=repeats, warmup=1))
    base["latency_ms"] = 1e3 * min(lats[0])
    for r, lat in zip(rows, lats[1:]):
        r["latency_ms"] = 1e3 * min(lat)
    return base, rows
