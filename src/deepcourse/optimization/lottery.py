"""The lottery ticket: iterative magnitude pruning with resetting (Frankle & Carbin 2019) and with
rewinding (Frankle, Dziugaite, Roy & Carbin 2020).

Frankle & Carbin (2019), "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks",
sec. 2: (1) initialise f(x; theta_0); (2) train for j iterations to theta_j; (3) prune p% of the
surviving weights of each layer by magnitude, giving a mask m; (4) reset the survivors to theta_0, i.e.
the sub-network f(x; m * theta_0). Repeating steps 2-4 for n rounds, each pruning p^(1/n) % -- more
exactly keeping a fraction (1 - p)^(1/n) per round -- finds smaller tickets than one-shot pruning. The
control re-draws the survivors' initial values from the initialiser ("random reinitialisation"), keeping
the mask: if the original values matter, the control trains more slowly and ends less accurate.

Frankle et al. (2020), "Linear Mode Connectivity and the Lottery Ticket Hypothesis", sec. 5: for deeper
networks, resetting to theta_0 fails but *rewinding* to the weights theta_k after k iterations of the
dense run works; ``reset="rewind"`` does that.

Early stopping (Frankle & Carbin 2019, Figure 1): the early-stop iteration is the one with the lowest
validation loss, and the test accuracy is read at that iteration.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core import evaluate_classifier

from .pruning import Masks, apply_masks, magnitude_prune, ones_masks, prunable_weights, sparsity

__all__ = ["keep_per_round", "layer_rates", "reset_weights", "random_reinit", "TrainResult", "train_masked",
           "LotteryRound", "iterative_magnitude_pruning"]


def keep_per_round(final_remaining: float, rounds: int) -> float:
    """Fraction of the survivors each round keeps so that ``rounds`` rounds leave ``final_remaining``:
    (final_remaining)^(1/rounds). E.g. keeping 20% in 5 rounds prunes 1 - 0.2^(1/5) = 27.5% per round."""
    if not 0.0 < final_remaining <= 1.0:
        raise ValueError(f"final_remaining must be in (0, 1] (got {final_remaining!r})")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive int (got {rounds!r})")
    return final_remaining ** (1.0 / rounds)


def layer_rates(model: nn.Module, rate: float, output_rate: float | None = None) -> dict[str, float]:
    """Per-layer pruning rates: ``rate`` for every prunable weight, ``output_rate`` (default rate / 2,
    as Frankle & Carbin prune LeNet's output layer) for the last one."""
    names = list(prunable_weights(model))
    rates = {n: rate for n in names}
    rates[names[-1]] = rate / 2 if output_rate is None else output_rate
    return rates


@torch.no_grad()
def reset_weights(model: nn.Module, state: Mapping[str, Tensor], masks: Masks) -> None:
    """Load ``state`` (theta_0, or theta_k when rewinding) and apply the masks: survivors get exactly
    their value in ``state``, pruned weights are zero."""
    model.load_state_dict(state)
    apply_masks(model, masks)


@torch.no_grad()
def random_reinit(model: nn.Module, masks: Masks, seed: int) -> None:
    """The control: fresh values from each layer's own initialiser (``reset_parameters``), drawn with
    ``seed``, then the same mask."""
    devices_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        for mod in model.modules():
            if hasattr(mod, "reset_parameters") and mod is not model:
                mod.reset_parameters()
    finally:
        torch.random.set_rng_state(devices_state)
    apply_masks(model, masks)


@dataclass
class TrainResult:
    early_stop_iter: int  # iteration of the lowest validation loss
    test_acc: float  # test accuracy at that iteration
    val_loss: float
    val_acc: float
    final_test_acc: float  # at the last iteration
    curve: list[tuple[int, float, float]] = field(default_factory=list)  # (iter, val_loss, val_acc)
    rewind_state: dict[str, Tensor] | None = None  # weights after ``rewind_at`` iterations, if asked


def train_masked(model: nn.Module, masks: Masks, data: Mapping[str, tuple[Tensor, Tensor]], *, iterations: int,
                 batch_size: int = 60, lr: float = 1.2e-3, eval_every: int = 100, seed: int = 0,
                 start_iter: int = 0, rewind_at: int | None = None) -> TrainResult:
    """Train ``model`` with Adam (the paper's LeNet recipe: lr 1.2e-3, batch 60) while holding the pruned
    weights at zero; evaluate every ``eval_every`` iterations on ``data["val"]``, and ``data["test"]`` twice:
    with the weights of the lowest validation loss (the early-stop iteration) and with the final ones. The
    model ends with its final weights (the ones the next pruning round ranks).

    ``start_iter``: iterations already done (a rewound ticket trains the remaining ``iterations - k``).
    ``rewind_at``: also return the weights after that many iterations (theta_k for rewinding).
    The data order depends only on ``seed``, so ticket and control see the same batches.
    """
    if iterations < 1 or eval_every < 1 or batch_size < 1:
        raise ValueError(f"iterations, eval_every and batch_size must be >= 1 (got {iterations}, {eval_every}, {batch_size})")
    x_tr, y_tr = data["train"]
    params = dict(model.named_parameters())
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = len(x_tr)
    order = torch.randperm(n, generator=g)
    pos = 0
    curve: list[tuple[int, float, float]] = []
    best: tuple[int, float, float, dict[str, Tensor]] | None = None  # (iter, val loss, val acc, weights)
    rewind_state = copy.deepcopy(model.state_dict()) if rewind_at == start_iter else None
    model.train()
    apply_masks(model, masks)
    for it in range(start_iter + 1, iterations + 1):
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=g), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            for k, m in masks.items():  # pruned weights get no gradient, so Adam's moments stay zero
                params[k].grad.mul_(m)
        opt.step()
        apply_masks(model, masks)
        if it == rewind_at:
            rewind_state = copy.deepcopy(model.state_dict())
        if it % eval_every == 0 or it == iterations:
            val = evaluate_classifier(model, *data["val"], batch_size=4096)
            curve.append((it, val["loss"], val["acc"]))
            if best is None or val["loss"] < best[1]:
                best = (it, val["loss"], val["acc"], copy.deepcopy(model.state_dict()))
    final_test = evaluate_classifier(model, *data["test"], batch_size=4096)["acc"]
    best_test = final_test
    if best[0] != iterations:  # the test accuracy at the early-stop iteration, then back to the final weights
        final = copy.deepcopy(model.state_dict())
        model.load_state_dict(best[3])
        best_test = evaluate_classifier(model, *data["test"], batch_size=4096)["acc"]
        model.load_state_dict(final)
    return TrainResult(early_stop_iter=best[0], test_acc=best_test, val_loss=best[1], val_acc=best[2],
                       final_test_acc=final_test, curve=curve, rewind_state=rewind_state)


@dataclass
class LotteryRound:
    round: int
    remaining: float  # fraction of prunable weights left
    ticket: TrainResult
    control: TrainResult | None  # random reinitialisation with the same mask


def iterative_magnitude_pruning(
    make_model: Callable[[], nn.Module],
    train: Callable[..., TrainResult],
    *,
    rounds: int,
    rate: float | Mapping[str, float],
    reset: str = "init",
    rewind_iter: int = 0,
    control: bool = True,
    seed: int = 0,
    callback: Callable[[LotteryRound], None] | None = None,
) -> list[LotteryRound]:
    """Run ``rounds`` rounds of prune-and-reset after a dense training run (round 0).

    ``make_model()`` builds theta_0 (seed torch before calling it). ``train(model, masks, start_iter=...,
    rewind_at=...)`` trains and returns a :class:`TrainResult`. ``rate`` is the fraction of survivors pruned
    per round (a dict gives per-layer rates). ``reset``: "init" resets survivors to theta_0 (Frankle &
    Carbin 2019); "rewind" to theta_k with k = ``rewind_iter`` (Frankle et al. 2020). With ``control``,
    each pruned round also trains the random-reinitialisation control (seeded by ``seed`` and the round).
    """
    if reset not in ("init", "rewind"):
        raise ValueError(f"reset must be 'init' or 'rewind' (got {reset!r})")
    if reset == "rewind" and rewind_iter < 1:
        raise ValueError(f"rewind_iter must be >= 1 with reset='rewind' (got {rewind_iter})")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise ValueError(f"rounds must be an int >= 0 (got {rounds!r})")
    model = make_model()
    theta0 = copy.deepcopy(model.state_dict())
    masks = ones_masks(model)
    start = rewind_iter if reset == "rewind" else 0
    dense = train(model, masks, start_iter=0, rewind_at=rewind_iter if reset == "rewind" else None)
    reset_state = dense.rewind_state if reset == "rewind" else theta0
    if reset_state is None:
        raise ValueError(f"train did not return the weights at iteration {rewind_iter} for rewinding")
    out = [LotteryRound(0, 1.0, dense, None)]
    if callback:
        callback(out[-1])
    for r in range(1, rounds + 1):
        # prune the trained weights of the previous round's ticket
        masks = magnitude_prune(model, rate, scope="layer", masks=masks, apply=False)
        reset_weights(model, reset_state, masks)
        ticket = train(model, masks, start_iter=start, rewind_at=None)
        ctrl = None
        if control:
            twin = make_model()
            random_reinit(twin, masks, seed=10_007 * (seed + 1) + r)
            ctrl = train(twin, masks, start_iter=start, rewind_at=None)
        out.append(LotteryRound(r, 1.0 - sparsity(model, masks), ticket, ctrl))
        if callback:
            callback(out[-1])
    return out
