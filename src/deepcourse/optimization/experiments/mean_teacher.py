"""Mean Teacher (Tarvainen & Valpola 2017) and the Pi-model (Laine & Aila 2017) against supervised-only
training when only a few training labels are known."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from deepcourse.core import Reference, Run, at_least, experiment, param, predict
from deepcourse.data import load_splits
from deepcourse.data.transforms import random_crop
from deepcourse.metrics import accuracy
from deepcourse.viz import line_plot

from ..mean_teacher import METHODS, semi_supervised_split, train_semi_supervised
from ..networks import build_classifier

NAMES = {"supervised": "Supervised-only", "pi": "Pi-model", "mean-teacher": "Mean Teacher",
         "mean-teacher-student": "Mean Teacher (student weights)"}


@dataclass
class MeanTeacherConfig:
    dataset: str = param("fashion-mnist", choices=("mnist", "fashion-mnist", "cifar10-jpeg"))
    subset: int | None = param(None, ge=100, help="training images, labelled or not (fixed subset; None: all)")
    test_subset: int | None = param(None, ge=100, help="test images (None: the whole test split)")
    labels: tuple[int, ...] = param((250,), ge=10, help="numbers of labelled examples (balanced)")
    seeds: int = param(3, ge=1, help="label draws x initialisations per setting (error +- std)")
    methods: tuple[str, ...] = param(("supervised", "mean-teacher"), choices=METHODS,
                                     help="methods to train; the gains need 'supervised' and the method")
    model: str = param("mt-convnet", choices=("mlp", "cnn", "mt-convnet"))
    width: int = param(16, ge=1)
    dropout: float = param(0.3, ge=0, lt=1, help="dropout: part of the noise eta")
    input_noise: float = param(0.15, ge=0, help="std of Gaussian input noise (pixels in [0, 1])")
    augment: bool = param(True, help="random translations by up to 2 pixels as extra noise")
    steps: int = param(3000, ge=1)
    labeled_batch: int = param(16, ge=1, help="labelled examples per batch")
    unlabeled_batch: int = param(112, ge=0, help="unlabelled examples per batch")
    lr: float = param(3e-3, gt=0, help="Adam")
    lr_cosine: bool = param(True, help="anneal the learning rate to 0 along a half cosine")
    consistency: float = param(10.0, ge=0, help="max consistency weight (MSE summed over classes)")
    rampup: float = param(0.25, ge=0, le=1, help="sigmoid ramp-up length as a fraction of the steps")
    ema_decay: float = param(0.999, gt=0, lt=1, help="EMA decay after the ramp-up (the paper's 0.999)")
    ema_decay_rampup: float | None = param(0.99, gt=0, lt=1, help="EMA decay during the ramp-up (the paper's "
                                           "0.99; None: ema_decay throughout)")
    ema_eval: bool = param(True, help="evaluate every method with its EMA weights (the paper's protocol)")


@experiment(
    name="mean-teacher", module="9", showcase=("error_by_labels",),
    title="Mean Teacher vs Pi-model vs supervised-only with few labels",
    paper=Reference("Tarvainen & Valpola 2017, Table 1 (SVHN, 250 labels, error %); ours run on (Fashion-)MNIST, so the "
                    "paper's SVHN errors are context, not a comparison", {},
                    context={"SVHN 250 labels, supervised error %": 27.77, "SVHN 250 labels, Pi-model error %": 9.69,
                             "SVHN 250 labels, Mean Teacher error %": 4.35}),
    quick=MeanTeacherConfig(dataset="mnist", subset=5000, test_subset=2000, labels=(100,), seeds=1, model="mlp", width=128,
                            dropout=0.2, input_noise=0.3, augment=False, steps=400, labeled_batch=16,
                            unlabeled_batch=112, ema_decay=0.95, ema_decay_rampup=None, methods=METHODS, rampup=0.3,
                            lr_cosine=False),
    full=MeanTeacherConfig(),
    # Measured (quick, seeds 0-4, --threads 1 and 2): mt_gain_fewest 3.15-5.3, pi_gain_fewest 3.95-5.85 points.
    # consistency=0 (seeds 0-2): mt -1.35 to -2.15, pi -1.3 to -2.1 points: both floors fail.
    floor={"mt_gain_fewest": at_least(2.0), "pi_gain_fewest": at_least(2.0)}, primary="err_mt_fewest", threads=1,
)
def mean_teacher(cfg: MeanTeacherConfig, run: Run) -> dict[str, float]:
    """Few labels plus the unlabelled rest: the consistency cost (Pi-model, Mean Teacher) should cut the
    error of supervised-only training; ``mt_gain_n`` is supervised error minus Mean Teacher error in points.

    Every method gets the same network, initialisation, noise and schedule, and is evaluated with the
    exponential moving average of its weights (the paper's protocol; ``ema_eval``); Mean Teacher's student
    weights are reported as well.

    Full preset, the paper's recipe (Tarvainen & Valpola 2017, Appendix B.1 and the authors' code) with
    CPU cuts. Kept: the ConvNet shape with BatchNorm, LeakyReLU(0.1) and dropout after each pooling stage
    (``mt-convnet``); input noise eta = random translation by up to 2 pixels and Gaussian noise of
    std 0.15, drawn independently for student and teacher, plus independent dropout masks; consistency =
    squared distance between the softmax outputs of student and teacher, weight 10 summed over classes
    (the paper's 100 on the per-class mean), ramped up with ``exp(-5 (1 - t)^2)`` over the first quarter
    of the steps; EMA decay 0.99 during the ramp-up, 0.999 after; Adam at 0.003. Cut or changed for 2
    shared CPU cores (about 15-20 min per seed at --threads 1): Fashion-MNIST instead of SVHN; 250 labels
    only (the 1000 and 4000 columns and the Pi-model are left out of the full preset: add them with
    ``labels=250,1000,4000 methods=supervised,pi,mean-teacher``); channel widths 16/32/64 instead of
    128/256/512 and two 3x3 convs per stage instead of three; 3,000 steps of 16 labelled + 112 unlabelled
    images instead of 180,000 steps of 100 images (1 labelled); dropout 0.3 instead of 0.5 for the
    narrower network; the learning rate annealed to 0 along a cosine (the PyTorch code's ramp-down) instead
    of the sigmoid ramp-up and ramp-down; Gaussian noise on pixels in [0, 1], not on per-image normalised
    inputs; Adam's betas fixed at (0.9, 0.999).

    At this budget Mean Teacher does not beat supervised-only on Fashion-MNIST: pilots (seed 0, 250 labels)
    gave 24.14 % supervised vs 25.07 % Mean Teacher (3,000 steps, 32 + 96 per batch, dropout 0.5) and
    24.12 % vs 24.56 % (2,500 steps, this preset's batch and dropout); results/mean-teacher.json holds the
    3-seed record."""
    splits = load_splits(cfg.dataset, run, subset=cfg.subset, test_subset=cfg.test_subset, val=0.0)
    x, y = splits.x_train, splits.y_train

    def noise(xb: torch.Tensor) -> torch.Tensor:  # eta: translation and Gaussian input noise (dropout adds more)
        xb = random_crop(xb, 2) if cfg.augment else xb
        return xb + cfg.input_noise * torch.randn_like(xb) if cfg.input_noise else xb

    def err(model: torch.nn.Module) -> float:
        return 100.0 * (1.0 - accuracy(predict(model, splits.x_test), splits.y_test))

    errs: dict[tuple[str, int], list[float]] = {}
    for n in cfg.labels:
        for s in range(cfg.seeds):
            labelled, _ = semi_supervised_split(y, n, seed=run.seed_for(f"labels-{n}-{s}") % 2**31)
            for method in cfg.methods:
                run.manual_seed(f"init-{n}-{s}")  # the same initialisation for the three methods
                model = build_classifier(cfg.model, splits.input_shape, splits.num_classes, cfg.width, cfg.dropout)
                evaluated = train_semi_supervised(
                    method, model, x, y, labelled, run, steps=cfg.steps, lr=cfg.lr, labeled_batch=cfg.labeled_batch,
                    unlabeled_batch=cfg.unlabeled_batch, noise=noise, consistency=cfg.consistency, rampup=cfg.rampup,
                    ema_decay=cfg.ema_decay, ema_eval=cfg.ema_eval, ema_decay_rampup=cfg.ema_decay_rampup,
                    lr_cosine=cfg.lr_cosine, tag=f"{n}-{s}")
                errs.setdefault((method, n), []).append(err(evaluated))
                if method == "mean-teacher":
                    errs.setdefault(("mean-teacher-student", n), []).append(err(model))
    out = {}
    for (method, n), v in errs.items():
        out[f"err_{method}_{n}"], out[f"err_{method}_{n}_std"] = float(np.mean(v)), float(np.std(v))
    few = min(cfg.labels)  # the headline: the fewest labels
    for key, short in (("mean-teacher", "mt"), ("pi", "pi")):
        if "supervised" in cfg.methods and key in cfg.methods:
            for n in cfg.labels:
                out[f"{short}_gain_{n}"] = out[f"err_supervised_{n}"] - out[f"err_{key}_{n}"]
            out[f"{short}_gain_fewest"] = out[f"{short}_gain_{few}"]
    if "mean-teacher" in cfg.methods:
        out["err_mt_fewest"] = out[f"err_mean-teacher_{few}"]
    shown = {key: label for key, label in NAMES.items() if f"err_{key}_{few}" in out}
    run.table([{"method": label, **{f"{n} labels": f"{out[f'err_{key}_{n}']:.2f} ± {out[f'err_{key}_{n}_std']:.2f}"
                                    for n in cfg.labels}} for key, label in shown.items()],
              f"Mean Teacher on {cfg.dataset}: test error % (mean ± std over {cfg.seeds} seeds)")
    run.save_figure("error_by_labels", line_plot(list(cfg.labels), {label: [out[f"err_{key}_{n}"] for n in cfg.labels]
                                                                    for key, label in shown.items()},
                                                 "labelled examples", "test error (%)", logx=len(cfg.labels) > 1,
                                                 title=f"{cfg.dataset}, mean of {cfg.seeds} seeds"))
    return out
