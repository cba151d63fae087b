"""Momentum and adaptive steps train faster than plain gradient descent (notes 0.1, "Gradient descent: remarks")."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deepcourse.core import Reference, Run, at_least, experiment, param
from deepcourse.data import load_splits

from .. import losses as L
from ..gradient_descent import OPTIMIZERS, make_optimizer, train_full_batch
from ..models import MLP
from ..preprocessing import standardize


@dataclass
class OptimizersConfig:
    steps: int = param(200, ge=1, help="full-batch steps (Rprop needs the full batch)")
    hidden: int = param(64, ge=1)
    lr_sgd: float = param(0.1, gt=0, help="lr of SGD, momentum and Nesterov")
    lr_rprop: float = param(0.01, gt=0, help="Rprop's initial step size")
    lr_rmsprop: float = param(0.001, gt=0)
    lr_adam: float = param(0.003, gt=0)


@experiment(
    name="optimizers", module="0.1", title="SGD, momentum, Nesterov, Rprop, RMSProp and Adam on one network",
    paper=Reference("notes 0.1 'Gradient descent: remarks'; Riedmiller & Braun 1993; Kingma & Ba 2015", {}),
    quick=OptimizersConfig(), full=OptimizersConfig(steps=2000),
    # seeds 0-4, threads 1 and 2 (measured): momentum_speedup 11.4-12.7, adam_speedup 6.2-6.8.
    # Broken once: momentum 0 and Adam replaced by plain SGD give speed-ups of 1.0 and fail
    floor={"momentum_speedup": at_least(5.0), "adam_speedup": at_least(3.0)}, primary="final_adam", threads=1,
)
def optimizers(cfg: OptimizersConfig, run: Run) -> dict[str, float]:
    """Same MLP (64-64-10, tanh), same initial weights and same full batch of digits for every
    optimiser; final training cross-entropy compared (speed-up = final SGD loss / final loss)."""
    from deepcourse.viz import loss_curves

    digits = load_splits("digits", run, val=0)
    (x,) = standardize(digits.x_train)  # (N, 64) training digits, each pixel standardised
    lrs = {"sgd": cfg.lr_sgd, "momentum": cfg.lr_sgd, "nesterov": cfg.lr_sgd, "rprop": cfg.lr_rprop,
           "rmsprop": cfg.lr_rmsprop, "adam": cfg.lr_adam}
    curves = {}
    for name in OPTIMIZERS:
        torch.manual_seed(run.seed_for("init"))  # same initial weights for every optimiser
        model = MLP(x.shape[1], (cfg.hidden,), digits.num_classes, activation="tanh")
        curves[name] = train_full_batch(model, L.cross_entropy_with_logits, x, digits.y_train,
                                        make_optimizer(name, model.parameters(), lrs[name]), cfg.steps)
    for i in range(0, cfg.steps, max(1, cfg.steps // 50)):
        run.log(i, **{f"loss_{k}": v[i] for k, v in curves.items()})
    run.save_figure("loss_curves", loss_curves({f"{k} (lr {lrs[k]:g})": v for k, v in curves.items()}, logy=True,
                                               xlabel="full-batch step", ylabel="training cross-entropy"))
    final = {k: v[-1] for k, v in curves.items()}
    run.table([{"optimizer": k, "lr": lrs[k], "final loss": v} for k, v in sorted(final.items(), key=lambda kv: kv[1])],
              f"Final training cross-entropy after {cfg.steps} full-batch steps")
    return {**{f"final_{k}": v for k, v in final.items()},
            "momentum_speedup": final["sgd"] / final["momentum"], "adam_speedup": final["sgd"] / final["adam"]}
