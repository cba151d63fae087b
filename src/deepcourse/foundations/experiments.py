"""Module 0.1 experiments: the notes' claims about units, losses and gradient descent, measured.

Each function is registered with ``@experiment``; the registry imports this module itself.
Quick presets use embedded data (the XOR table, scikit-learn's digits and breast-cancer sets,
seeded synthetic functions) and finish in seconds on two CPU cores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


from deepcourse.core import Reference, Run, at_most, experiment, param
from deepcourse.core.utils import num_threads as _threads
from deepcourse.data import random_partition as _split

from . import gd_experiments  # noqa: F401  (registers mlp-regression, optimizers, learning-rate, ...)
from . import losses as L
from .models import MLP
from .studies import accuracy, fit_sigmoid_net, single_thread, train_full_batch, xor_data
from .units import NonlinearUnit
from .utils import Standardizer




# ---------------------------------------------------------------------------------- xor
@dataclass
class XorConfig:
    hidden: int = param(4, ge=2, help="hidden units of the two-layer MLP")
    lr: float = param(0.1, gt=0, help="Adam learning rate")
    steps: int = param(500, ge=1, help="full-batch steps per model")


@experiment(
    name="xor", module="0.1", title="XOR needs a hidden layer",
    paper=Reference("Minsky & Papert 1969; notes 0.1 'The need for composition of nonlinearities'",
                    {"acc_mlp": 1.0, "acc_single": 0.75}),
    quick=XorConfig(), full=XorConfig(steps=5000),
    floor={"acc_mlp": 1.0, "acc_single": at_most(0.75)}, primary="acc_mlp",
)
def xor(cfg: XorConfig, run: Run) -> dict[str, float]:
    """A single sigmoid unit cannot separate XOR (at most 3 of 4 points); one hidden layer can."""
    from deepcourse.viz import decision_boundary, loss_curves

    x, y = xor_data()
    yf = y.float()
    single = NonlinearUnit(2, 1, activation="identity")  # logit of a sigmoid unit: the loss adds the sigmoid
    mlp = MLP(2, (cfg.hidden,), 1, activation="tanh")
    curves = {}
    with single_thread():
        for name, model in (("single", single), ("mlp", mlp)):
            opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
            curves[name] = train_full_batch(model, lambda out, t: L.binary_cross_entropy_with_logits(out[:, 0], t),
                                            x, yf, opt, cfg.steps)
    with torch.no_grad():
        acc_single, acc_mlp = accuracy(single(x)[:, 0], y), accuracy(mlp(x)[:, 0], y)
    for i in range(0, cfg.steps, max(1, cfg.steps // 50)):
        run.log(i, loss_single=curves["single"][i], loss_mlp=curves["mlp"][i])
    for name, model, acc in (("single", single, acc_single), ("mlp", mlp, acc_mlp)):
        title = f"{'single sigmoid unit' if name == 'single' else f'MLP 2-{cfg.hidden}-1 (tanh)'}: acc {acc:.2f}"
        run.save_figure(f"decision_boundary_{name}", decision_boundary(lambda g, m=model: m(g)[:, 0], x, y, title=title))
    run.save_figure("loss_curves", loss_curves(curves, logy=True, ylabel="binary cross-entropy"))
    return {"acc_single": acc_single, "acc_mlp": acc_mlp, "loss_mlp": curves["mlp"][-1]}


# --------------------------------------------------------------------- universal approximation
@dataclass
class UniversalConfig:
    max_units: int = param(64, ge=2, help="largest N; N runs over 1, 2, 4, ..., max_units")
    points: int = param(100, ge=10, help="training points on [0, 1]")
    steps: int = param(300, ge=1, help="L-BFGS iterations per fit")
    restarts: int = param(2, ge=1, help="fits per N; the one with the lowest training error is kept")


def target_function(x: Tensor) -> Tensor:
    """A continuous function on [0, 1] with several bumps of different widths."""
    return torch.sin(6 * math.pi * x ** 1.5) * (1 - x) + 0.5 * x


@experiment(
    name="universal-approximation", module="0.1", title="One hidden sigmoid layer approximates a continuous function",
    paper=Reference("Cybenko 1989 (existence: error -> 0 as N grows)", {}),
    quick=UniversalConfig(), full=UniversalConfig(max_units=256, points=1000, steps=3000, restarts=5),
    floor={"max_err_at_max_units": at_most(0.01), "rank_corr": at_most(-0.9)}, primary="max_err_at_max_units",
)
def universal_approximation(cfg: UniversalConfig, run: Run) -> dict[str, float]:
    """Max error of F(x) = sum_i v_i sigmoid(w_i x + b_i) falls as the number of units N doubles."""
    from deepcourse.viz import line_plot
    import matplotlib.pyplot as plt

    x = torch.linspace(0, 1, cfg.points, dtype=torch.float64)
    y = target_function(x)
    x_dense = torch.linspace(0, 1, 20 * cfg.points + 1, dtype=torch.float64)  # evaluation grid: sup-norm proxy
    y_dense = target_function(x_dense)
    ns = [2 ** k for k in range(int(math.log2(cfg.max_units)) + 1)]
    errs, fits = [], {}
    for n in ns:
        best = None
        for r in range(cfg.restarts):
            with single_thread():
                net = fit_sigmoid_net(n, x, y, cfg.steps, seed=run.seed * 1000 + 7 * n + r)
            with torch.no_grad():
                train_err = (net(x) - y).abs().max().item()
            if best is None or train_err < best[0]:
                best = (train_err, net)
        with torch.no_grad():
            pred = best[1](x_dense)
        err = (pred - y_dense).abs().max().item()
        errs.append(err)
        fits[n] = pred
        run.log(n, max_err=err, train_max_err=best[0])
    run.save_figure("max_error_vs_units", line_plot(ns, {"max |F - f| on [0, 1]": errs}, "hidden units N",
                                                    "max error", logx=True, logy=True))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(x_dense, y_dense, "k", lw=2, label="f")
    for n in ns[::2]:
        ax.plot(x_dense, fits[n], lw=1, label=f"N = {n}")
    ax.set_xlabel("x")
    ax.legend(frameon=False, fontsize=8)
    run.save_figure("fits", fig)
    rank = _spearman(torch.tensor([float(n) for n in ns]), torch.tensor(errs))
    return {"max_err_at_max_units": errs[-1], "max_err_at_1": errs[0], "rank_corr": rank,
            **{f"max_err_{n}": e for n, e in zip(ns, errs)}}


def _spearman(a: Tensor, b: Tensor) -> float:
    """Spearman rank correlation (no ties expected): -1 means b falls whenever a grows."""
    ra, rb = a.argsort().argsort().double(), b.argsort().argsort().double()
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return (ra @ rb / (ra.norm() * rb.norm())).item()


# ----------------------------------------------------------------------------- mlp-mnist


@dataclass
class MnistConfig:
    dataset: str = param("digits", choices=("digits", "mnist"), help="digits: sklearn 8x8; mnist: 28x28")
    hidden: tuple[int, ...] = param((256, 256), ge=1, help="hidden widths")
    dropout: float = param(0.2, ge=0, lt=1)
    optimizer: str = param("adam", choices=("adam", "sgd"), help="adam, or sgd with Nesterov momentum 0.9")
    lr: float = param(1e-3, gt=0)
    weight_decay: float = param(0.0, ge=0)
    epochs: int = param(40, ge=1)
    batch_size: int = param(64, ge=1)
    val_frac: float = param(0.15, gt=0, lt=1, help="part of the training split held out for model selection")
    threads: int = param(0, ge=0, help="torch intra-op threads for training; 0 keeps torch's default")


@experiment(
    name="mlp-mnist", module="0.1", title="MLP classifier on handwritten digits",
    paper=Reference("notes 0.1 (fully connected feed-forward network); target >= 98.0% on MNIST",
                    {"test_acc": 0.98}),
    quick=MnistConfig(),
    full=MnistConfig(dataset="mnist", hidden=(1024, 1024), dropout=0.3, optimizer="sgd", lr=0.05,
                     weight_decay=0.0, epochs=20, batch_size=128, val_frac=5000 / 60000,
                     # one thread: on the shared 2-core development machine two threads fought
                     # other jobs and ran an epoch in ~210 s instead of ~16 s (measured)
                     threads=1),
    floor={"test_acc": 0.95}, primary="test_acc",
)
def mlp_mnist(cfg: MnistConfig, run: Run) -> dict[str, float]:
    """MLP with ReLU and dropout, cosine learning-rate schedule; the epoch with the best
    validation accuracy is kept (validation is held out of the training split) and only then
    evaluated on the test split."""
    from deepcourse.core import EarlyStopping, Evaluate, TensorLoader, fit
    from deepcourse.viz import loss_curves

    if cfg.dataset == "digits":
        from deepcourse.data import load_sklearn

        x, y = load_sklearn("digits")  # (1797, 64), pixels 0..16
        tr, te = _split(len(x), (0.8,), run.seed)
        x_tr, y_tr, x_te, y_te = x[tr], y[tr], x[te], y[te]
    else:
        from deepcourse.data import load_tensors

        x_tr, y_tr = load_tensors("mnist", "train", root=run.data_root)  # (60000, 28, 28) uint8
        x_te, y_te = load_tensors("mnist", "test", root=run.data_root)
        x_tr, x_te = x_tr.flatten(1).float() / 255, x_te.flatten(1).float() / 255  # (N, 784)
    val, trn = _split(len(x_tr), (cfg.val_frac,), run.seed + 1)
    x_val, y_val, x_tr, y_tr = x_tr[val], y_tr[val], x_tr[trn], y_tr[trn]
    # one mean/std over all pixels, fitted on the training part only (per-pixel statistics would
    # divide near-constant border pixels by ~0)
    scaler = Standardizer().fit(x_tr.reshape(-1, 1))
    x_tr, x_val, x_te = (scaler.transform(t.reshape(-1, 1)).reshape(t.shape) for t in (x_tr, x_val, x_te))

    device = run.device
    model = MLP(x_tr.shape[1], cfg.hidden, 10, activation="relu", dropout=cfg.dropout).to(device)
    if cfg.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    loader = TensorLoader(x_tr, y_tr, batch_size=cfg.batch_size, shuffle=True, seed=run.seed, device=device)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs * len(loader))

    def step(batch):
        xb, yb = batch
        loss = L.cross_entropy_with_logits(model(xb), yb)
        return {"loss": loss}

    def evaluate(xs: Tensor, ys: Tensor) -> dict[str, float]:
        model.eval()
        with torch.no_grad():
            out = torch.cat([model(xs[i:i + 4096].to(device)) for i in range(0, len(xs), 4096)])
            ys = ys.to(device)
        return {"loss": L.cross_entropy_with_logits(out, ys).item(), "acc": accuracy(out, ys)}

    # patience beyond the run: never stops early, only remembers (and restores) the best val epoch
    best = EarlyStopping(monitor="val_acc", mode="max", patience=cfg.epochs + 1, restore_best=True)
    # the digits model is tiny: one thread is faster (see studies.single_thread); MNIST's is not
    with single_thread() if cfg.dataset == "digits" else _threads(cfg.threads):
        state = fit(step, loader, epochs=cfg.epochs, model=model, optimizer=opt, scheduler=sched,
                    scheduler_interval="step", callbacks=[Evaluate(lambda: evaluate(x_val, y_val)), best],
                    run=run, desc=f"mlp-{cfg.dataset}")
    test = evaluate(x_te, y_te)  # weights of the best validation epoch (restored by EarlyStopping)
    hist = state.history
    run.save_figure("loss_curves", loss_curves(
        {"train": [(h["epoch"], h["train_loss"]) for h in hist], "val": [(h["epoch"], h["val_loss"]) for h in hist]},
        xlabel="epoch", ylabel="cross-entropy", logy=True))
    return {"test_acc": test["acc"], "test_loss": test["loss"], "val_acc": float(best.best),
            "best_epoch": float(best.best_epoch), "epochs": float(state.epoch)}
