"""Too small, too large and scheduled learning rates (notes 0.1, "Setting the learning rate")."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from deepcourse.core import Reference, Run, at_least, experiment, param, predict
from deepcourse.data import load_splits

from .. import losses as L
from ..gradient_descent import train_minibatch
from ..models import MLP
from ..preprocessing import standardize


@dataclass
class LearningRateConfig:
    epochs: int = param(10, ge=1)
    batch_size: int = param(64, ge=1)
    lr_small: float = param(0.001, gt=0)
    lr_good: float = param(0.1, gt=0, help="a safe constant rate, for reference")
    lr_large: float = param(3.0, gt=0, help="a constant rate that makes SGD diverge")
    lr_peak: float = param(2.0, gt=0, help="a large rate: run constant, and as the peak of the cosine schedule")
    # With clean labels the MLP fits all training digits, the mini-batch gradients vanish at the
    # minimum and a constant large rate settles as well as a decayed one (constant 2.0 ended at
    # 0.001-0.006, cosine at 0.004-0.005, seeds 0-4, measured). Labels that cannot all be fitted keep
    # the gradient noise alive near the minimum: the notes' "hard to hit the minimum precisely".
    label_noise: float = param(0.2, ge=0, lt=1, help="share of training labels replaced by random classes")


@experiment(
    name="learning-rate", module="0.1", title="Too small, too large and scheduled learning rates",
    paper=Reference("notes 0.1 'Setting the learning rate'", {}),
    quick=LearningRateConfig(), full=LearningRateConfig(epochs=50),
    # seeds 0-4, threads 1 and 2 (measured): too_large_diverged 1, small_over_scheduled 4.4-5.1,
    # constant_over_scheduled 1.77-1.91, peak_over_scheduled 1.52-2.33. Broken once: without the
    # cosine decay peak_over_scheduled is 1.0 (and constant_over_scheduled 0.78-1.24): fails; with
    # lr_large = 0.5 nothing diverges: fails
    floor={"too_large_diverged": at_least(1.0), "small_over_scheduled": at_least(3.0),
           "constant_over_scheduled": at_least(1.4), "peak_over_scheduled": at_least(1.2)},
    primary="loss_scheduled", threads=1,
)
def learning_rate(cfg: LearningRateConfig, run: Run) -> dict[str, float]:
    """Mini-batch SGD on digits with partly random labels (MLP 64-64-10, ReLU): a too-small rate
    barely moves, a too-large one diverges, and a large rate decayed by a cosine schedule (Loshchilov
    & Hutter 2017) explores early and settles late, ending lower than a safe constant rate and than
    the same large rate held constant. Final loss = training cross-entropy on the labels trained on;
    a run whose loss exceeds ten times that of a uniform guess has diverged and is reported at the
    loss of a uniform guess, log 10."""
    from deepcourse.viz import loss_curves

    digits = load_splits("digits", run, val=0)
    (x,), y = standardize(digits.x_train), digits.y_train.clone()  # (N, 64) training digits, pixels standardised
    g = run.generator("labels")
    noisy = torch.rand(len(y), generator=g) < cfg.label_noise
    y[noisy] = torch.randint(0, digits.num_classes, (int(noisy.sum()),), generator=g)
    settings = {"too small": (cfg.lr_small, False), "constant": (cfg.lr_good, False),
                "peak constant": (cfg.lr_peak, False), "too large": (cfg.lr_large, False),
                "scheduled": (cfg.lr_peak, True)}
    uniform = math.log(digits.num_classes)  # the loss of a uniform guess
    blowup = 10 * uniform  # a loss above ten uniform guesses counts as divergence
    curves, final, diverged = {}, {}, {}
    for name, (lr, scheduled) in settings.items():
        torch.manual_seed(run.seed_for("init"))  # same initial weights and batches for every rate
        model = MLP(x.shape[1], (64,), digits.num_classes, activation="relu")
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        total = cfg.epochs * math.ceil(len(x) / cfg.batch_size)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total) if scheduled else None
        curve, diverged[name] = train_minibatch(model, L.cross_entropy_with_logits, x, y, opt, cfg.epochs,
                                                cfg.batch_size, run.seed_for("batches") % 2**31, sched,
                                                diverge_above=blowup)
        full = L.cross_entropy_with_logits(predict(model, x), y).item()
        diverged[name] = diverged[name] or not full <= blowup
        final[name] = uniform if diverged[name] else full  # a uniform guess, instead of inf or NaN
        curves[f"{name} (lr {lr:g}{', cosine' if scheduled else ''})"] = curve
    run.log(cfg.epochs, **{f"loss_{k.replace(' ', '_')}": v for k, v in final.items()})
    run.save_figure("loss_curves", loss_curves(curves, logy=True, ylabel="mini-batch cross-entropy"))
    run.table([{"setting": k, "lr": settings[k][0], "cosine": settings[k][1], "final loss": v,
                "diverged": diverged[k]} for k, v in final.items()], "Final training cross-entropy per learning rate")
    return {**{f"loss_{k.replace(' ', '_')}": v for k, v in final.items()},
            "too_large_diverged": float(diverged["too large"]),
            **{f"{short}_over_scheduled": final[k] / final["scheduled"] for short, k in
               (("small", "too small"), ("constant", "constant"), ("peak", "peak constant"), ("large", "too large"))}}
