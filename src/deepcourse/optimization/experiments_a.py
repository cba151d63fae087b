"""Module 9 experiments, part A: mixup, truncated-SVD compression, SWA and SGDR, knowledge distillation
and Mean Teacher.

Each function is registered with ``@experiment``; :mod:`deepcourse.optimization.experiments` imports
this module. Quick presets use scikit-learn's embedded tables and 8x8 digits and finish in seconds on two
CPU cores; full presets follow the papers' recipes on Fashion-MNIST, the UCI tables and CIFAR-10 (JPEG
copy), the CIFAR-10 ones sized for a GPU.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core import Evaluate, Reference, Run, TensorLoader, at_least, at_most, experiment, fit, param
from deepcourse.core.utils import num_threads as _threads

from .distillation import distillation_loss, function_matching_loss, hint_loss, mutual_learning_losses
from .mean_teacher import ConsistencyTrainer, semi_supervised_split
from .mixup import mixup_batch, mixup_cross_entropy
from .svd import compress_linears, dense_params, measure_latency
from .swa import SWACallback, sgdr_lr

# ------------------------------------------------------------------------------------ shared helpers




def _mlp(d_in: int, hidden: tuple[int, ...], k: int, bn: bool = False, dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    for h in hidden:
        layers += [nn.Linear(d_in, h)] + ([nn.BatchNorm1d(h)] if bn else []) + [nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        d_in = h
    layers.append(nn.Linear(d_in, k))
    return nn.Sequential(*layers)


class SmallCNN(nn.Module):
    """Two VGG-style stages (conv-BN-ReLU x2, max-pool), global average pooling and a linear classifier:
    the student / semi-supervised network when a registered CNN would be too slow for a CPU."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 16, dropout: float = 0.0):
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(*block(in_channels, width), *block(width, width), nn.MaxPool2d(2),
                                      nn.Dropout(dropout), *block(width, 2 * width), *block(2 * width, 2 * width),
                                      nn.MaxPool2d(2), nn.Dropout(dropout))
        self.fc = nn.Linear(2 * width, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x).mean(dim=(2, 3)))  # (B, 2w) -> (B, K)


def _split(n: int, test_frac: float, seed: int) -> tuple[Tensor, Tensor]:
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    k = int(round(test_frac * n))
    return perm[k:], perm[:k]


def _standardize(train: Tensor, *others: Tensor) -> list[Tensor]:
    mu, sd = train.mean(0), train.std(0).clamp_min(1e-6)  # statistics of the training part only
    return [(t - mu) / sd for t in (train, *others)]


def _image_data(name: str, run: Run, seed: int = 0, train_subset: int = 0) -> tuple[Tensor, Tensor, Tensor, Tensor, int]:
    """``(x_train, y_train, x_test, y_test, channels)``, images ``(N, C, H, W)`` float, standardised per channel.

    ``digits``: scikit-learn's 1,797 8x8 digits with a seeded 75/25 split. ``fashion-mnist``, ``cifar10-jpeg``:
    the official train/test splits (raises ``DataMissingError`` when absent)."""
    if name == "digits":
        from deepcourse.data import load_sklearn

        x, y = load_sklearn("digits")
        x = (x / 16.0).reshape(-1, 1, 8, 8)  # (N, 1, 8, 8)
        tr, te = _split(len(y), 0.25, seed)
        xtr, ytr, xte, yte = x[tr], y[tr], x[te], y[te]
    else:
        from deepcourse.data import load_tensors

        xtr, ytr = load_tensors(name, "train", run.data_root)
        xte, yte = load_tensors(name, "test", run.data_root)
        xtr, xte = xtr.float() / 255.0, xte.float() / 255.0
        if xtr.dim() == 3:
            xtr, xte = xtr[:, None], xte[:, None]  # (N, 1, 28, 28)
    if train_subset and train_subset < len(ytr):
        keep = torch.randperm(len(ytr), generator=torch.Generator().manual_seed(seed))[:train_subset]
        xtr, ytr = xtr[keep], ytr[keep]
    mu = xtr.mean(dim=(0, 2, 3), keepdim=True)
    sd = xtr.std(dim=(0, 2, 3), keepdim=True)
    return (xtr - mu) / sd, ytr, (xte - mu) / sd, yte, xtr.shape[1]


def _augment_fn(dataset: str, enabled: bool = True) -> Callable[[Tensor], Tensor] | None:
    """Random crop (padding 1 px on 8x8 digits, 2 px on 28x28, 4 px on 32x32) and, except for digits, a
    horizontal flip (a mirrored digit is a different symbol)."""
    if not enabled:
        return None
    from deepcourse.cnn import cifar_augment

    pad = {"digits": 1, "fashion-mnist": 2}.get(dataset, 4)
    return lambda x: cifar_augment(x, padding=pad, flip=dataset != "digits")


@torch.no_grad()
def _accuracy(model: nn.Module, x: Tensor, y: Tensor, device: torch.device, bs: int = 1000) -> float:
    was = model.training
    model.eval()
    correct = 0
    for i in range(0, len(y), bs):
        correct += (model(x[i:i + bs].to(device)).argmax(1).cpu() == y[i:i + bs]).sum().item()
    model.train(was)
    return correct / len(y)


def _train(model: nn.Module, x: Tensor, y: Tensor, *, epochs: int, batch_size: int, lr: float, device: torch.device,
           optimizer: str = "sgd", weight_decay: float = 0.0, mixup_alpha: float = 0.0,
           rng: np.random.Generator | None = None, augment: Callable[[Tensor], Tensor] | None = None,
           lr_at: Callable[[int], float] | None = None, loss_fn: Callable | None = None, callbacks=(),
           seed: int = 0, nesterov: bool = False):
    """Train with :func:`deepcourse.core.fit`: cross-entropy (or mixup, or ``loss_fn(model, xb, yb)``), optional
    augmentation, and a per-step learning rate ``lr_at(step)`` (a multiplier of ``lr``)."""
    model.to(device).train()
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay, nesterov=nesterov)
    elif optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be sgd or adam, got {optimizer!r}")
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at) if lr_at is not None else None

    def step(batch):
        xb, yb = batch
        if augment is not None:
            xb = augment(xb)
        if loss_fn is not None:
            return {"loss": loss_fn(model, xb, yb)}
        if mixup_alpha > 0:
            xm, ya, yb2, lam = mixup_batch(xb, yb, mixup_alpha, rng)
            return {"loss": mixup_cross_entropy(model(xm), ya, yb2, lam)}
        return {"loss": F.cross_entropy(model(xb), yb)}

    loader = TensorLoader(x, y, batch_size=batch_size, shuffle=True, seed=seed, device=device)
    return fit(step, loader, epochs=epochs, model=model, optimizer=opt, scheduler=sched, scheduler_interval="step",
               callbacks=callbacks)


def _bar_chart(groups: dict[str, dict[str, float]], ylabel: str, title: str | None = None):
    """Grouped bars: ``groups[group][series] = value`` (e.g. dataset -> {ERM, mixup} -> error)."""
    import matplotlib.pyplot as plt

    names = list(groups)
    series = list(next(iter(groups.values())))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(names)), 3.2))
    w = 0.8 / len(series)
    for i, s in enumerate(series):
        ax.bar(np.arange(len(names)) + (i - (len(series) - 1) / 2) * w, [groups[g][s] for g in names], w, label=s)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def _names(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    out = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in out if s not in allowed]
    if not out or bad:
        raise ValueError(f"{what} must be a comma-separated list from {allowed}, got {text!r}")
    return out


# ------------------------------------------------------------------------------------------ mixup-uci
MIXUP_TABLES = ("abalone", "htru2", "iris", "wine", "breast_cancer", "digits")


@dataclass
class MixupUCIConfig:
    datasets: str = param("iris,wine,breast_cancer", help=f"comma-separated, from {MIXUP_TABLES}")
    hidden: int = param(128, ge=1, help="units in each of the two hidden ReLU layers (paper: 128)")
    epochs: int = param(10, ge=1, help="paper: 10 epochs")
    batch_size: int = param(16, ge=1, help="paper: mini-batches of 16")
    lr: float = param(1e-3, gt=0, help="Adam learning rate (paper: Adam with default settings)")
    alpha: float = param(0.2, gt=0, help="mixup Beta(alpha, alpha); the notes suggest 0.1-0.4")
    seeds: int = param(3, ge=1, help="train/test splits x initialisations averaged per table")
    test_frac: float = param(0.3, gt=0, lt=1, help="held-out fraction of each table")


@experiment(
    name="mixup-uci", module="9", title="Mixup vs ERM on small tables (UCI)",
    paper=Reference("Zhang et al. 2018, Table 4 (test error %, FC 2x128 ReLU, Adam, 10 epochs, batch 16)",
                    {"err_erm_abalone": 74.0, "err_mixup_abalone": 73.6, "err_erm_htru2": 2.0,
                     "err_mixup_htru2": 2.0, "err_erm_iris": 21.3, "err_mixup_iris": 17.3}),
    quick=MixupUCIConfig(seeds=3),
    full=MixupUCIConfig(datasets="abalone,htru2,iris", seeds=5),
    floor={"mean_err_mixup": at_most(8.0), "mixup_minus_erm": at_most(1.5)}, primary="mean_err_mixup",
)
def mixup_uci(cfg: MixupUCIConfig, run: Run) -> dict[str, float]:
    """ERM and mixup train the same MLP on each table; mixup's mean test error is no worse than ERM's."""
    from .uci import load_uci

    names = _names(cfg.datasets, MIXUP_TABLES, "datasets")
    metrics, groups = {}, {}
    with _threads(1):
        for name in names:
            if name in ("abalone", "htru2", "iris"):
                x, y = load_uci(name, run.data_root)
            else:
                from deepcourse.data import load_sklearn

                x, y = load_sklearn(name)
            k = int(y.max()) + 1
            errs = {"ERM": [], "mixup": []}
            for s in range(cfg.seeds):
                tr, te = _split(len(y), cfg.test_frac, run.seed * 1000 + s)
                xtr, xte = _standardize(x[tr], x[te])
                for method, alpha in (("ERM", 0.0), ("mixup", cfg.alpha)):
                    torch.manual_seed(run.seed * 1000 + s)  # same initialisation for both methods
                    model = _mlp(x.shape[1], (cfg.hidden, cfg.hidden), k)
                    _train(model, xtr, y[tr], epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                           device=run.device, optimizer="adam", mixup_alpha=alpha,
                           rng=np.random.default_rng(run.seed * 1000 + s), seed=s)
                    errs[method].append(100 * (1 - _accuracy(model, xte, y[te], run.device)))
            for method, key in (("ERM", "erm"), ("mixup", "mixup")):
                metrics[f"err_{key}_{name}"] = float(np.mean(errs[method]))
                metrics[f"err_{key}_{name}_std"] = float(np.std(errs[method]))
            groups[name] = {m: float(np.mean(v)) for m, v in errs.items()}
            run.log(len(groups), **{f"err_erm_{name}": metrics[f"err_erm_{name}"],
                                    f"err_mixup_{name}": metrics[f"err_mixup_{name}"]})
    metrics["mean_err_erm"] = float(np.mean([g["ERM"] for g in groups.values()]))
    metrics["mean_err_mixup"] = float(np.mean([g["mixup"] for g in groups.values()]))
    metrics["mixup_minus_erm"] = metrics["mean_err_mixup"] - metrics["mean_err_erm"]
    run.save_figure("uci_errors", _bar_chart(groups, "test error (%)", f"ERM vs mixup (alpha={cfg.alpha:g}), "
                                                                        f"mean of {cfg.seeds} splits"))
    return metrics


# --------------------------------------------------------------------------------------- mixup-cifar10
@dataclass
class MixupCifarConfig:
    dataset: str = param("digits", choices=("digits", "fashion-mnist", "cifar10-jpeg"))
    width: int = param(64, ge=1, help="PreAct ResNet-18 base width (64 in the paper)")
    epochs: int = param(200, ge=1, help="paper: 200 epochs")
    batch_size: int = param(128, ge=1)
    lr: float = param(0.1, gt=0, help="SGD, momentum 0.9; divided by 10 at 50% and 75% of training")
    weight_decay: float = param(1e-4, ge=0)
    alpha: float = param(1.0, gt=0, help="paper: alpha = 1 on CIFAR-10")
    train_subset: int = param(0, ge=0, help="0 = the whole training split")


@experiment(
    name="mixup-cifar10", module="9", title="Mixup vs ERM with PreAct ResNet-18 (CIFAR-10, JPEG copy)",
    paper=Reference("Zhang et al. 2018, Table 1a (PreAct ResNet-18 on lossless CIFAR-10, test error %)",
                    {"err_erm": 5.6, "err_mixup": 4.2}),
    quick=MixupCifarConfig(width=8, epochs=5, batch_size=64, lr=0.05, alpha=0.2),
    full=MixupCifarConfig(dataset="cifar10-jpeg"),
    floor={"err_erm": at_most(20.0), "err_mixup": at_most(30.0)}, primary="err_mixup",
)
def mixup_cifar10(cfg: MixupCifarConfig, run: Run) -> dict[str, float]:
    """PreAct ResNet-18 trained with ERM and with mixup under the paper's schedule (full preset: GPU,
    200 epochs on CIFAR-10 (JPEG copy)). The quick preset is a smoke run of the same code on 8x8 digits
    (5 epochs, alpha = 0.2): far too short for mixup to pay off (mixup needs long schedules), so its
    floor only catches a broken pipeline (chance is 90% error); seeds 0-2 gave ERM 6-16%, mixup 9-25%."""
    from deepcourse.viz import loss_curves

    xtr, ytr, xte, yte, c = _image_data(cfg.dataset, run, run.seed, cfg.train_subset)
    steps_per_epoch = math.ceil(len(ytr) / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch

    def lr_at(s: int) -> float:  # step decay at 50% and 75% of the budget (epochs 100 and 150 of 200)
        return 1.0 if s < total // 2 else (0.1 if s < 3 * total // 4 else 0.01)

    out, curves = {}, {}
    with _threads(1 if cfg.dataset == "digits" else None):
        _mixup_cifar_runs(cfg, run, xtr, ytr, xte, yte, c, lr_at, out, curves)
    run.save_figure("train_loss", loss_curves(curves, xlabel="epoch", ylabel="training loss (mixup: on mixed pairs)"))
    out["mixup_gain"] = out["err_erm"] - out["err_mixup"]
    return out


def _mixup_cifar_runs(cfg, run, xtr, ytr, xte, yte, c, lr_at, out, curves) -> None:
    from deepcourse.cnn import preact_resnet18

    for method, alpha in (("erm", 0.0), ("mixup", cfg.alpha)):
        torch.manual_seed(run.seed)
        model = preact_resnet18(num_classes=10, in_channels=c, width=cfg.width)
        state = _train(model, xtr, ytr, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                       weight_decay=cfg.weight_decay, device=run.device, mixup_alpha=alpha, rng=run.rng,
                       augment=_augment_fn(cfg.dataset), lr_at=lr_at, seed=run.seed)
        hist = [r["train_loss"] for r in state.history]
        curves[method] = hist
        out[f"err_{method}"] = 100 * (1 - _accuracy(model, xte, yte, run.device))
        for r in state.history:
            run.log(r["step"], **{f"train_loss_{method}": r["train_loss"]})


# ------------------------------------------------------------------------------------- svd-compression
@dataclass
class SVDConfig:
    dataset: str = param("digits", choices=("digits", "fashion-mnist"))
    hidden: int = param(512, ge=2, help="width of the MLP's two hidden layers")
    epochs: int = param(30, ge=1)
    batch_size: int = param(64, ge=1)
    lr: float = param(0.05, gt=0, help="SGD with momentum 0.9, cosine decay to 0")
    ranks: str = param("2,4,8,16,32,64,128,256", help="comma-separated ranks t of the sweep")
    latency_batch: int = param(256, ge=1, help="batch size of the CPU latency measurement")


@experiment(
    name="svd-compression", module="9", title="Truncated SVD of dense layers: the rank sweep",
    paper=Reference("Xue et al. 2013; Denton et al. 2014; notes 'Approximating large FC layers with truncated SVD'", {}),
    quick=SVDConfig(epochs=20),
    full=SVDConfig(dataset="fashion-mnist", hidden=512, epochs=10, batch_size=128, lr=0.05,
                   ranks="4,8,16,32,64,128,256"),
    floor={"compression_within_1pt": at_least(2.0)}, primary="compression_within_1pt",
)
def svd_compression(cfg: SVDConfig, run: Run) -> dict[str, float]:
    """Factorising a trained MLP's hidden layers at rank t trades parameters for accuracy; a rank exists
    with >= 2x fewer dense parameters within 1 point of the dense model, without fine-tuning."""
    xtr, ytr, xte, yte, _ = _image_data(cfg.dataset, run, run.seed)
    ranks = sorted({int(r) for r in cfg.ranks.split(",") if r.strip()})
    if not ranks or min(ranks) < 1:
        raise ValueError(f"ranks must be positive integers, got {cfg.ranks!r}")
    with _threads(1 if cfg.dataset == "digits" else None):
        return _svd_sweep(cfg, run, xtr, ytr, xte, yte, ranks)


def _svd_sweep(cfg: SVDConfig, run: Run, xtr: Tensor, ytr: Tensor, xte: Tensor, yte: Tensor, ranks: list[int]) -> dict:
    from deepcourse.core import count_flops
    from deepcourse.viz import line_plot

    torch.manual_seed(run.seed)
    model = _mlp(xtr[0].numel(), (cfg.hidden, cfg.hidden), 10)
    steps = cfg.epochs * math.ceil(len(ytr) / cfg.batch_size)
    _train(model, xtr, ytr, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, device=run.device,
           lr_at=lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)), seed=run.seed)
    model.eval()
    xl = xte[:cfg.latency_batch].to(run.device)
    base_acc = _accuracy(model, xte, yte, run.device)
    base_params = dense_params(model)
    base_flops = count_flops(model, xl[:1])
    rows, smalls = [], []
    for t in ranks:
        small = compress_linears(model, t, skip=[n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1:])
        p = dense_params(small)
        if p == base_params:  # above the break-even rank nothing is factorised
            continue
        smalls.append(small)
        rows.append({"rank": t, "acc": _accuracy(small, xte, yte, run.device), "params": p,
                     "flops": count_flops(small, xl[:1])})
    # latency: rounds over all models in turn, best median per model, so that load from other processes
    # on a shared machine hits every model alike instead of whichever happened to be measured first
    lats = [[] for _ in range(len(smalls) + 1)]
    for _ in range(5):
        for i, m in enumerate([model] + smalls):
            lats[i].append(measure_latency(m, xl, repeats=7, warmup=2))
    base_lat = min(lats[0])
    for r, lat in zip(rows, lats[1:]):
        r["latency_ms"] = 1e3 * min(lat)
        run.log(r["rank"], **{k: float(v) for k, v in r.items() if k != "rank"})
    ok = [r for r in rows if r["acc"] >= base_acc - 0.01]
    best = max(ok, key=lambda r: base_params / r["params"]) if ok else None
    rs = [r["rank"] for r in rows]
    run.save_figure("accuracy_vs_rank", line_plot(rs, {"factorised": [100 * r["acc"] for r in rows],
                                                       "dense": [100 * base_acc] * len(rows)},
                                                  "rank t", "test accuracy (%)", logx=True))
    run.save_figure("cost_vs_rank", line_plot(rs, {"params / dense": [r["params"] / base_params for r in rows],
                                                   "FLOPs / dense": [r["flops"] / base_flops for r in rows],
                                                   "latency / dense": [r["latency_ms"] / (1e3 * base_lat) for r in rows]},
                                              "rank t", "fraction of the dense model", logx=True))
    out = {"acc_dense": base_acc, "params_dense": float(base_params), "latency_ms_dense": 1e3 * base_lat,
           "compression_within_1pt": base_params / best["params"] if best else 1.0,
           "rank_within_1pt": float(best["rank"]) if best else float("nan"),
           "acc_at_that_rank": best["acc"] if best else float("nan"),
           "speedup_at_that_rank": (1e3 * base_lat / best["latency_ms"]) if best else float("nan")}
    for r in rows:
        out[f"acc_rank{r['rank']}"] = r["acc"]
        out[f"params_rank{r['rank']}"] = float(r["params"])
        out[f"latency_ms_rank{r['rank']}"] = r["latency_ms"]
    return out


# ------------------------------------------------------------------------------------------- swa-sgdr
def _classifier(kind: str, c: int, side: int, width: int, dropout: float = 0.0) -> nn.Module:
    if kind == "mlp":
        return _mlp(c * side * side, (width, width), 10, bn=True, dropout=dropout)
    if kind == "cnn":
        return SmallCNN(c, 10, width, dropout)
    if kind in ("resnet18", "preact-resnet18"):
        from deepcourse.cnn import preact_resnet18, resnet18

        return (resnet18 if kind == "resnet18" else preact_resnet18)(num_classes=10, in_channels=c, width=width)
    if kind == "mobilenet-v2":
        from deepcourse.cnn import mobilenet_v2

        return mobilenet_v2(num_classes=10, in_channels=c, alpha=width / 32)
    raise ValueError(f"model must be mlp, cnn, resnet18, preact-resnet18 or mobilenet-v2, got {kind!r}")


@dataclass
class SWAConfig:
    dataset: str = param("digits", choices=("digits", "fashion-mnist", "cifar10-jpeg"))
    model: str = param("mlp", choices=("mlp", "cnn", "preact-resnet18"), help="all have BatchNorm")
    width: int = param(256, ge=1, help="MLP hidden width / CNN base channels")
    epochs: int = param(14, ge=4, help="training budget of every method; end it at an SGDR restart "
                                      "(t0 (1 + m + m^2 + ...): 14 = 2 + 4 + 8, 15 = 1 + 2 + 4 + 8)")
    batch_size: int = param(64, ge=1)
    lr: float = param(0.1, gt=0, help="initial SGD rate (momentum 0.9)")
    weight_decay: float = param(5e-4, ge=0)
    swa_start: float = param(0.75, gt=0, lt=1, help="fraction of the budget trained with the SGD schedule first")
    swa_mode: str = param("constant", choices=("constant", "cyclic"))
    swa_lr: float = param(0.02, gt=0, help="constant SWA rate, or alpha_2 (the low end) of a cycle")
    cycle_max: float = param(0.05, gt=0, help="alpha_1 of the cyclical schedule")
    cycle_epochs: float = param(1.0, gt=0, help="cycle length c (the weights are averaged once per cycle)")
    t0: int = param(2, ge=1, help="SGDR: epochs of the first run")
    t_mult: int = param(2, ge=1, help="SGDR: run length multiplier")
    augment: bool = param(False, help="random crops (and flips, except digits)")


@experiment(
    name="swa-sgdr", module="9", title="SGD vs SGDR vs SWA at the same budget",
    paper=Reference("Izmailov et al. 2018 (Table 2: ImageNet top-1 +0.5-0.8 for SWA over SGD); "
                    "Loshchilov & Hutter 2017", {}),
    quick=SWAConfig(),
    full=SWAConfig(dataset="fashion-mnist", model="mlp", width=256, epochs=15, batch_size=128, lr=0.05,
                   swa_lr=0.01, t0=1, t_mult=2),
    floor={"acc_swa": at_least(0.95), "swa_minus_sgd": at_least(-0.01)}, primary="acc_swa",
)
def swa_sgdr(cfg: SWAConfig, run: Run) -> dict[str, float]:
    """Same budget, three schedules: SGD with the SWA paper's step-down schedule, SGDR, and SGD for the
    first 75% then SWA; the SWA average (BatchNorm recomputed) is at least as accurate as SGD's final model.

    The budget should end where an SGDR run ends (its rate near zero): stopped mid-run, SGDR is evaluated
    at a high learning rate and looks worse than it is (a 10-epoch run with t0 = 1, t_mult = 2 stopped at
    lr 0.035 and lost 1.8 points to SGD)."""
    xtr, ytr, xte, yte, c = _image_data(cfg.dataset, run, run.seed)
    with _threads(1 if cfg.dataset == "digits" else None):
        return _swa_runs(cfg, run, xtr, ytr, xte, yte, c)


def _swa_runs(cfg: SWAConfig, run: Run, xtr, ytr, xte, yte, c) -> dict[str, float]:
    import copy

    from deepcourse.core import LambdaCallback
    from deepcourse.viz import loss_curves

    spe = math.ceil(len(ytr) / cfg.batch_size)
    total, start = cfg.epochs * spe, int(round(cfg.swa_start * cfg.epochs)) * spe
    aug = _augment_fn(cfg.dataset, cfg.augment)

    def sgd_sched(s: int) -> float:
        # Izmailov et al. 2018, appendix: lr_init for the first half, linear decay to 1% by 90%, then flat
        t = s / total
        return 1.0 if t <= 0.5 else (1.0 - 0.99 * (t - 0.5) / 0.4 if t <= 0.9 else 0.01)

    def sgdr_sched(s: int) -> float:
        return sgdr_lr(s / spe, 1.0, 0.0, cfg.t0, cfg.t_mult)

    def make() -> nn.Module:
        torch.manual_seed(run.seed)  # the same initialisation for every method
        return _classifier(cfg.model, c, xtr.shape[-1], cfg.width)

    common = dict(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, device=run.device,
                  weight_decay=cfg.weight_decay, augment=aug, seed=run.seed)
    out, lrs = {}, {}
    # 1) SGD, keeping a copy of the weights at the SWA start
    sgd = make()
    snap = {}
    grab = LambdaCallback(on_step_end=lambda st, m: snap.setdefault("w", copy.deepcopy(sgd.state_dict()))
                          if st.step == start else None)
    _train(sgd, xtr, ytr, lr_at=sgd_sched, callbacks=[grab], **common)
    out["acc_sgd"] = _accuracy(sgd, xte, yte, run.device)
    lrs["SGD"] = [(s, cfg.lr * sgd_sched(s)) for s in range(0, total, max(1, total // 400))]
    # 2) SGDR
    sgdr = make()
    _train(sgdr, xtr, ytr, lr_at=sgdr_sched, **common)
    out["acc_sgdr"] = _accuracy(sgdr, xte, yte, run.device)
    lrs["SGDR"] = [(s, cfg.lr * sgdr_sched(s)) for s in range(0, total, max(1, total // 400))]
    # 3) SWA from the SGD weights at the start point, for the rest of the budget
    swa = make()
    swa.load_state_dict(snap["w"])
    opt_model = swa.to(run.device).train()
    if cfg.swa_mode == "constant":
        a1, a2, cycle = cfg.swa_lr, cfg.swa_lr, spe  # average once per epoch
    else:
        a1, a2, cycle = cfg.cycle_max, cfg.swa_lr, max(1, int(round(cfg.cycle_epochs * spe)))
    opt = torch.optim.SGD(opt_model.parameters(), lr=a1, momentum=0.9, weight_decay=cfg.weight_decay)
    cb = SWACallback(opt_model, opt, start_step=0, cycle=cycle, alpha1=a1, alpha2=a2)

    def step(batch):
        xb, yb = batch
        return {"loss": F.cross_entropy(opt_model(aug(xb) if aug else xb), yb)}

    fit(step, TensorLoader(xtr, ytr, batch_size=cfg.batch_size, seed=run.seed + 1, device=run.device),
        max_steps=total - start, model=opt_model, optimizer=opt, callbacks=[cb])
    out["acc_swa_last_iterate"] = _accuracy(opt_model, xte, yte, run.device)
    out["acc_swa_no_bn_update"] = _accuracy(cb.swa_model.module, xte, yte, run.device)
    avg = cb.finalize(TensorLoader(xtr, ytr, batch_size=256, shuffle=False, device=run.device), run.device)
    out["acc_swa"] = _accuracy(avg, xte, yte, run.device)
    out["swa_models_averaged"] = float(cb.n_averaged)
    out["swa_minus_sgd"] = out["acc_swa"] - out["acc_sgd"]
    lrs["SWA"] = [p for p in lrs["SGD"] if p[0] < start] + [(start + i, lr) for i, lr in enumerate(cb.lrs)][::max(1, total // 400)]
    for k in ("acc_sgd", "acc_sgdr", "acc_swa"):
        run.log(total, **{k: out[k]})
    run.save_figure("learning_rates", loss_curves(lrs, xlabel="step", ylabel="learning rate",
                                                  title=f"SGD {out['acc_sgd']:.4f}, SGDR {out['acc_sgdr']:.4f}, "
                                                        f"SWA {out['acc_swa']:.4f} (test acc)"))
    return out


# ---------------------------------------------------------------------------------------- distillation
@dataclass
class DistillConfig:
    dataset: str = param("digits", choices=("digits", "fashion-mnist", "cifar10-jpeg"))
    teacher: str = param("cnn", choices=("resnet18", "cnn", "mlp"))
    teacher_width: int = param(16, ge=1)
    teacher_epochs: int = param(10, ge=1)
    student: str = param("mlp", choices=("mlp", "cnn", "mobilenet-v2"))
    student_width: int = param(16, ge=1, help="MLP hidden width / CNN base channels / MobileNet alpha x 32")
    epochs: int = param(15, ge=1, help="epochs of the label-trained and the classic KD student")
    fm_epochs: int = param(40, ge=1, help="epochs of the function-matching student ('patient')")
    T: float = param(4.0, gt=0, help="temperature of classic KD (Hinton et al. 2015)")
    kd_alpha: float = param(0.9, ge=0, le=1, help="weight of the soft term in classic KD")
    fm_mixup: float = param(1.0, ge=0, help="mixup alpha of the function-matching views (0 = off)")
    batch_size: int = param(64, ge=1)
    lr: float = param(0.05, gt=0, help="SGD (momentum 0.9) with cosine decay")
    weight_decay: float = param(5e-4, ge=0)
    train_subset: int = param(0, ge=0, help="0 = the whole training split")
    extra_students: str = param("", help="comma-separated extras beside labels/kd/fm: hint (FitNets), online (DML)")
    hint_epochs: int = param(5, ge=1, help="FitNets stage 1: epochs fitting the hint before KD")


DISTILL_EXTRAS = ("hint", "online")


def _penultimate(model: nn.Module) -> dict:
    """Record the input of the model's last ``nn.Linear`` (the penultimate representation) on every forward."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    box: dict = {}
    last.register_forward_pre_hook(lambda m, inp: box.__setitem__("h", inp[0]))
    box["dim"] = last.in_features
    return box


@experiment(
    name="distillation", module="9", title="Knowledge distillation: labels vs classic KD vs function matching",
    paper=Reference("Hinton et al. 2015; Beyer et al. 2022 (function matching beats label training when patient)", {}),
    quick=DistillConfig(teacher_epochs=8, fm_epochs=30),
    full=DistillConfig(dataset="fashion-mnist", teacher="resnet18", teacher_width=64, teacher_epochs=30,
                       student="cnn", student_width=8, epochs=30, fm_epochs=300, batch_size=128),
    floor={"fm_minus_labels": at_least(0.0), "kd_minus_labels": at_least(-0.02), "acc_teacher": at_least(0.95)},
    primary="acc_student_fm",
)
def distillation(cfg: DistillConfig, run: Run) -> dict[str, float]:
    """A small student trained on labels, with classic KD (KL at temperature T plus CE) and with patient,
    consistent function matching (KL only, same augmented mixup view for teacher and student).

    The full preset (ResNet-18 teacher, 300 function-matching epochs on Fashion-MNIST) needs a GPU; on a CPU
    run it with ``teacher=mlp student=mlp`` overrides. Test accuracy is tracked during training for the
    figure only; every reported number is the final model's."""
    xtr, ytr, xte, yte, c = _image_data(cfg.dataset, run, run.seed, cfg.train_subset)
    with _threads(1 if cfg.dataset == "digits" else None):
        return _distill_runs(cfg, run, xtr, ytr, xte, yte, c)


def _distill_runs(cfg: DistillConfig, run: Run, xtr, ytr, xte, yte, c) -> dict[str, float]:
    side = xtr.shape[-1]
    aug = _augment_fn(cfg.dataset)
    spe = math.ceil(len(ytr) / cfg.batch_size)

    def cosine(epochs: int) -> Callable[[int], float]:
        return lambda s: 0.5 * (1 + math.cos(math.pi * min(s / (epochs * spe), 1.0)))

    out, times = {}, {}
    t0 = time.perf_counter()
    torch.manual_seed(run.seed)
    teacher = _classifier(cfg.teacher, c, side, cfg.teacher_width if cfg.teacher != "mlp" else 512)
    _train(teacher, xtr, ytr, epochs=cfg.teacher_epochs, batch_size=cfg.batch_size, lr=cfg.lr, device=run.device,
           weight_decay=cfg.weight_decay, augment=aug, lr_at=cosine(cfg.teacher_epochs), seed=run.seed)
    teacher.eval()
    out["acc_teacher"] = _accuracy(teacher, xte, yte, run.device)
    times["teacher"] = time.perf_counter() - t0

    def student() -> nn.Module:
        torch.manual_seed(run.seed + 1)  # same student initialisation for all three (never the teacher's weights)
        return _classifier(cfg.student, c, side, cfg.student_width)

    def kd(model, xb, yb):
        with torch.no_grad():
            t_logits = teacher(xb)  # the teacher sees the same augmented batch as the student
        return distillation_loss(model(xb), t_logits, yb, cfg.T, cfg.kd_alpha)

    def fm(model, xb, yb):  # xb is already augmented; mixup is applied inside, to both networks' view
        return function_matching_loss(model, teacher, xb, T=1.0, mixup_alpha=cfg.fm_mixup, rng=run.rng)

    t_pen = _penultimate(teacher)

    def fitnet_stage1(s: nn.Module) -> None:
        """FitNets stage 1 (Romero et al. 2015): fit the student's penultimate layer to the teacher's through a
        linear regressor (the hint here is the penultimate layer, so the networks may differ in depth)."""
        s_pen = _penultimate(s)
        holder = nn.ModuleDict({"s": s, "r": nn.Linear(s_pen["dim"], t_pen["dim"])})

        def hint(model, xb, yb):
            with torch.no_grad():
                teacher(xb)
            model["s"](xb)
            return hint_loss(s_pen["h"], t_pen["h"], model["r"])

        _train(holder, xtr, ytr, epochs=cfg.hint_epochs, batch_size=cfg.batch_size, lr=cfg.lr, device=run.device,
               weight_decay=cfg.weight_decay, augment=aug, lr_at=cosine(cfg.hint_epochs), loss_fn=hint, seed=run.seed)

    curves = {}
    names = ["labels", "kd", "fm"] + (_names(cfg.extra_students, DISTILL_EXTRAS, "extra_students")
                                      if cfg.extra_students.strip() else [])
    plan = {"labels": (None, cfg.epochs), "kd": (kd, cfg.epochs), "fm": (fm, cfg.fm_epochs),
            "hint": (kd, cfg.epochs), "online": (None, cfg.epochs)}
    for name in names:
        loss_fn, epochs = plan[name]
        t0 = time.perf_counter()
        s = student()
        target: nn.Module = s
        if name == "hint":
            fitnet_stage1(s)
        if name == "online":  # deep mutual learning: a fresh teacher-architecture peer learns alongside
            torch.manual_seed(run.seed + 2)
            peer = _classifier(cfg.teacher, c, side, cfg.teacher_width if cfg.teacher != "mlp" else 512)
            target = nn.ModuleDict({"s": s, "peer": peer})

            def loss_fn(model, xb, yb):
                la, lb = mutual_learning_losses(model["s"](xb), model["peer"](xb), yb, T=1.0)
                return la + lb  # each KL term detaches the other network: the sum trains both

        ev = Evaluate(lambda s=s: {"acc": _accuracy(s, xte, yte, run.device)}, every=max(1, epochs // 10))
        state = _train(target, xtr, ytr, epochs=epochs, batch_size=cfg.batch_size, lr=cfg.lr, device=run.device,
                       weight_decay=cfg.weight_decay, augment=aug, lr_at=cosine(epochs), loss_fn=loss_fn,
                       seed=run.seed, callbacks=[ev])
        if name == "online":
            out["acc_online_peer"] = _accuracy(target["peer"], xte, yte, run.device)
        accs = [(r["epoch"], r["val_acc"]) for r in state.history if "val_acc" in r]
        curves[name] = accs
        out[f"acc_student_{name}"] = _accuracy(s, xte, yte, run.device)
        times[name] = time.perf_counter() - t0
        run.log(state.step, **{f"acc_student_{name}": out[f"acc_student_{name}"]})
    from deepcourse.viz import loss_curves

    run.save_figure("student_accuracy", loss_curves(curves, xlabel="epoch", ylabel="test accuracy (monitoring only)",
                                                    title=f"teacher {out['acc_teacher']:.4f}"))
    for name in names:
        if name != "labels":
            out[f"{name}_minus_labels"] = out[f"acc_student_{name}"] - out["acc_student_labels"]
    from deepcourse.core import count_parameters

    out["params_teacher"] = float(count_parameters(teacher))
    out["params_student"] = float(count_parameters(student()))
    for k, v in times.items():
        out[f"seconds_{k}"] = v
    return out


# ---------------------------------------------------------------------------------------- mean-teacher
@dataclass
class MeanTeacherConfig:
    dataset: str = param("digits", choices=("digits", "fashion-mnist", "cifar10-jpeg"))
    labels: str = param("50", help="comma-separated numbers of labelled examples (balanced over classes)")
    seeds: int = param(2, ge=1, help="label draws x initialisations per setting (error +- std)")
    model: str = param("mlp", choices=("mlp", "cnn"))
    width: int = param(128, ge=1)
    dropout: float = param(0.2, ge=0, lt=1, help="dropout: part of the noise eta")
    input_noise: float = param(0.3, ge=0, help="std of Gaussian input noise (on standardised inputs)")
    augment: bool = param(False, help="random crops as extra noise")
    steps: int = param(400, ge=1)
    labeled_batch: int = param(16, ge=1, help="labelled examples per batch")
    unlabeled_batch: int = param(112, ge=0, help="unlabelled examples per batch")
    lr: float = param(3e-3, gt=0, help="Adam")
    consistency: float = param(10.0, ge=0, help="max consistency weight (MSE summed over classes)")
    rampup: float = param(0.3, ge=0, le=1, help="sigmoid ramp-up length as a fraction of the steps")
    ema_decay: float = param(0.99, gt=0, lt=1)


@experiment(
    name="mean-teacher", module="9", showcase=("error_by_labels",), title="Mean Teacher vs Pi-model vs supervised-only with few labels",
    paper=Reference("Tarvainen & Valpola 2017, Table 1 (SVHN, 250 labels, error %)",
                    {"err_supervised_250": 27.77, "err_pi_250": 9.69, "err_mean-teacher_250": 4.35}),
    quick=MeanTeacherConfig(seeds=1),
    full=MeanTeacherConfig(dataset="fashion-mnist", labels="250,1000,4000", seeds=3, model="cnn", width=32,
                           dropout=0.3, input_noise=0.15, augment=True, steps=20000, labeled_batch=32,
                           unlabeled_batch=224, consistency=10.0, ema_decay=0.999),
    floor={"mt_gain_fewest": at_least(2.0), "pi_gain_fewest": at_least(2.0)}, primary="err_mt_fewest",
)
def mean_teacher(cfg: MeanTeacherConfig, run: Run) -> dict[str, float]:
    """Few labels plus the unlabelled rest: the consistency cost (Pi-model, Mean Teacher) cuts the error
    of supervised-only training; ``mt_gain_n`` is supervised error minus Mean Teacher error in points.

    The full preset (CNN, 20,000 steps x 3 label counts x 3 seeds x 3 methods) is sized for a GPU; on a CPU
    use ``model=mlp`` and fewer steps. Mean Teacher is evaluated with the EMA (teacher) weights, the
    others with their own; ``err_mean-teacher-student_n`` gives the student's error too."""
    xtr, ytr, xte, yte, c = _image_data(cfg.dataset, run, run.seed)
    ns = [int(v) for v in cfg.labels.split(",") if v.strip()]
    with _threads(1 if cfg.dataset == "digits" else None):
        return _mt_runs(cfg, run, xtr, ytr, xte, yte, c, ns)


def _mt_runs(cfg: MeanTeacherConfig, run: Run, xtr, ytr, xte, yte, c, ns) -> dict[str, float]:
    aug = _augment_fn(cfg.dataset, cfg.augment)
    dev = run.device
    xtr_d, ytr_d = xtr.to(dev), ytr.to(dev)

    def noise(x: Tensor) -> Tensor:
        if aug is not None:
            x = aug(x)
        return x + cfg.input_noise * torch.randn_like(x) if cfg.input_noise else x

    methods = ("supervised", "pi", "mean-teacher")
    errs: dict[tuple[str, int], list[float]] = {}
    for n in ns:
        for s in range(cfg.seeds):
            lab, _ = semi_supervised_split(ytr, n, seed=run.seed * 100 + s)
            lab = lab.to(dev)
            for method in methods:
                torch.manual_seed(run.seed * 100 + s)
                model = _classifier(cfg.model, c, xtr.shape[-1], cfg.width, cfg.dropout).to(dev)
                opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
                trainer = ConsistencyTrainer(model, opt, method, noise=noise, consistency=cfg.consistency,
                                             rampup_steps=int(cfg.rampup * cfg.steps), ema_decay=cfg.ema_decay)
                g = torch.Generator(device="cpu").manual_seed(run.seed * 100 + s)

                def batches(method=method, g=g):
                    while True:
                        li = lab[torch.randint(len(lab), (cfg.labeled_batch,), generator=g).to(dev)]
                        if method == "supervised" or cfg.unlabeled_batch == 0:
                            yield xtr_d[li], ytr_d[li]
                            continue
                        ui = torch.randint(len(ytr), (cfg.unlabeled_batch,), generator=g).to(dev)
                        x = torch.cat([xtr_d[li], xtr_d[ui]])  # (L + U, ...)
                        y = torch.cat([ytr_d[li], torch.full((cfg.unlabeled_batch,), -1, device=dev)])
                        yield x, y

                class _Stream:  # an endless stream; fit stops it at max_steps
                    def __iter__(self):
                        return batches()

                fit(trainer.step, _Stream(), max_steps=cfg.steps, model=model, log_every=10**9)
                err = 100 * (1 - _accuracy(trainer.eval_model, xte, yte, dev))
                errs.setdefault((method, n), []).append(err)
                if method == "mean-teacher":
                    errs.setdefault(("mean-teacher-student", n), []).append(100 * (1 - _accuracy(model, xte, yte, dev)))
                run.log(n, **{f"err_{method}_{n}_seed{s}": err})
    out = {}
    for (method, n), v in errs.items():
        out[f"err_{method}_{n}"] = float(np.mean(v))
        out[f"err_{method}_{n}_std"] = float(np.std(v))
    for n in ns:
        out[f"mt_gain_{n}"] = out[f"err_supervised_{n}"] - out[f"err_mean-teacher_{n}"]
    few = min(ns)  # the headline: the fewest labels
    out["err_mt_fewest"] = out[f"err_mean-teacher_{few}"]
    out["mt_gain_fewest"] = out[f"mt_gain_{few}"]
    out["pi_gain_fewest"] = out[f"err_supervised_{few}"] - out[f"err_pi_{few}"]
    groups = {f"{n} labels": {"supervised": out[f"err_supervised_{n}"], "Pi-model": out[f"err_pi_{n}"],
                              "Mean Teacher": out[f"err_mean-teacher_{n}"]} for n in ns}
    run.save_figure("error_by_labels", _bar_chart(groups, "test error (%)", f"{cfg.dataset}, mean of {cfg.seeds} seeds"))
    if run.is_main:  # the notes' layout (Tarvainen & Valpola 2017, Table 1): methods x numbers of labels
        names = [("supervised", "Supervised-only"), ("pi", "Pi-model"), ("mean-teacher", "Mean Teacher"),
                 ("mean-teacher-student", "Mean Teacher (student weights)")]
        lines = [f"# Mean Teacher on {cfg.dataset}: test error % (mean ± std over {cfg.seeds} seeds)", "",
                 "| method | " + " | ".join(f"{n} labels" for n in ns) + " |", "|---|" + "---:|" * len(ns)]
        lines += [f"| {label} | " + " | ".join(f"{out[f'err_{key}_{n}']:.2f} ± {out[f'err_{key}_{n}_std']:.2f}"
                                              for n in ns) + " |" for key, label in names]
        (run.out / "table.md").write_text("\n".join(lines) + "\n")
    return out
