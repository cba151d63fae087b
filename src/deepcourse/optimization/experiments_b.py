"""Module 9 experiments, part B: quantisation, pruning and clustering, the lottery ticket, HPO.

Quick presets run offline on scikit-learn's 8x8 digits in seconds on two CPU cores; their floors test
the claims (int8 is several times smaller at nearly the same accuracy; a pruned or clustered network keeps
its accuracy; winning tickets beat their random re-initialisation; a tuned configuration beats the
median trial). Latencies are reported, never floored, in quick runs: a shared machine makes them noisy.
Full presets use MNIST / Fashion-MNIST / CIFAR-10 (JPEG copy) from ``--data-dir`` or ``$DEEPCOURSE_DATA``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core import Reference, Run, at_least, at_most, experiment, param
from deepcourse.core.utils import num_threads as _threads
from deepcourse.data import random_partition as _split

# ------------------------------------------------------------------------------------------ data




def load_image_data(dataset: str, run: Run, *, val: int | float = 0.15, seed: int = 0,
                    train_limit: int = 0) -> tuple[dict[str, tuple[Tensor, Tensor]], tuple[int, int]]:
    """``{"train", "val", "test"}: (x float32 (N, C, H, W) in [0, 1] minus the train mean, y)`` and (C, H).

    digits: 8x8 scikit-learn digits split 65/15/20. mnist / fashion-mnist / cifar10-jpeg: the official
    test split; ``val`` images (count or fraction) held out of the training split."""
    if dataset == "digits":
        from deepcourse.data import load_sklearn

        x, y = load_sklearn("digits")
        x = (x / 16.0).view(-1, 1, 8, 8)  # (N, 1, 8, 8)
        tr, va, te = _split(len(x), (0.65, 0.15), seed)
        parts = {"train": (x[tr], y[tr]), "val": (x[va], y[va]), "test": (x[te], y[te])}
    else:
        from deepcourse.data import load_tensors

        xtr, ytr = load_tensors(dataset, "train", root=run.data_root)
        xte, yte = load_tensors(dataset, "test", root=run.data_root)

        def prep(t: Tensor) -> Tensor:
            t = t.float() / 255.0
            return t.unsqueeze(1) if t.dim() == 3 else t  # (N, C, H, W)

        xtr, xte = prep(xtr), prep(xte)
        nval = int(val if val >= 1 else round(val * len(xtr)))
        tr, va = _split(len(xtr), (1 - nval / len(xtr),), seed)
        if train_limit:
            tr = tr[:train_limit]
        parts = {"train": (xtr[tr], ytr[tr]), "val": (xtr[va], ytr[va]), "test": (xte, yte)}
    mean = parts["train"][0].mean()
    parts = {k: (x - mean, y) for k, (x, y) in parts.items()}
    return parts, (parts["train"][0].shape[1], parts["train"][0].shape[2])


def _train(model: nn.Module, data, *, epochs: int, lr: float, batch_size: int, seed: int, callbacks=(),
           weight_decay: float = 0.0) -> None:
    """Adam on cross-entropy with ``deepcourse.core.fit`` (callbacks: pruning masks, schedules)."""
    from deepcourse.core import TensorLoader, fit

    x, y = data["train"]
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)

    def step(batch):
        xb, yb = batch
        return {"loss": F.cross_entropy(model(xb), yb)}

    model.train()
    fit(step, TensorLoader(x, y, batch_size=batch_size, seed=seed), epochs=epochs, model=model, optimizer=opt,
        callbacks=callbacks, log_every=10 ** 9)
    model.eval()


def _acc(model: nn.Module, xy, dtype=None) -> float:
    from .quantization import accuracy

    return accuracy(model, *xy, dtype=dtype)




# ---------------------------------------------------------------------------------- quantization
@dataclass
class QuantConfig:
    dataset: str = param("digits", choices=("digits", "mnist", "fashion-mnist"))
    mlp_hidden: tuple[int, ...] = param((512, 512), ge=1, help="hidden widths of the MLP")
    cnn_widths: tuple[int, ...] = param((32, 64), ge=1, help="channels of the CNN's conv blocks")
    cnn_hidden: int = param(256, ge=0, help="the CNN's hidden fully connected width")
    epochs: int = param(4, ge=1)
    qat_epochs: int = param(1, ge=1, help="quantisation-aware fine-tuning epochs from the fp32 weights")
    lr: float = param(1e-3, gt=0)
    batch_size: int = param(64, ge=1)
    calib_batches: int = param(8, ge=1, help="batches of training data for static calibration")
    latency_batch: int = param(128, ge=1)
    latency_repeats: int = param(10, ge=1)
    threads: int = param(1, ge=0, help="threads for training and latency (0: torch default)")


@experiment(
    name="quantization", module="9", title="int8 quantisation: dynamic, static and QAT vs fp32 and fp16",
    paper=Reference("Jacob et al. 2018; issue target: static int8 >= 3.5x smaller, >= 1.5x faster, <= 1 point "
                    "accuracy loss", {"cnn_size_ratio_static": 3.5, "cnn_speedup_static": 1.5}),
    quick=QuantConfig(),
    full=QuantConfig(dataset="fashion-mnist", mlp_hidden=(1024, 1024), cnn_widths=(32, 64), cnn_hidden=256,
                     epochs=3, qat_epochs=1, batch_size=128, calib_batches=32, latency_batch=256, latency_repeats=50,
                     threads=1),
    floor={"cnn_size_ratio_static": 3.0, "mlp_size_ratio_static": 3.0, "cnn_acc_drop_static": at_most(0.02),
           "mlp_acc_drop_static": at_most(0.02), "mlp_acc_drop_dynamic": at_most(0.02),
           "cnn_acc_drop_qat": at_most(0.02), "cnn_fp32_acc": 0.9},
    primary="cnn_size_ratio_static",
)
def quantization(cfg: QuantConfig, run: Run) -> dict[str, float]:
    """Train an MLP and a CNN in fp32, then compare fp32, dynamic int8 (Linear layers), static int8 (with
    calibration), QAT int8 and fp16/bf16 casts: accuracy, size on disk and CPU latency per batch."""
    from .quantization import (QuantCNN, QuantMLP, cast_model, convert_qat, measure_latency, model_size_bytes,
                               prepare_qat, quantization_engine, quantize_dynamic, quantize_static)

    data, (c, s) = load_image_data(cfg.dataset, run, val=5000, seed=run.seed)
    engine = quantization_engine()
    metrics: dict[str, float] = {}
    rows = []
    xb = data["test"][0][:cfg.latency_batch]
    calib = [data["train"][0][i * cfg.batch_size:(i + 1) * cfg.batch_size] for i in range(cfg.calib_batches)]
    for kind in ("mlp", "cnn"):
        torch.manual_seed(run.seed)
        if kind == "mlp":
            model = QuantMLP(c * s * s, cfg.mlp_hidden, 10)
        else:
            model = QuantCNN(c, s, cfg.cnn_widths, 10, cfg.cnn_hidden)
        with _threads(cfg.threads):
            _train(model, data, epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size, seed=run.seed)
            variants: dict[str, tuple[nn.Module, torch.dtype | None]] = {"fp32": (model, None)}
            variants["dynamic"] = (quantize_dynamic(model), None)
            variants["static"] = (quantize_static(model, calib), None)
            qat = prepare_qat(model)
            _train(qat, data, epochs=cfg.qat_epochs, lr=cfg.lr / 10, batch_size=cfg.batch_size, seed=run.seed + 1)
            variants["qat"] = (convert_qat(qat), None)
            variants["fp16"] = (cast_model(model, torch.float16), torch.float16)
            variants["bf16"] = (cast_model(model, torch.bfloat16), torch.bfloat16)
        base_size = model_size_bytes(model)
        base_acc = _acc(model, data["test"])
        base_lat = measure_latency(model, xb, repeats=cfg.latency_repeats, threads=cfg.threads)
        for name, (m, dt) in variants.items():
            try:
                acc = _acc(m, data["test"], dtype=dt)
                lat = measure_latency(m, xb.to(dt) if dt else xb, repeats=cfg.latency_repeats, threads=cfg.threads)
            except (RuntimeError, NotImplementedError) as e:  # e.g. an op without a CPU half kernel
                run.log(0, **{f"{kind}_{name}_unsupported": 1.0})
                rows.append((kind, name, float("nan"), model_size_bytes(m) / 1e6, float("nan"), str(e).splitlines()[0][:60]))
                continue
            size = model_size_bytes(m)
            metrics[f"{kind}_acc_{name}"] = acc
            metrics[f"{kind}_mb_{name}"] = size / 1e6
            metrics[f"{kind}_latency_ms_{name}"] = lat * 1e3
            if name != "fp32":
                metrics[f"{kind}_size_ratio_{name}"] = base_size / size
                metrics[f"{kind}_speedup_{name}"] = base_lat / lat
                metrics[f"{kind}_acc_drop_{name}"] = base_acc - acc
            rows.append((kind, name, acc, size / 1e6, lat * 1e3, ""))
        metrics[f"{kind}_fp32_acc"] = base_acc
    table = [f"# Quantisation ({cfg.dataset}, engine {engine}, latency: batch {cfg.latency_batch}, "
             f"{cfg.threads or torch.get_num_threads()} thread(s), median of {cfg.latency_repeats})", "",
             "| model | variant | test acc | MB | ms / batch | note |", "|---|---|---|---|---|---|"]
    for kind, name, acc, mb, ms, note in rows:
        table.append(f"| {kind} | {name} | {acc:.4f} | {mb:.3f} | {ms:.2f} | {note} |")
    (run.out / "table.md").write_text("\n".join(table) + "\n")
    _bar_figure(run, rows)
    return metrics


def _bar_figure(run: Run, rows) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    for ax, col, label in zip(axes, (3, 4, 2), ("MB", "ms / batch", "test accuracy")):
        for kind, off in (("mlp", -0.2), ("cnn", 0.2)):
            sel = [r for r in rows if r[0] == kind]
            ax.bar([i + off for i in range(len(sel))], [r[col] for r in sel], width=0.4, label=kind)
            ax.set_xticks(range(len(sel)), [r[1] for r in sel], rotation=30)
        ax.set_ylabel(label)
    axes[0].legend(frameon=False)
    fig.tight_layout()
    run.save_figure("quantization", fig)


# ------------------------------------------------------------------------ pruning and clustering
@dataclass
class PruneConfig:
    dataset: str = param("digits", choices=("digits", "mnist", "fashion-mnist"))
    hidden: tuple[int, ...] = param((256, 256), ge=1, help="MLP hidden widths")
    cnn_widths: tuple[int, ...] = param((32, 64), ge=1)
    sparsities: tuple[float, ...] = param((0.5, 0.8, 0.9, 0.95), ge=0, lt=1,
                                          help="unstructured sparsities (fraction of weights removed)")
    channel_fracs: tuple[float, ...] = param((0.5, 0.75), ge=0, lt=1, help="fractions of channels removed")
    bits: tuple[int, ...] = param((1, 2, 3, 4, 5, 6, 8), ge=1, le=16, help="clustering bits per weight")
    epochs: int = param(6, ge=1, help="dense training epochs")
    finetune_epochs: int = param(3, ge=0, help="fine-tuning epochs after one-shot pruning (masks held)")
    gradual_epochs: int = param(10, ge=1, help="epochs of the gradual-pruning run (Zhu & Gupta schedule)")
    gradual_target: float = param(0.8, ge=0, lt=1)
    scope: str = param("global", choices=("layer", "global"),
                       help="one threshold for all layers, or one per layer (layer-wise guts the CNN's small first conv)")
    lr: float = param(1e-3, gt=0)
    batch_size: int = param(64, ge=1)
    speed_width: int = param(1024, ge=16, help="square Linear layer timed dense vs CSR sparse")
    latency_batch: int = param(64, ge=1)
    latency_repeats: int = param(20, ge=1)
    threads: int = param(1, ge=0)


@experiment(
    name="pruning-and-clustering", module="9", title="Pruning (unstructured, structured, gradual) and weight clustering",
    paper=Reference("Han et al. 2015 (LeNet-300-100: 12x fewer weights, no accuracy loss); Li et al. 2017; "
                    "Zhu & Gupta 2017; Han et al. 2016 (clustering: 4-5 bits lose nothing)", {}),
    quick=PruneConfig(),
    full=PruneConfig(dataset="fashion-mnist", hidden=(1024, 1024), cnn_widths=(32, 64), channel_fracs=(0.25, 0.5, 0.75),
                     sparsities=(0.5, 0.8, 0.9, 0.95, 0.98), epochs=10, finetune_epochs=3, gradual_epochs=10,
                     gradual_target=0.9, batch_size=128, speed_width=4096, latency_repeats=50),
    floor={"mlp_acc_drop_unstructured_0.8": at_most(0.025), "cnn_acc_drop_unstructured_0.9": at_most(0.02),
           "cnn_acc_drop_channels_0.5": at_most(0.05), "gradual_acc_drop": at_most(0.03),
           "gradual_sparsity": 0.79, "cluster_acc_drop_4bit": at_most(0.015), "cluster_ratio_4bit": 7.0,
           "structured_same_function": 1.0},
    primary="mlp_acc_drop_unstructured_0.8",
)
def pruning_and_clustering(cfg: PruneConfig, run: Run) -> dict[str, float]:
    """Accuracy vs sparsity for global unstructured magnitude pruning and for L1 channel pruning (both with
    masked fine-tuning), a gradual-pruning run, accuracy vs bits for k-means weight clustering, and the
    measured latency of dense vs CSR-sparse vs channel-shrunk models."""
    import copy

    from .clustering import cluster_model, compressed_bits, dense_bits
    from .pruning import (GradualPruning, MaskCallback, channel_prune, layer_sparsity, magnitude_prune,
                          shrink_sequential, sparsity, to_sparse)
    from .quantization import QuantCNN, QuantMLP, measure_latency

    data, (c, s) = load_image_data(cfg.dataset, run, val=5000, seed=run.seed)
    m: dict[str, float] = {}
    curves: dict[str, dict[str, list]] = {}
    train = partial(_train, data=data, lr=cfg.lr, batch_size=cfg.batch_size, seed=run.seed)
    with _threads(cfg.threads):
        dense = {}
        for kind in ("mlp", "cnn"):
            torch.manual_seed(run.seed)
            net = QuantMLP(c * s * s, cfg.hidden, 10) if kind == "mlp" else QuantCNN(c, s, cfg.cnn_widths, 10, 128)
            train(net, epochs=cfg.epochs)
            dense[kind] = net
            base = _acc(net, data["test"])
            m[f"{kind}_dense_acc"] = base
            curves[kind] = {"unstructured": [], "channels": []}
            for sp in cfg.sparsities:
                pruned = copy.deepcopy(net)
                masks = magnitude_prune(pruned, sp, scope=cfg.scope)
                before = _acc(pruned, data["test"])
                if cfg.finetune_epochs:
                    train(pruned, epochs=cfg.finetune_epochs, callbacks=[MaskCallback(pruned, masks)])
                acc = _acc(pruned, data["test"])
                m[f"{kind}_acc_unstructured_{sp:g}"] = acc
                m[f"{kind}_acc_drop_unstructured_{sp:g}"] = base - acc
                m[f"{kind}_acc_noft_unstructured_{sp:g}"] = before
                m[f"{kind}_measured_sparsity_{sp:g}"] = sparsity(pruned)
                curves[kind]["unstructured"].append((sp, acc))
                run.log(int(sp * 1000), **{f"{kind}/acc_unstructured": acc})
                if sp == 0.9:  # layer-wise vs global at the same overall sparsity, without fine-tuning
                    for scope in ("layer", "global"):
                        other = copy.deepcopy(net)
                        omasks = magnitude_prune(other, sp, scope=scope)
                        m[f"{kind}_acc_noft_{scope}_0.9"] = _acc(other, data["test"])
                        if scope == "global":
                            for name, v in layer_sparsity(other, omasks).items():
                                m[f"{kind}_global_layer_sparsity_{name}"] = v
            for frac in cfg.channel_fracs:
                pruned = copy.deepcopy(net)
                masks = channel_prune(pruned, frac)
                if cfg.finetune_epochs:
                    train(pruned, epochs=cfg.finetune_epochs, callbacks=[MaskCallback(pruned, masks)])
                acc = _acc(pruned, data["test"])
                small = shrink_sequential(pruned, masks).eval()
                m[f"{kind}_acc_channels_{frac:g}"] = acc
                m[f"{kind}_acc_drop_channels_{frac:g}"] = base - acc
                m[f"{kind}_params_ratio_channels_{frac:g}"] = sum(p.numel() for p in net.parameters()) / sum(
                    p.numel() for p in small.parameters())
                if frac == 0.5:
                    with torch.no_grad():
                        xt = data["test"][0][:256]
                        same = torch.allclose(pruned.eval()(xt), small(xt), atol=1e-4)
                    m[f"{kind}_structured_same_function"] = float(same)
                    xb = data["test"][0][:cfg.latency_batch]
                    m[f"{kind}_latency_ms_dense"] = 1e3 * measure_latency(net, xb, repeats=cfg.latency_repeats,
                                                                          threads=cfg.threads)
                    m[f"{kind}_latency_ms_channels_0.5"] = 1e3 * measure_latency(small, xb, repeats=cfg.latency_repeats,
                                                                                 threads=cfg.threads)
                    m[f"{kind}_speedup_channels_0.5"] = m[f"{kind}_latency_ms_dense"] / m[f"{kind}_latency_ms_channels_0.5"]
                curves[kind]["channels"].append((frac, acc))
        m["structured_same_function"] = min(m["mlp_structured_same_function"], m["cnn_structured_same_function"])

        # gradual pruning during training (Zhu & Gupta 2017) of a fresh MLP
        torch.manual_seed(run.seed)
        g_net = QuantMLP(c * s * s, cfg.hidden, 10)
        steps_per_epoch = math.ceil(len(data["train"][0]) / cfg.batch_size)
        total = cfg.gradual_epochs * steps_per_epoch
        # prune from 10% to 60% of training, then let the survivors recover
        sched = GradualPruning(g_net, cfg.gradual_target, begin=total // 10, end=(3 * total) // 5,
                               every=max(1, total // 50), scope="global")
        train(g_net, epochs=cfg.gradual_epochs, callbacks=[sched])
        m["gradual_sparsity"] = sparsity(g_net)
        m["gradual_acc"] = _acc(g_net, data["test"])
        m["gradual_acc_drop"] = m["mlp_dense_acc"] - m["gradual_acc"]

        # clustering: accuracy vs bits, no fine-tuning
        bits_curve = []
        for b in cfg.bits:
            net = copy.deepcopy(dense["mlp"])
            books = cluster_model(net, b)
            acc = _acc(net, data["test"])
            ratio = dense_bits(net) / compressed_bits(net, books)
            m[f"cluster_acc_{b}bit"] = acc
            m[f"cluster_acc_drop_{b}bit"] = m["mlp_dense_acc"] - acc
            m[f"cluster_ratio_{b}bit"] = ratio
            bits_curve.append((b, acc, ratio))

        # speed: is the unstructured sparse model faster? a square layer, dense vs CSR
        speed = []
        w = cfg.speed_width
        x = torch.randn(cfg.latency_batch, w)
        lin = nn.Linear(w, w)
        t_dense = measure_latency(lin, x, repeats=cfg.latency_repeats, threads=cfg.threads)
        for sp in (0.5, 0.9, 0.95, 0.99):
            layer = copy.deepcopy(lin)
            magnitude_prune(layer, sp)
            t_sparse = measure_latency(to_sparse(nn.Sequential(layer)), x, repeats=cfg.latency_repeats,
                                       threads=cfg.threads)
            m[f"csr_speedup_{sp:g}"] = t_dense / t_sparse
            speed.append((sp, t_dense * 1e3, t_sparse * 1e3))
        sp_mlp = to_sparse(_pruned_copy(dense["mlp"], 0.9))
        xb = data["test"][0][:cfg.latency_batch]
        m["mlp_latency_ms_csr_0.9"] = 1e3 * measure_latency(sp_mlp, xb, repeats=cfg.latency_repeats, threads=cfg.threads)
        m["mlp_speedup_csr_0.9"] = m["mlp_latency_ms_dense"] / m["mlp_latency_ms_csr_0.9"]

    lines = ["# Pruning and clustering", "", f"dataset {cfg.dataset}; dense test accuracy MLP "
             f"{m['mlp_dense_acc']:.4f}, CNN {m['cnn_dense_acc']:.4f}", "",
             "| model | method | amount | test acc |", "|---|---|---|---|"]
    for kind in ("mlp", "cnn"):
        for method, pts in curves[kind].items():
            lines += [f"| {kind} | {method} | {a:g} | {acc:.4f} |" for a, acc in pts]
    lines += ["", "| bits | test acc | compression |", "|---|---|---|"]
    lines += [f"| {b} | {acc:.4f} | {r:.1f}x |" for b, acc, r in bits_curve]
    lines += ["", f"Latency of a {w}x{w} Linear at batch {cfg.latency_batch} (ms, median):", "",
              "| sparsity | dense | CSR sparse | speedup |", "|---|---|---|---|"]
    lines += [f"| {sp:g} | {d:.3f} | {t:.3f} | {d / t:.2f}x |" for sp, d, t in speed]
    lines += ["", f"MLP at batch {cfg.latency_batch}: dense {m['mlp_latency_ms_dense']:.3f} ms, 90% CSR "
              f"{m['mlp_latency_ms_csr_0.9']:.3f} ms, half the channels removed {m['mlp_latency_ms_channels_0.5']:.3f} ms; "
              f"CNN dense {m['cnn_latency_ms_dense']:.3f} ms, half the channels {m['cnn_latency_ms_channels_0.5']:.3f} ms."]
    (run.out / "table.md").write_text("\n".join(lines) + "\n")
    _prune_figures(run, curves, bits_curve, m)
    return m


def _pruned_copy(net: nn.Module, sp: float) -> nn.Module:
    import copy

    from .pruning import magnitude_prune

    net = copy.deepcopy(net)
    magnitude_prune(net, sp, scope="global")
    return net


def _prune_figures(run: Run, curves, bits_curve, m) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for kind in ("mlp", "cnn"):
        for method, style in (("unstructured", "-o"), ("channels", "--s")):
            pts = curves[kind][method]
            axes[0].plot([a for a, _ in pts], [acc for _, acc in pts], style, label=f"{kind} {method}")
        axes[0].axhline(m[f"{kind}_dense_acc"], color="gray", lw=0.8)
    axes[0].set_xlabel("fraction removed (weights or channels)")
    axes[0].set_ylabel("test accuracy")
    axes[0].legend(frameon=False, fontsize=8)
    axes[1].plot([b for b, _, _ in bits_curve], [a for _, a, _ in bits_curve], "-o")
    axes[1].axhline(m["mlp_dense_acc"], color="gray", lw=0.8, label="fp32")
    axes[1].set_xlabel("bits per weight (k = 2^bits clusters)")
    axes[1].set_ylabel("test accuracy (MLP)")
    axes[1].legend(frameon=False)
    fig.tight_layout()
    run.save_figure("pruning_and_clustering", fig)


# ------------------------------------------------------------------------------- lottery ticket
@dataclass
class LotteryConfig:
    dataset: str = param("digits", choices=("digits", "mnist", "fashion-mnist"))
    hidden: tuple[int, ...] = param((100, 50), ge=1, help="the two hidden widths (LeNet-300-100: 300,100)")
    iterations: int = param(400, ge=1, help="training iterations per run (paper: 50,000)")
    batch_size: int = param(100, ge=1, help="paper: 60")
    lr: float = param(2.4e-3, gt=0, help="Adam learning rate (paper: 1.2e-3)")
    rate: float = param(0.6, gt=0, lt=1, help="fraction of each hidden layer pruned per round (output: half)")
    rounds: int = param(3, ge=1)
    trials: int = param(1, ge=1, help="independent initialisations (paper: 5)")
    eval_every: int = param(20, ge=1)
    reset: str = param("init", choices=("init", "rewind"))
    rewind_iter: int = param(0, ge=0, help="k for reset=rewind")
    val: int = param(5000, ge=1, help="validation images held out of MNIST's training split")
    threads: int = param(1, ge=0)


def _lottery(cfg: LotteryConfig, run: Run, make_model, data, title: str, conv_rate: float | None = None) -> dict[str, float]:
    from .lottery import iterative_magnitude_pruning, layer_rates, train_masked
    from .pruning import prunable_weights

    per_trial = []
    for trial in range(cfg.trials):
        seed = run.seed * 1000 + trial

        def mk(seed=seed):
            torch.manual_seed(seed)
            return make_model()

        rates = layer_rates(mk(), cfg.rate)
        if conv_rate is not None:
            for k, mod_w in prunable_weights(mk()).items():
                if mod_w.dim() == 4:
                    rates[k] = conv_rate
        train = partial(train_masked, data=data, iterations=cfg.iterations, batch_size=cfg.batch_size, lr=cfg.lr,
                        eval_every=cfg.eval_every, seed=seed)

        def log(r, trial=trial):
            rec = {f"trial{trial}/remaining": r.remaining, f"trial{trial}/ticket_acc": r.ticket.test_acc,
                   f"trial{trial}/ticket_stop": r.ticket.early_stop_iter}
            if r.control is not None:
                rec.update({f"trial{trial}/control_acc": r.control.test_acc,
                            f"trial{trial}/control_stop": r.control.early_stop_iter})
            run.log(r.round, **rec)

        with _threads(cfg.threads):
            per_trial.append(iterative_magnitude_pruning(mk, train, rounds=cfg.rounds, rate=rates, reset=cfg.reset,
                                                         rewind_iter=cfg.rewind_iter, seed=seed, callback=log))
    return _lottery_summary(cfg, run, per_trial, title)


def _lottery_summary(cfg, run: Run, per_trial, title: str) -> dict[str, float]:
    import numpy as np

    rounds = len(per_trial[0])
    rem = [per_trial[0][r].remaining for r in range(rounds)]

    def stat(r, who, field):
        vals = [getattr(getattr(t[r], who), field) for t in per_trial if getattr(t[r], who) is not None]
        return float(np.mean(vals)), float(np.std(vals))

    m: dict[str, float] = {}
    dense_acc = stat(0, "ticket", "test_acc")[0]
    m["dense_acc"] = dense_acc
    m["dense_stop_iter"] = stat(0, "ticket", "early_stop_iter")[0]
    lines = [f"# {title}", "", f"{cfg.trials} trial(s), {cfg.iterations} iterations per run, reset={cfg.reset}"
             + (f" (k={cfg.rewind_iter})" if cfg.reset == "rewind" else ""), "",
             "| weights remaining | ticket test acc | control test acc | ticket early-stop iter | control early-stop iter |",
             "|---|---|---|---|---|"]
    gaps, stop_ratios = [], []
    for r in range(rounds):
        ta, ts = stat(r, "ticket", "test_acc")
        ti, _ = stat(r, "ticket", "early_stop_iter")
        if r == 0:
            lines.append(f"| 100% | {ta:.4f} ± {ts:.4f} | - | {ti:.0f} | - |")
            continue
        ca, cs = stat(r, "control", "test_acc")
        ci, _ = stat(r, "control", "early_stop_iter")
        pct = f"{100 * rem[r]:.1f}"
        m[f"ticket_acc_{pct}"] = ta
        m[f"control_acc_{pct}"] = ca
        m[f"ticket_stop_{pct}"] = ti
        m[f"control_stop_{pct}"] = ci
        gaps.append(ta - ca)
        stop_ratios.append(ci / ti)
        lines.append(f"| {pct}% | {ta:.4f} ± {ts:.4f} | {ca:.4f} ± {cs:.4f} | {ti:.0f} | {ci:.0f} |")
    # the sparsest ticket that is still within 0.3 points of dense, and the round closest to 20% remaining
    near20 = min(range(1, rounds), key=lambda r: abs(rem[r] - 0.2))
    m["remaining_near_20"] = rem[near20]
    m["ticket_minus_dense_near_20"] = stat(near20, "ticket", "test_acc")[0] - dense_acc
    m["ticket_minus_control_near_20"] = gaps[near20 - 1]
    m["mean_ticket_minus_control"] = float(np.mean(gaps))
    m["mean_control_over_ticket_stop_iter"] = float(np.mean(stop_ratios))
    m["sparsest_remaining"] = rem[-1]
    m["ticket_minus_control_sparsest"] = gaps[-1]
    matching = [rem[r] for r in range(1, rounds) if stat(r, "ticket", "test_acc")[0] >= dense_acc - 0.003]
    m["smallest_matching_remaining"] = min(matching) if matching else 1.0
    (run.out / "table.md").write_text("\n".join(lines) + "\n")
    _lottery_figure(run, per_trial, rem, title)
    return m


def _lottery_figure(run: Run, per_trial, rem, title: str) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    x = [100 * r for r in rem]
    for ax, field, label in ((axes[0], "early_stop_iter", "early-stop iteration"), (axes[1], "test_acc", "test accuracy")):
        for who, style, name in (("ticket", "-o", "winning ticket"), ("control", "--s", "random reinit")):
            rs = range(len(rem)) if who == "ticket" else range(1, len(rem))
            ys = [np.array([getattr(getattr(t[r], who), field) for t in per_trial]) for r in rs]
            ax.errorbar([x[r] for r in rs], [y.mean() for y in ys], yerr=[y.std() for y in ys], fmt=style,
                        capsize=2, label=name)
        ax.set_xscale("log")
        ax.set_xticks(x, [f"{v:.3g}" for v in x], fontsize=7)
        ax.minorticks_off()
        ax.invert_xaxis()
        ax.set_xlabel("percent of weights remaining")
        ax.set_ylabel(label)
    axes[1].legend(frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    run.save_figure("lottery_ticket", fig)


@experiment(
    name="lottery-ticket-mnist", module="9", showcase=("lottery_ticket",), title="Lottery ticket: LeNet-300-100, winning tickets vs random reinit",
    paper=Reference("Frankle & Carbin 2019, Figures 1 and 3 (LeNet on MNIST: tickets at 21% of the weights stop "
                    "earlier and are at least as accurate as the dense net; random reinit trains slower and ends below)",
                    {}),
    quick=LotteryConfig(),
    # the paper's recipe: 50K iterations, batch 60, Adam 1.2e-3, 20% per round (output layer 10%),
    # 17 rounds to ~2.5% of the weights, 5 trials
    full=LotteryConfig(dataset="mnist", hidden=(300, 100), iterations=50_000, batch_size=60, lr=1.2e-3, rate=0.2,
                       rounds=17, trials=5, eval_every=500),
    # seeds 0-3 of the quick preset: mean ticket - control 0.0046..0.0084, ticket - dense at 17% -0.006..+0.003,
    # control / ticket early-stop iteration 1.0..1.16 (400 iterations are too few to show the speed-up well)
    floor={"ticket_minus_dense_near_20": at_least(-0.015), "mean_ticket_minus_control": 0.002,
           "mean_control_over_ticket_stop_iter": 0.9, "dense_acc": 0.93},
    primary="mean_ticket_minus_control",
)
def lottery_ticket_mnist(cfg: LotteryConfig, run: Run) -> dict[str, float]:
    """Iterative magnitude pruning of LeNet-300-100 (64-in on the quick digits) with reset to theta_0 (or
    rewind to theta_k): early-stop iteration and test accuracy per sparsity, tickets vs random reinit."""
    from deepcourse.cnn import LeNet300100

    data, (c, s) = load_image_data(cfg.dataset, run, val=cfg.val, seed=run.seed)
    if len(cfg.hidden) != 2:
        raise ValueError(f"hidden must be two widths for LeNet-300-100 (got {cfg.hidden})")
    data = {k: (x.flatten(1), y) for k, (x, y) in data.items()}  # (N, C*H*W)
    return _lottery(cfg, run, lambda: LeNet300100(10, c, s, hidden=tuple(cfg.hidden)), data,
                    f"Lottery ticket, LeNet-{cfg.hidden[0]}-{cfg.hidden[1]} on {cfg.dataset}")


@dataclass
class LotteryConvConfig(LotteryConfig):
    dataset: str = param("digits", choices=("digits", "cifar10-jpeg"))
    blocks: int = param(1, ge=1, le=3, help="1, 2, 3: Conv-2, Conv-4, Conv-6")
    width: int = param(16, ge=1, help="channels of the first conv pair (paper: 64)")
    fc_hidden: int = param(64, ge=1, help="fully connected width (paper: 256)")
    conv_rate: float = param(0.1, gt=0, lt=1, help="fraction of conv weights pruned per round (paper: 10-15%)")
    device: str = param("auto", choices=("auto", "cpu"), help="auto: the run's device (GPU if lent)")


@experiment(
    name="lottery-ticket-conv", module="9", title="Lottery ticket: Conv-2/4/6 on CIFAR-10",
    paper=Reference("Frankle & Carbin 2019, Figure 5 (Conv-2/4/6: tickets reach higher accuracy than the dense "
                    "nets down to ~10-20% of the weights; random reinit falls below)", {}),
    quick=LotteryConvConfig(iterations=400, rate=0.4, conv_rate=0.2, rounds=3),
    # Conv-2 recipe: Adam 2e-4, batch 60, 20K iterations, fc 20% / conv 10% per round; GPU recommended
    full=LotteryConvConfig(dataset="cifar10-jpeg", blocks=1, width=64, fc_hidden=256, iterations=20_000,
                           batch_size=60, lr=2e-4, rate=0.2, conv_rate=0.1, rounds=12, trials=2, eval_every=500),
    # seeds 0-3 at width 16: control / ticket early-stop iteration 1.26..2.0, mean ticket - control 0.0..0.011
    floor={"mean_control_over_ticket_stop_iter": 1.1, "mean_ticket_minus_control": -0.005, "dense_acc": 0.9},
    primary="mean_control_over_ticket_stop_iter",
)
def lottery_ticket_conv(cfg: LotteryConvConfig, run: Run) -> dict[str, float]:
    """Iterative magnitude pruning of Conv-2/4/6 (a narrow Conv-2 on 8x8 digits in the quick preset)."""
    from deepcourse.cnn import ConvNet

    data, (c, s) = load_image_data(cfg.dataset, run, val=cfg.val, seed=run.seed)
    dev = run.device if cfg.device == "auto" else torch.device("cpu")
    data = {k: (x.to(dev), y.to(dev)) for k, (x, y) in data.items()}
    make = lambda: ConvNet(cfg.blocks, 10, c, s, width=cfg.width, hidden=cfg.fc_hidden).to(dev)  # noqa: E731
    return _lottery(cfg, run, make, data, f"Lottery ticket, Conv-{2 * cfg.blocks} on {cfg.dataset}",
                    conv_rate=cfg.conv_rate)


# ----------------------------------------------------------------------------------------- HPO
@dataclass
class MLPTrialConfig:
    """What one HPO trial trains; the search space is declared from these fields' bounds."""
    lr: float = param(1e-3, ge=1e-4, le=1e-1, help="Adam learning rate")
    width: int = param(128, ge=16, le=256, help="hidden units per layer")
    depth: int = param(2, ge=1, le=3, help="hidden layers")
    dropout: float = param(0.1, ge=0.0, le=0.5)
    weight_decay: float = param(1e-5, ge=1e-6, le=1e-2)
    epochs: int = param(5, ge=1)
    batch_size: int = param(64, ge=1)


HPO_FIELDS = {"lr": "log", "width": "log", "depth": None, "dropout": None, "weight_decay": "log"}


def mlp_objective_factory(dataset: str = "digits", epochs: int = 5, batch_size: int = 64, seed: int = 0,
                          data_root: str | None = None, train_limit: int = 0, threads: int = 1):
    """``(objective(trial) -> best validation accuracy, space)`` for an MLP on ``dataset``. Each epoch's
    validation accuracy is reported to the pruner; the test accuracy at the best epoch is stored as a
    user attribute (never used for selection). Importable, so worker processes can rebuild it."""
    import optuna

    from .hpo import space_from_config, suggest_config
    from .quantization import QuantMLP

    class _R:  # the part of Run that load_image_data reads
        pass

    r = _R()
    r.data_root = data_root
    data, (c, s) = load_image_data(dataset, r, val=5000, seed=seed, train_limit=train_limit)
    data = {k: (x.flatten(1), y) for k, (x, y) in data.items()}  # (N, C*H*W)
    base = MLPTrialConfig(epochs=epochs, batch_size=batch_size)
    space = space_from_config(MLPTrialConfig, HPO_FIELDS)

    def objective(trial) -> float:
        cfg = suggest_config(trial, base, space)
        with _threads(threads):
            torch.manual_seed(seed + trial.number)
            model = QuantMLP(c * s * s, (cfg.width,) * cfg.depth, 10, dropout=cfg.dropout)
            opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
            x, y = data["train"]
            g = torch.Generator().manual_seed(seed + trial.number)
            best = (-1.0, 0.0)
            for epoch in range(cfg.epochs):
                model.train()
                for idx in torch.randperm(len(x), generator=g).split(cfg.batch_size):
                    loss = F.cross_entropy(model(x[idx]), y[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                val = _acc(model, data["val"])
                if not math.isfinite(loss.item()):
                    val = 0.0
                if val > best[0]:
                    best = (val, _acc(model, data["test"]))
                trial.report(val, epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        trial.set_user_attr("test_acc", best[1])
        trial.set_user_attr("pid", os.getpid())
        return best[0]

    return objective, space


@dataclass
class HPOConfig:
    dataset: str = param("digits", choices=("digits", "fashion-mnist", "mnist"))
    samplers: tuple[str, ...] = param(("grid", "random", "tpe", "gp"), help="any of grid, random, tpe, gp")
    trials: int = param(8, ge=2, help="finished trials per study")
    seeds: int = param(1, ge=1, help="studies per sampler (curves are averaged)")
    epochs: int = param(3, ge=1, help="epochs per trial (one pruner step each)")
    batch_size: int = param(128, ge=1)
    train_limit: int = param(0, ge=0, help="training images per trial (0: all); keeps Fashion trials cheap")
    startup_trials: int = param(3, ge=1, help="random trials before TPE/GP model the objective")
    grid_per_dim: int = param(3, ge=2)
    pruner: str = param("median", choices=("median", "none"))
    workers: int = param(0, ge=0, help=">= 2: also run one TPE study shared by this many worker processes")
    toy_seeds: int = param(20, ge=1, help="repetitions of the grid-vs-random illustration")
    threads: int = param(1, ge=0)


@experiment(
    name="hpo", module="9", title="Hyper-parameter optimisation: grid vs random vs TPE vs GP (Optuna)",
    paper=Reference("Bergstra & Bengio 2012 (random beats grid when few parameters matter); Bergstra et al. 2011 "
                    "(TPE); Akiba et al. 2019 (Optuna)", {}),
    quick=HPOConfig(),
    full=HPOConfig(dataset="fashion-mnist", trials=30, seeds=2, epochs=4, batch_size=128, train_limit=10_000,
                   startup_trials=8, workers=2),
    floor={"best_minus_median": 0.01, "tpe_best_val": 0.9, "random_minus_grid_toy": 0.05,
           "random_distinct_x_toy": 9.0},
    primary="tpe_best_val",
)
def hpo(cfg: HPOConfig, run: Run) -> dict[str, float]:
    """Tune lr, width, depth, dropout and weight decay of an MLP with four samplers and the median pruner
    (SQLite storage in the run folder: a killed run resumes with --resume); plot best-so-far vs trials; the
    grid-vs-random toy with one important and one unimportant parameter."""
    import numpy as np

    from .hpo import (best_so_far, finished_trials, grid_vs_random, make_pruner, make_sampler, open_study, optimize,
                      require_optuna, run_workers, sqlite_url)

    optuna = require_optuna()
    bad = [n for n in cfg.samplers if n not in ("grid", "random", "tpe", "gp")]
    if bad or not cfg.samplers:
        raise ValueError(f"samplers must be a non-empty subset of grid, random, tpe, gp (got {cfg.samplers})")
    db = run.out / "study.db"
    if not run.resume and db.exists():
        db.unlink()  # a fresh run starts fresh studies; --resume continues the ones on disk
    storage = sqlite_url(db)
    data_root = str(run.data_root) if run.data_root else None
    objective, space = mlp_objective_factory(cfg.dataset, cfg.epochs, cfg.batch_size, run.seed, data_root,
                                             cfg.train_limit, cfg.threads)
    m: dict[str, float] = {}
    curves: dict[str, list[list[float]]] = {}
    all_values = []
    for name in cfg.samplers:
        curves[name] = []
        for s in range(cfg.seeds):
            seed = run.seed * 100 + s
            study = open_study(f"{name}-seed{seed}", storage, pruner=make_pruner(cfg.pruner))
            study.sampler = make_sampler(name, seed=seed + len(study.trials), space=space,
                                         grid_per_dim=cfg.grid_per_dim, n_startup_trials=cfg.startup_trials)
            optimize(study, objective, cfg.trials)
            done = finished_trials(study)
            values = [t.value if t.state == optuna.trial.TrialState.COMPLETE else float("nan") for t in done]
            curves[name].append(best_so_far(values)[:cfg.trials])
            complete = [t for t in done if t.state == optuna.trial.TrialState.COMPLETE]
            all_values += [t.value for t in complete]
            best = max(complete, key=lambda t: t.value)
            m.setdefault(f"{name}_best_val", 0.0)
            m[f"{name}_best_val"] += best.value / cfg.seeds
            m.setdefault(f"{name}_best_test", 0.0)
            m[f"{name}_best_test"] += best.user_attrs["test_acc"] / cfg.seeds
            m.setdefault(f"{name}_pruned_frac", 0.0)
            m[f"{name}_pruned_frac"] += (len(done) - len(complete)) / len(done) / cfg.seeds
            m.setdefault(f"{name}_median_val", 0.0)
            m[f"{name}_median_val"] += float(np.median([t.value for t in complete])) / cfg.seeds
            if s == 0:
                run.log(0, **{f"{name}/best_{k}": v for k, v in best.params.items() if isinstance(v, (int, float))})
    m["median_trial_val"] = float(np.median(all_values))
    m["best_minus_median"] = max(m[f"{n}_best_val"] for n in cfg.samplers) - m["median_trial_val"]
    if cfg.workers >= 2:
        study_name = "tpe-shared"
        kw = dict(dataset=cfg.dataset, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=run.seed,
                  data_root=data_root, train_limit=cfg.train_limit, threads=cfg.threads)
        codes = run_workers(cfg.workers, storage, study_name, "deepcourse.optimization.experiments_b:mlp_objective_factory",
                            cfg.trials, sampler="tpe", seed=run.seed, kwargs=kw, pruner=cfg.pruner)
        shared = optuna.load_study(study_name=study_name, storage=storage)
        done = finished_trials(shared)
        m["shared_workers_ok"] = float(all(c == 0 for c in codes))
        m["shared_trials"] = float(len(done))
        m["shared_distinct_pids"] = float(len({t.user_attrs["pid"] for t in done if "pid" in t.user_attrs}))
        m["shared_best_val"] = max(t.value for t in done if t.value is not None)
    toy = grid_vs_random(9, range(cfg.toy_seeds))
    m["grid_best_toy"], m["random_best_toy"] = toy["grid_best_mean"], toy["random_best_mean"]
    m["random_minus_grid_toy"] = toy["random_best_mean"] - toy["grid_best_mean"]
    m["grid_distinct_x_toy"], m["random_distinct_x_toy"] = toy["grid_distinct_x"], toy["random_distinct_x"]
    _hpo_figures(run, curves, cfg)
    lines = ["# HPO", "", f"{cfg.dataset}, {cfg.trials} trials x {cfg.seeds} seed(s), pruner {cfg.pruner}; "
             f"storage {storage}", "", "| sampler | best val acc | test acc of best | median trial val | pruned |",
             "|---|---|---|---|---|"]
    lines += [f"| {n} | {m[f'{n}_best_val']:.4f} | {m[f'{n}_best_test']:.4f} | {m[f'{n}_median_val']:.4f} | "
              f"{m[f'{n}_pruned_frac']:.2f} |" for n in cfg.samplers]
    lines += ["", f"Grid vs random (9 trials, f = narrow bump in x + small ripple in y, {cfg.toy_seeds} repeats): "
              f"best {toy['grid_best_mean']:.3f} vs {toy['random_best_mean']:.3f}; distinct x tried "
              f"{toy['grid_distinct_x']:.0f} vs {toy['random_distinct_x']:.0f}."]
    (run.out / "table.md").write_text("\n".join(lines) + "\n")
    return m


def _hpo_figures(run: Run, curves, cfg: HPOConfig) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, cs in curves.items():
        arr = np.array([np.pad(c, (0, cfg.trials - len(c)), mode="edge") for c in cs], dtype=float)
        ax.plot(range(1, cfg.trials + 1), np.nanmean(arr, 0), label=name)
    ax.set_xlabel("trial")
    ax.set_ylabel("best validation accuracy so far")
    ax.legend(frameon=False)
    run.save_figure("best_so_far", fig)

    from .hpo import _toy

    xs = np.linspace(0, 1, 200)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    side = 3
    grid = [(i / side + 1 / 6, j / side + 1 / 6) for i in range(side) for j in range(side)]
    rnd = np.random.default_rng(0).random((9, 2))
    for ax, pts, title in ((axes[0], grid, "grid: 3 distinct x"), (axes[1], rnd, "random: 9 distinct x")):
        X, Y = np.meshgrid(xs, xs)
        ax.contourf(X, Y, np.vectorize(_toy)(X, Y), levels=20, cmap="viridis")
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], c="w", edgecolors="k")
        ax.set_xlabel("important parameter x")
        ax.set_ylabel("unimportant parameter y")
        ax.set_title(title)
    fig.tight_layout()
    run.save_figure("grid_vs_random", fig)
