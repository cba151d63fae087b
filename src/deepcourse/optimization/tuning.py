"""What the ``hpo`` experiment tunes, and why random search beats a grid.

* :func:`mlp_objective_factory`: the objective of one trial, an MLP (``foundations.MLP``) trained with
  AdamW on a fixed subset of an image dataset; its learning rate, width, depth, dropout and weight decay
  form the search space, declared from the bounds of :class:`MLPTrialConfig` with
  :func:`deepcourse.core.hpo.space_from_config`. Worker processes import it by name.
* :func:`grid_vs_random` (Bergstra & Bengio 2012, "Random Search for Hyper-Parameter Optimization",
  Figure 1): with a budget of N trials and one parameter that matters, a grid tries only N^(1/d) distinct
  values of it while random search tries N. Measured on a toy function of one important and one nearly
  irrelevant parameter.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from deepcourse.core import LambdaCallback, NonFiniteError, TensorLoader, fit, param, predict
from deepcourse.core.hpo import FloatRange, require_optuna, space_from_config, suggest, suggest_config
from deepcourse.core.utils import num_threads
from deepcourse.data import load_splits
from deepcourse.foundations import MLP
from deepcourse.metrics import accuracy

__all__ = ["MLPTrialConfig", "HPO_FIELDS", "mlp_objective_factory", "toy_bump", "grid_vs_random",
           "best_so_far_figure", "grid_vs_random_figure"]


@dataclass
class MLPTrialConfig:
    """What one HPO trial trains; the search space is declared from these fields' bounds."""
    lr: float = param(1e-3, ge=1e-4, le=1e-1, help="AdamW learning rate")
    width: int = param(128, ge=16, le=256, help="hidden units per layer")
    depth: int = param(2, ge=1, le=3, help="hidden layers")
    dropout: float = param(0.1, ge=0.0, le=0.5)
    weight_decay: float = param(1e-5, ge=1e-6, le=1e-2)
    epochs: int = param(5, ge=1)
    batch_size: int = param(64, ge=1)


HPO_FIELDS = {"lr": "log", "width": "log", "depth": None, "dropout": None, "weight_decay": "log"}


def mlp_objective_factory(dataset: str = "fashion-mnist", epochs: int = 5, batch_size: int = 64, seed: int = 0,
                          data_root: str | None = None, subset: int | None = None, test_subset: int | None = None,
                          threads: int | None = None):
    """``(objective(trial) -> best validation accuracy, space)`` on a fixed ``subset`` of ``dataset``, a fifth
    of it held out for validation. Each epoch's validation accuracy is
    reported to the pruner; the test accuracy at the best epoch is stored as the trial's ``test_acc`` user
    attribute (never used for selection). A diverging trial (NaN loss) scores 0. Every argument is plain
    JSON, so :func:`deepcourse.core.hpo.run_workers` can pass them to worker processes."""
    optuna = require_optuna()
    splits = load_splits(dataset, None, val=0.2, subset=subset, test_subset=test_subset, root=data_root)
    in_features = math.prod(splits.input_shape)
    base = MLPTrialConfig(epochs=epochs, batch_size=batch_size)
    space = space_from_config(MLPTrialConfig, HPO_FIELDS)

    def objective(trial) -> float:
        cfg = suggest_config(trial, base, space)
        best = {"val": -1.0, "test": 0.0}

        def report(state, record) -> None:
            val = accuracy(predict(model, splits.x_val), splits.y_val)
            if val > best["val"]:
                best.update(val=val, test=accuracy(predict(model, splits.x_test), splits.y_test))
            trial.report(val, state.epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        with num_threads(threads), torch.random.fork_rng():
            torch.manual_seed(seed + trial.number)  # each trial its own initialisation, the same on a re-run
            model = MLP(in_features, (cfg.width,) * cfg.depth, splits.num_classes, dropout=cfg.dropout)
            opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
            loader = TensorLoader(*splits.train, batch_size=cfg.batch_size, seed=seed + trial.number)
            try:
                fit(lambda b: {"loss": F.cross_entropy(model(b[0]), b[1])}, loader, epochs=cfg.epochs, model=model,
                    optimizer=opt, callbacks=[LambdaCallback(on_epoch_end=report)], log_every=10**9)
            except NonFiniteError:
                best["val"] = max(best["val"], 0.0)
        trial.set_user_attr("test_acc", best["test"])
        trial.set_user_attr("pid", os.getpid())
        return best["val"]

    return objective, space


# ------------------------------------------------------------------------- grid vs random toy
def toy_bump(x: float, y: float) -> float:
    """f(x, y) = g(x) + h(y) with g important (a narrow bump at x = 0.63) and h nearly flat (a small
    ripple): the situation of Bergstra & Bengio (2012), Figure 1."""
    return math.exp(-((x - 0.63) ** 2) / (2 * 0.05 ** 2)) + 0.05 * math.sin(3 * y)


def grid_vs_random(n_trials: int = 9, seeds: Sequence[int] = range(20)) -> dict[str, float]:
    """Best value of :func:`toy_bump` found by a sqrt(n) x sqrt(n) grid (shifted by a different offset per
    seed, so "grid" is not one lucky or unlucky layout) vs n random points, and how many distinct values
    of the important parameter each tried (the grid: sqrt(n); random: n); means over ``seeds``."""
    optuna = require_optuna()
    side = int(round(math.sqrt(n_trials)))
    if side * side != n_trials:
        raise ValueError(f"n_trials must be a square (got {n_trials})")
    space = {"x": FloatRange(0.0, 1.0), "y": FloatRange(0.0, 1.0)}

    def objective(trial):
        v = suggest(trial, space)
        return toy_bump(v["x"], v["y"])

    best: dict[str, list[float]] = {"grid": [], "random": []}
    distinct: dict[str, list[int]] = {"grid": [], "random": []}
    for s in seeds:
        off = (s * 0.618034) % (1.0 / side)
        points = [off + i / side for i in range(side)]
        for name, sampler in (("grid", optuna.samplers.GridSampler({"x": points, "y": points}, seed=s)),
                              ("random", optuna.samplers.RandomSampler(seed=s))):
            study = optuna.create_study(direction="maximize", sampler=sampler)
            study.optimize(objective, n_trials=n_trials)
            best[name].append(study.best_value)
            distinct[name].append(len({round(t.params["x"], 9) for t in study.trials}))
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    return {"grid_best_mean": mean(best["grid"]), "random_best_mean": mean(best["random"]),
            "grid_distinct_x": mean(distinct["grid"]), "random_distinct_x": mean(distinct["random"]),
            "random_beats_grid_frac": mean([float(r > g) for r, g in zip(best["random"], best["grid"])])}


# ------------------------------------------------------------------------------------- figures
def best_so_far_figure(curves: dict[str, list[list[float]]], trials: int):
    """Mean best-so-far validation accuracy vs trial number, one line per sampler."""
    import numpy as np

    from deepcourse.viz import new_figure, style

    with style():
        fig = new_figure((6, 4))
        ax = fig.add_subplot()
        for name, cs in curves.items():
            arr = np.array([np.pad(c, (0, trials - len(c)), mode="edge") for c in cs], dtype=float)
            ax.plot(range(1, trials + 1), np.nanmean(arr, 0), label=name)
        ax.set_xlabel("trial")
        ax.set_ylabel("best validation accuracy so far")
        ax.legend(frameon=False)
    return fig


def grid_vs_random_figure():
    """Nine grid points vs nine random points over :func:`toy_bump`: three distinct x against nine."""
    import numpy as np

    from deepcourse.viz import new_figure, style

    xs = np.linspace(0, 1, 200)
    X, Y = np.meshgrid(xs, xs)
    Z = np.exp(-((X - 0.63) ** 2) / (2 * 0.05 ** 2)) + 0.05 * np.sin(3 * Y)  # toy_bump on the mesh
    grid = [(i / 3 + 1 / 6, j / 3 + 1 / 6) for i in range(3) for j in range(3)]
    rnd = np.random.default_rng(0).random((9, 2))
    with style():
        fig = new_figure((9, 4))
        for ax, pts, title in zip(fig.subplots(1, 2), (grid, rnd), ("grid: 3 distinct x", "random: 9 distinct x")):
            ax.contourf(X, Y, Z, levels=20, cmap="viridis")
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], c="w", edgecolors="k")
            ax.set_xlabel("important parameter x")
            ax.set_ylabel("unimportant parameter y")
            ax.set_title(title)
    return fig
