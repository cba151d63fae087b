"""Module 0.1 experiments on training: losses under outliers, classification wiring, optimisers,
learning rates and vanishing gradients. Imported (and so registered) by :mod:`.experiments`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from deepcourse.core import Reference, Run, at_least, at_most, experiment, param

from . import losses as L
from .models import MLP
from .studies import OPTIMIZERS, accuracy, init_for, layer_grad_norms, make_optimizer, single_thread, train_full_batch
from .utils import Standardizer


def _digits(seed: int, test_frac: float = 0.0):
    """sklearn digits, standardised with statistics of the training part; optional test split."""
    from deepcourse.data import load_sklearn

    x, y = load_sklearn("digits")  # (1797, 64), (1797,)
    if test_frac == 0:
        return Standardizer().fit_transform(x), y
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    k = int(round(test_frac * len(x)))
    te, tr = perm[:k], perm[k:]
    s = Standardizer().fit(x[tr])
    return s.transform(x[tr]), y[tr], s.transform(x[te]), y[te]


# ------------------------------------------------------------------------- mlp-regression
@dataclass
class RegressionConfig:
    n: int = param(200, ge=10, help="training points")
    outlier_frac: float = param(0.2, ge=0, lt=0.5, help="share of training targets replaced by outliers")
    outlier_shift: float = param(5.0, gt=0, help="outliers are f(x) + U(shift, 2 shift): one-sided, so L2 is biased")
    noise: float = param(0.1, ge=0)
    delta: float = param(0.3, gt=0, help="Huber threshold on |residual| (= torch's delta)")
    # one small hidden layer: a network big enough to memorise every outlier reaches zero loss
    # under any criterion (two layers of 32 did, measured), and robustness is then invisible
    hidden: int = param(16, ge=1, help="units of the single hidden layer")
    steps: int = param(1000, ge=1)
    lr: float = param(0.01, gt=0)


def _true_f(x: Tensor) -> Tensor:
    return torch.sin(math.pi * x)


@experiment(
    name="mlp-regression", module="0.1", title="L1 and Huber resist outliers, L2 does not",
    paper=Reference("Huber 1964; notes 0.1 'Loss functions for regression tasks'", {}),
    quick=RegressionConfig(), full=RegressionConfig(n=2000, steps=5000),
    floor={"huber_over_l2": at_most(0.25), "l1_over_l2": at_most(0.25)}, primary="rmse_huber",
)
def mlp_regression(cfg: RegressionConfig, run: Run) -> dict[str, float]:
    """Train the same MLP with L2, L1 and Huber on targets with one-sided outliers; measure
    the RMSE against the clean function on a test grid."""
    import matplotlib.pyplot as plt

    from deepcourse.viz import loss_curves

    g = torch.Generator().manual_seed(run.seed)
    x = torch.rand(cfg.n, 1, generator=g) * 2 - 1  # (n, 1) in [-1, 1]: already centred and scaled
    y = _true_f(x) + cfg.noise * torch.randn(cfg.n, 1, generator=g)
    bad = torch.rand(cfg.n, generator=g) < cfg.outlier_frac
    y[bad] = _true_f(x[bad]) + cfg.outlier_shift * (1 + torch.rand(int(bad.sum()), 1, generator=g))
    x_test = torch.linspace(-1, 1, 501)[:, None]
    y_test = _true_f(x_test)
    losses = {"l2": L.mse_loss, "l1": L.mae_loss, "huber": lambda p, t: L.huber_loss(p, t, cfg.delta)}
    rmse, curves, preds = {}, {}, {}
    with single_thread():
        for name, loss_fn in losses.items():
            torch.manual_seed(run.seed)  # same initial weights for every loss
            model = MLP(1, (cfg.hidden,), 1, activation="tanh")
            opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
            curves[name] = train_full_batch(model, loss_fn, x, y, opt, cfg.steps)
            with torch.no_grad():
                preds[name] = model(x_test)
            rmse[name] = (preds[name] - y_test).square().mean().sqrt().item()
    run.log(cfg.steps, **{f"rmse_{k}": v for k, v in rmse.items()})
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(x[~bad, 0], y[~bad, 0], s=6, c="0.6", label="data")
    ax.scatter(x[bad, 0], y[bad, 0], s=6, c="tab:red", label="outliers")
    ax.plot(x_test[:, 0], y_test[:, 0], "k", lw=2, label="true f")
    for name, p in preds.items():
        ax.plot(x_test[:, 0], p[:, 0], lw=1.5, label=f"{name} (RMSE {rmse[name]:.3f})")
    ax.legend(frameon=False, fontsize=8)
    run.save_figure("fits", fig)
    run.save_figure("loss_curves", loss_curves(curves, logy=True, ylabel="training loss (own criterion)"))
    return {**{f"rmse_{k}": v for k, v in rmse.items()},
            "huber_over_l2": rmse["huber"] / rmse["l2"], "l1_over_l2": rmse["l1"] / rmse["l2"]}


# ------------------------------------------------------------------ classification-losses
@dataclass
class ClsLossConfig:
    hidden: int = param(64, ge=1)
    steps: int = param(300, ge=1, help="full-batch Adam steps per task")
    lr: float = param(0.01, gt=0)
    test_frac: float = param(0.3, gt=0, lt=1)


def _multilabel_targets(y: Tensor) -> Tensor:
    """Three non-exclusive labels of a digit: even, >= 5, prime."""
    return torch.stack([y % 2 == 0, y >= 5, (y == 2) | (y == 3) | (y == 5) | (y == 7)], 1).float()  # (N, 3)


@experiment(
    name="classification-losses", module="0.1", title="Output layer and loss wired to the classification task",
    paper=Reference("notes 0.1 'Cross-entropy vs. classification tasks: summary'", {}),
    quick=ClsLossConfig(), full=ClsLossConfig(steps=2000),
    floor={"binary_acc": 0.93, "multiclass_acc": 0.93, "multilabel_acc": 0.93}, primary="multiclass_acc",
)
def classification_losses(cfg: ClsLossConfig, run: Run) -> dict[str, float]:
    """Binary: one sigmoid output + BCE (breast cancer). Multi-class: softmax + categorical CE
    (digits). Multi-label: one sigmoid + BCE per label (digits: even, >= 5, prime). As a
    contrast, the multi-label task wired with softmax + CE: the outputs must then share one unit
    of probability and cannot say "yes" to two labels at once."""
    from deepcourse.data import load_sklearn
    from deepcourse.viz import loss_curves

    xb, yb = load_sklearn("breast_cancer")
    perm = torch.randperm(len(xb), generator=torch.Generator().manual_seed(run.seed))
    k = int(round(cfg.test_frac * len(xb)))
    s = Standardizer().fit(xb[perm[k:]])
    xb_tr, yb_tr, xb_te, yb_te = s.transform(xb[perm[k:]]), yb[perm[k:]], s.transform(xb[perm[:k]]), yb[perm[:k]]
    x_tr, y_tr, x_te, y_te = _digits(run.seed, cfg.test_frac)
    m_tr, m_te = _multilabel_targets(y_tr), _multilabel_targets(y_te)

    def bce(out, t):  # sigmoid + BCE, per output unit
        return L.binary_cross_entropy_with_logits(out, t)

    def softmax_ce_multilabel(out, t):  # the mis-wiring: labels renormalised into one distribution
        return L.cross_entropy_with_logits(out, t / t.sum(1, keepdim=True).clamp_min(1))

    tasks = {
        "binary": (xb_tr, yb_tr.float()[:, None], 1, bce),
        "multiclass": (x_tr, y_tr, 10, L.cross_entropy_with_logits),
        "multilabel": (x_tr, m_tr, 3, bce),
        "multilabel_softmax": (x_tr, m_tr, 3, softmax_ce_multilabel),
    }
    models, curves = {}, {}
    with single_thread():
        for name, (x, t, out, loss_fn) in tasks.items():
            torch.manual_seed(run.seed)
            models[name] = MLP(x.shape[1], (cfg.hidden,), out, activation="relu")
            opt = torch.optim.Adam(models[name].parameters(), lr=cfg.lr)
            curves[name] = train_full_batch(models[name], loss_fn, x, t, opt, cfg.steps)
    with torch.no_grad():
        p_bin = torch.sigmoid(models["binary"](xb_te)[:, 0])  # P(benign)
        p_cls = torch.softmax(models["multiclass"](x_te), 1)  # (N, 10), rows sum to 1
        p_ml = torch.sigmoid(models["multilabel"](x_te))  # (N, 3), independent probabilities
        p_ml_soft = torch.softmax(models["multilabel_softmax"](x_te), 1)
    metrics = {
        "binary_acc": ((p_bin > 0.5).long() == yb_te).float().mean().item(),
        "multiclass_acc": accuracy(p_cls, y_te),
        "multilabel_acc": ((p_ml > 0.5).float() == m_te).float().mean().item(),  # per-label accuracy
        "multilabel_exact": ((p_ml > 0.5).float() == m_te).all(1).float().mean().item(),
        "multilabel_softmax_acc": ((p_ml_soft > 0.5).float() == m_te).float().mean().item(),
        "multilabel_softmax_exact": ((p_ml_soft > 0.5).float() == m_te).all(1).float().mean().item(),
        "softmax_row_sum_err": (p_cls.sum(1) - 1).abs().max().item(),
    }
    run.log(cfg.steps, **metrics)
    run.save_figure("loss_curves", loss_curves(curves, logy=True, xlabel="full-batch step", ylabel="training loss"))
    return metrics


# ------------------------------------------------------------------------------ optimizers
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
    floor={"momentum_speedup": at_least(2.0), "adam_speedup": at_least(2.0)}, primary="final_adam",
)
def optimizers(cfg: OptimizersConfig, run: Run) -> dict[str, float]:
    """Same MLP (64-64-10, tanh), same initial weights and same full batch of digits for every
    optimiser; final training cross-entropy compared (speed-up = final SGD loss / final loss)."""
    from deepcourse.viz import loss_curves

    x, y = _digits(run.seed)
    lrs = {"sgd": cfg.lr_sgd, "momentum": cfg.lr_sgd, "nesterov": cfg.lr_sgd, "rprop": cfg.lr_rprop,
           "rmsprop": cfg.lr_rmsprop, "adam": cfg.lr_adam}
    curves = {}
    with single_thread():
        for name in OPTIMIZERS:
            torch.manual_seed(run.seed)
            model = MLP(64, (cfg.hidden,), 10, activation="tanh")
            curves[name] = train_full_batch(model, L.cross_entropy_with_logits, x, y,
                                            make_optimizer(name, model.parameters(), lrs[name]), cfg.steps)
    for i in range(0, cfg.steps, max(1, cfg.steps // 50)):
        run.log(i, **{f"loss_{k}": v[i] for k, v in curves.items()})
    run.save_figure("loss_curves", loss_curves({f"{k} (lr {lrs[k]:g})": v for k, v in curves.items()}, logy=True,
                                               xlabel="full-batch step", ylabel="training cross-entropy"))
    final = {k: v[-1] for k, v in curves.items()}
    rows = [f"| {k} | {lrs[k]:g} | {v:.4g} |" for k, v in sorted(final.items(), key=lambda kv: kv[1])]
    (run.out / "final_losses.md").write_text(
        f"Final training cross-entropy after {cfg.steps} full-batch steps\n\n| optimizer | lr | final loss |\n"
        "|---|---|---|\n" + "\n".join(rows) + "\n")
    return {**{f"final_{k}": v for k, v in final.items()},
            "momentum_speedup": final["sgd"] / final["momentum"], "adam_speedup": final["sgd"] / final["adam"]}


# --------------------------------------------------------------------------- learning-rate
@dataclass
class LearningRateConfig:
    epochs: int = param(10, ge=1)
    batch_size: int = param(64, ge=1)
    lr_small: float = param(0.001, gt=0)
    lr_good: float = param(0.1, gt=0, help="a safe constant rate, for reference")
    lr_large: float = param(3.0, gt=0, help="a constant rate that makes SGD diverge")
    # 2.0 as a constant is erratic (final loss 0.0005 to 3.8 over 6 seeds, measured); decayed
    # from 2.0 by the cosine it ended at 0.003-0.005 for all of them
    lr_scheduled: float = param(2.0, gt=0, help="peak of the cosine schedule")


@experiment(
    name="learning-rate", module="0.1", title="Too small, too large and scheduled learning rates",
    paper=Reference("notes 0.1 'Setting the learning rate'", {}),
    quick=LearningRateConfig(), full=LearningRateConfig(epochs=50),
    floor={"small_over_scheduled": at_least(10.0), "large_over_scheduled": at_least(10.0),
           "constant_over_scheduled": at_least(2.0)}, primary="loss_scheduled",
)
def learning_rate(cfg: LearningRateConfig, run: Run) -> dict[str, float]:
    """Mini-batch SGD on digits (MLP 64-64-10, ReLU): a too-small rate barely moves, a too-large
    constant one diverges, a large rate decayed by a cosine schedule (Loshchilov & Hutter 2017)
    explores early and settles late, ending lower than a safe constant rate. A diverged run is
    reported at the loss of a uniform guess, log 10."""
    from deepcourse.core import TensorLoader
    from deepcourse.viz import loss_curves

    x, y = _digits(run.seed)
    settings = {"too small": (cfg.lr_small, False), "constant": (cfg.lr_good, False),
                "too large": (cfg.lr_large, False), "scheduled": (cfg.lr_scheduled, True)}
    curves, final, diverged = {}, {}, {}
    with single_thread():
        for name, (lr, scheduled) in settings.items():
            torch.manual_seed(run.seed)
            model = MLP(64, (64,), 10, activation="relu")
            opt = torch.optim.SGD(model.parameters(), lr=lr)
            loader = TensorLoader(x, y, batch_size=cfg.batch_size, seed=run.seed)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.epochs * len(loader)) if scheduled else None
            curve: list[float] = []
            for epoch in range(cfg.epochs):
                loader.set_epoch(epoch)
                for xb, yb in loader:
                    loss = L.cross_entropy_with_logits(model(xb), yb)
                    if not torch.isfinite(loss):
                        break  # diverged: nothing more to learn from this run
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    if sched is not None:
                        sched.step()
                    curve.append(min(loss.item(), 100.0))  # clipped so a blow-up does not squash the plot
                else:
                    continue
                break
            with torch.no_grad():
                full = L.cross_entropy_with_logits(model(x), y).item()
            diverged[name] = not math.isfinite(full)
            final[name] = math.log(10) if diverged[name] else full  # a uniform guess, instead of NaN
            curves[f"{name} (lr {lr:g}{', cosine' if scheduled else ''})"] = curve
    run.log(cfg.epochs, **{f"loss_{k.replace(' ', '_')}": v for k, v in final.items()})
    run.save_figure("loss_curves", loss_curves(curves, logy=True, ylabel="mini-batch cross-entropy"))
    return {"loss_too_small": final["too small"], "loss_constant": final["constant"],
            "loss_too_large": final["too large"], "loss_scheduled": final["scheduled"],
            "too_large_diverged": float(diverged["too large"]),
            "small_over_scheduled": final["too small"] / final["scheduled"],
            "large_over_scheduled": final["too large"] / final["scheduled"],
            "constant_over_scheduled": final["constant"] / final["scheduled"]}


# ---------------------------------------------------------------------- vanishing-gradient
@dataclass
class VanishingConfig:
    layers: int = param(10, ge=2, help="linear layers")
    width: int = param(32, ge=1)
    batch: int = param(256, ge=1)
    inits: int = param(5, ge=1, help="random initialisations averaged")


@experiment(
    name="vanishing-gradient", module="0.1", title="Gradients vanish through sigmoid layers, not through ReLU",
    paper=Reference("notes 0.1 'Implications of the chain rule'; Glorot & Bengio 2010", {}),
    quick=VanishingConfig(), full=VanishingConfig(layers=20, inits=50),
    floor={"ratio_sigmoid": at_most(1e-3), "ratio_relu": at_least(0.1)}, primary="ratio_sigmoid",
)
def vanishing_gradient(cfg: VanishingConfig, run: Run) -> dict[str, float]:
    """Per-layer weight-gradient norms of a deep MLP at initialisation, sigmoid (Glorot init)
    vs ReLU (He init); ratio = first-layer norm / last-layer norm (geometric mean over inits)."""
    from deepcourse.viz import line_plot

    x, y = _digits(run.seed)
    x, y = x[:cfg.batch], y[:cfg.batch]
    norms: dict[str, Tensor] = {}
    with single_thread():
        for act in ("sigmoid", "relu"):
            logs = []
            for i in range(cfg.inits):
                torch.manual_seed(run.seed * 1000 + i)
                model = init_for(MLP(64, (cfg.width,) * (cfg.layers - 1), 10, activation=act), act)
                logs.append(torch.tensor(layer_grad_norms(model, L.cross_entropy_with_logits(model(x), y))).log())
            norms[act] = torch.stack(logs).mean(0).exp()  # (layers,): geometric mean over initialisations
    for j in range(cfg.layers):
        run.log(j + 1, grad_norm_sigmoid=norms["sigmoid"][j].item(), grad_norm_relu=norms["relu"][j].item())
    run.save_figure("grad_norms", line_plot(list(range(1, cfg.layers + 1)), {k: v.tolist() for k, v in norms.items()},
                                            "layer (1 = input side)", "||dL/dW||", logy=True))
    ratio = {k: (v[0] / v[-1]).item() for k, v in norms.items()}
    return {"ratio_sigmoid": ratio["sigmoid"], "ratio_relu": ratio["relu"],
            "first_layer_sigmoid": norms["sigmoid"][0].item(), "first_layer_relu": norms["relu"][0].item()}
