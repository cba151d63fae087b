"""The lottery-ticket study shared by ``lottery-ticket-mnist`` and ``lottery-ticket-conv``: several trials of
iterative magnitude pruning (:func:`~.lottery.iterative_magnitude_pruning`), each pruned round trained as a
winning ticket and as its random re-initialisation, summarised as Frankle & Carbin (2019) plot it
(Figures 1, 3 and 5): early-stop iteration and test accuracy against the fraction of weights left."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
from torch import nn

from deepcourse.core import Run

from .lottery import LotteryRound, iterative_magnitude_pruning, layer_rates, train_masked
from .pruning import prunable_weights

__all__ = ["LotteryRecipe", "lottery_trials", "lottery_summary", "lottery_figure"]


@dataclass(frozen=True)
class LotteryRecipe:
    """How each network is trained and pruned (the fields every lottery config shares)."""

    iterations: int
    batch_size: int
    lr: float
    rate: float  # fraction of each fully connected layer's survivors pruned per round (the output layer: half)
    rounds: int
    trials: int
    eval_every: int
    reset: str = "init"
    rewind_iter: int = 0
    conv_rate: float | None = None  # the rate of conv layers (Frankle & Carbin prune them more gently)


def lottery_trials(make_model: Callable[[], nn.Module], data: dict, run: Run,
                   recipe: LotteryRecipe) -> list[list[LotteryRound]]:
    """``recipe.trials`` independent initialisations, each pruned for ``recipe.rounds`` rounds. ``data`` maps
    "train", "val", "test" to ``(x, y)`` on the model's device. Each trial's theta_0, batch order and
    control initialisations come from ``run.seed_for``, so ticket and control see the same batches."""
    per_trial = []
    for trial in range(recipe.trials):
        def make(trial=trial):
            run.manual_seed(f"init{trial}")  # every call rebuilds the same theta_0
            return make_model()

        rates = layer_rates(make(), recipe.rate)
        if recipe.conv_rate is not None:
            rates.update({k: recipe.conv_rate for k, w in prunable_weights(make()).items() if w.dim() == 4})
        train = partial(train_masked, data=data, iterations=recipe.iterations, batch_size=recipe.batch_size,
                        lr=recipe.lr, eval_every=recipe.eval_every, seed=run.seed_for(f"order{trial}") % 2**31)

        def log(r: LotteryRound, trial=trial) -> None:
            rec = {f"trial{trial}/remaining": r.remaining, f"trial{trial}/ticket_acc": r.ticket.test_acc,
                   f"trial{trial}/ticket_stop": r.ticket.early_stop_iter}
            if r.control is not None:
                rec.update({f"trial{trial}/control_acc": r.control.test_acc,
                            f"trial{trial}/control_stop": r.control.early_stop_iter})
            run.log(r.round, **rec)

        per_trial.append(iterative_magnitude_pruning(make, train, rounds=recipe.rounds, rate=rates,
                                                     reset=recipe.reset, rewind_iter=recipe.rewind_iter,
                                                     seed=run.seed_for(f"control{trial}") % 2**31, callback=log))
    return per_trial


def _stat(per_trial, r: int, who: str, field: str) -> tuple[float, float]:
    vals = [getattr(getattr(t[r], who), field) for t in per_trial if getattr(t[r], who) is not None]
    return float(np.mean(vals)), float(np.std(vals))


def lottery_summary(per_trial: list[list[LotteryRound]]) -> tuple[list[dict], dict[str, float]]:
    """Table rows (one per round, mean ± std over trials) and metrics: ``dense_acc``, per-round ticket and
    control accuracy and early-stop iteration (``ticket_acc_17.4`` ...), their mean differences over the
    pruned rounds (``mean_ticket_minus_control``, ``mean_control_over_ticket_stop_iter``), and the round
    nearest 20 % of the weights (``ticket_minus_dense_near_20``)."""
    rem = [r.remaining for r in per_trial[0]]
    dense_acc = _stat(per_trial, 0, "ticket", "test_acc")[0]
    m = {"dense_acc": dense_acc, "dense_stop_iter": _stat(per_trial, 0, "ticket", "early_stop_iter")[0]}
    rows, gaps, stop_ratios = [], [], []
    for r in range(len(rem)):
        (ta, ts), (ti, _) = _stat(per_trial, r, "ticket", "test_acc"), _stat(per_trial, r, "ticket", "early_stop_iter")
        row = {"weights remaining": f"{100 * rem[r]:.1f}%", "ticket test acc": f"{ta:.4f} ± {ts:.4f}",
               "control test acc": "-", "ticket early-stop iter": round(ti), "control early-stop iter": "-"}
        if r:
            (ca, cs) = _stat(per_trial, r, "control", "test_acc")
            ci = _stat(per_trial, r, "control", "early_stop_iter")[0]
            pct = f"{100 * rem[r]:.1f}"
            m.update({f"ticket_acc_{pct}": ta, f"control_acc_{pct}": ca, f"ticket_stop_{pct}": ti,
                      f"control_stop_{pct}": ci})
            gaps.append(ta - ca)
            stop_ratios.append(ci / ti)
            row.update({"control test acc": f"{ca:.4f} ± {cs:.4f}", "control early-stop iter": round(ci)})
        rows.append(row)
    near20 = min(range(1, len(rem)), key=lambda r: abs(rem[r] - 0.2))
    m.update({"remaining_near_20": rem[near20],
              "ticket_minus_dense_near_20": _stat(per_trial, near20, "ticket", "test_acc")[0] - dense_acc,
              "ticket_minus_control_near_20": gaps[near20 - 1], "mean_ticket_minus_control": float(np.mean(gaps)),
              "mean_control_over_ticket_stop_iter": float(np.mean(stop_ratios)), "sparsest_remaining": rem[-1],
              "ticket_minus_control_sparsest": gaps[-1]})
    matching = [rem[r] for r in range(1, len(rem)) if _stat(per_trial, r, "ticket", "test_acc")[0] >= dense_acc - 0.003]
    m["smallest_matching_remaining"] = min(matching) if matching else 1.0
    return rows, m


def lottery_figure(per_trial: list[list[LotteryRound]], title: str):
    """Early-stop iteration and test accuracy vs percent of weights remaining, tickets vs random reinit."""
    from deepcourse.viz import new_figure, style

    rem = [r.remaining for r in per_trial[0]]
    x = [100 * r for r in rem]
    with style():
        fig = new_figure((10, 3.8))
        axes = fig.subplots(1, 2)
        for ax, field, label in ((axes[0], "early_stop_iter", "early-stop iteration"),
                                 (axes[1], "test_acc", "test accuracy")):
            for who, fmt, name in (("ticket", "-o", "winning ticket"), ("control", "--s", "random reinit")):
                rs = range(len(rem)) if who == "ticket" else range(1, len(rem))
                ys = [np.array([getattr(getattr(t[r], who), field) for t in per_trial]) for r in rs]
                ax.errorbar([x[r] for r in rs], [y.mean() for y in ys], yerr=[y.std() for y in ys], fmt=fmt,
                            capsize=2, label=name)
            ax.set_xscale("log")
            ax.set_xticks(x, [f"{v:.3g}" for v in x], fontsize=7)
            ax.minorticks_off()
            ax.invert_xaxis()
            ax.set_xlabel("percent of weights remaining")
            ax.set_ylabel(label)
        axes[1].legend(frameon=False)
        fig.suptitle(title)
    return fig
