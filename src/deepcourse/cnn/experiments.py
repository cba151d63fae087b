"""Module 1.1 experiment ``cnn-cifar10``: train registered CNNs on an image-classification set and put
their test accuracy, parameters, FLOPs and measured throughput in one table.

Quick preset: a narrow ResNet-18 (width 8) on scikit-learn's 8x8 digits (embedded, always offline;
6-20 s on the shared 2-core development machine depending on its load, test accuracy 0.95-0.97 over
seeds 0-2). Full preset: ResNet-18, PreAct ResNet-18, SE-ResNet-18, MobileNet v2 and SE-MobileNet v2
on CIFAR-10 (JPEG copy) with the usual recipe: SGD with Nesterov momentum 0.9, weight decay 5e-4, a
one-cycle schedule (15 % linear warm-up, then cosine decay), random crops with padding 4 and horizontal
flips done on tensors. The epoch is chosen on a validation split held out of the training set; the
test split is evaluated once, at the end. Importing this module imports every CNN, which registers
them in the model registry.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from deepcourse.core import ConfigError, Reference, Run, experiment, param
from deepcourse.core.models import count_flops, count_parameters, get_model_entry, list_models

from . import densenet, generator, mobilenet, resnet, small, unet, wideresnet  # noqa: F401  (registers the models)
from .augment import cifar_augment
from .throughput import inference_throughput, train_throughput

DATASET_LABELS = {"digits": "scikit-learn digits (8x8)", "fashion-mnist": "Fashion-MNIST",
                  "cifar10-jpeg": "CIFAR-10 (JPEG copy)"}


@dataclass
class CnnConfig:
    model: str = param("resnet18", help="main model: any registered classifier (see deepcourse.core.list_models())")
    compare: tuple[str, ...] = param((), help="more registered classifiers trained with the same recipe, for the table")
    model_args: tuple[str, ...] = param((), help="key=value constructor arguments for every model, e.g. width=16")
    dataset: str = param("digits", choices=tuple(DATASET_LABELS), help="digits is embedded; the others need --data-dir")
    train_subset: int = param(0, ge=0, help="use only this many training images (0: all)")
    image_size: int = param(0, ge=0, help="resize images to this side with bilinear interpolation (0: native)")
    epochs: int = param(12, ge=1)
    batch_size: int = param(64, ge=1)
    optimizer: str = param("sgd", choices=("sgd", "adamw"), help="sgd: Nesterov momentum 0.9")
    lr: float = param(0.05, gt=0, help="peak learning rate of the cosine schedule")
    weight_decay: float = param(5e-4, ge=0)
    label_smoothing: float = param(0.0, ge=0, lt=1)
    augment: bool = param(True, help="random crop with zero padding (+ horizontal flip if flip)")
    crop_padding: int = param(1, ge=0)
    flip: bool = param(False, help="random horizontal flips (wrong for digits, right for CIFAR)")
    val_frac: float = param(0.1, gt=0, lt=1, help="part of the training split held out for model selection")
    amp: bool = param(False, help="bfloat16 autocast on CUDA (ignored on CPU)")
    channels_last: bool = param(False, help="NHWC memory format (faster convolutions on recent GPUs)")
    bench_batch: int = param(64, ge=1, help="batch size of the throughput measurement")
    bench_steps: int = param(3, ge=1, help="timed steps of the throughput measurement")
    threads: int = param(0, ge=0, help="torch CPU threads during the run (0: leave torch's setting)")


# threads=1: on 8x8 images with 8-64 channels each op is too small to split across cores, and on a
# shared 2-core machine OpenMP threads spin-waiting for each other made 2 threads 10-50x slower than 1
QUICK = CnnConfig(model_args=("width=8",), threads=1)
FULL = CnnConfig(model="resnet18", compare=("preact-resnet18", "se-resnet18", "mobilenet-v2", "se-mobilenet-v2"),
                 dataset="cifar10-jpeg", epochs=30, batch_size=128, lr=0.1, crop_padding=4, flip=True,
                 val_frac=0.1, amp=True, channels_last=True, bench_batch=256, bench_steps=20)


def _parse_model_args(items: tuple[str, ...]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"model_args entries must look like key=value (got {item!r})")
        k, v = (s.strip() for s in item.split("=", 1))
        for cast in (int, float):
            try:
                out[k] = cast(v)
                break
            except ValueError:
                continue
        else:
            out[k] = {"none": None, "true": True, "false": False}.get(v.lower(), v)
    return out


def classifier_models() -> list[str]:
    """Registered models whose constructor takes ``num_classes`` and ``in_channels``."""
    names = []
    for name in list_models():
        params = inspect.signature(get_model_entry(name).factory).parameters
        if "num_classes" in params and "in_channels" in params:
            names.append(name)
    return names


def build_classifier(name: str, num_classes: int, in_channels: int, image_size: int, **kwargs) -> torch.nn.Module:
    if name not in classifier_models():
        raise ConfigError(f"model must be a registered image classifier, one of {', '.join(classifier_models())} "
                          f"(got {name!r})")
    factory = get_model_entry(name).factory
    params = inspect.signature(factory).parameters
    if "image_size" in params:  # models with fully connected layers on the feature map need the input side
        kwargs["image_size"] = image_size
    try:
        return factory(num_classes=num_classes, in_channels=in_channels, **kwargs)
    except TypeError as e:
        raise ConfigError(f"model_args {kwargs} do not fit model {name!r}: {e}") from None


def load_data(cfg: CnnConfig, run: Run):
    """``(x_train, y_train, x_test, y_test, scale)``: images (N, C, H, W), uint8 or float, and the
    factor that maps pixels to [0, 1]. Raises DataMissingError (run reported as skipped) for real data."""
    if cfg.dataset == "digits":
        from deepcourse.data import load_sklearn, train_val_split

        x, y = load_sklearn("digits")  # (1797, 64), pixel values 0..16
        x = x.reshape(-1, 1, 8, 8)  # (N, 1, 8, 8)
        tr, te = train_val_split(len(x), 0.2, seed=0)  # fixed test split, the same for every run seed
        return x[tr], y[tr], x[te], y[te], 1.0 / 16
    from deepcourse.data import load_tensors

    x_tr, y_tr = load_tensors(cfg.dataset, "train", root=run.data_root)
    x_te, y_te = load_tensors(cfg.dataset, "test", root=run.data_root)
    if x_tr.dim() == 3:  # (N, 28, 28) -> (N, 1, 28, 28)
        x_tr, x_te = x_tr[:, None], x_te[:, None]
    return x_tr, y_tr, x_te, y_te, 1.0 / 255


def train_one(name: str, cfg: CnnConfig, run: Run, data: dict, index: int) -> dict:
    """Train one model with ``fit``; select the epoch on validation; evaluate on test once."""
    from deepcourse.core import EarlyStopping, Evaluate, TensorLoader, fit

    device = run.device
    x_tr, y_tr, x_val, y_val, x_te, y_te = (data[k] for k in ("x_tr", "y_tr", "x_val", "y_val", "x_te", "y_te"))
    c, side = data["channels"], data["side"]
    mean, std, scale = data["mean"].to(device), data["std"].to(device), data["scale"]
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    torch.manual_seed(run.seed * 1000 + index)  # each model's init independent of the models before it
    model = build_classifier(name, 10, c, side, **_parse_model_args(cfg.model_args)).to(device, memory_format=fmt)

    def prep(xb: Tensor, train: bool) -> Tensor:
        x = xb.float() * scale  # (B, C, H0, W0) in [0, 1]
        if cfg.image_size:
            x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)  # (B, C, side, side)
        if train and cfg.augment:
            x = cifar_augment(x, cfg.crop_padding, cfg.flip)  # pad with black before normalising, as torchvision does
        return ((x - mean) / std).contiguous(memory_format=fmt)

    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    loader = TensorLoader(x_tr, y_tr, batch_size=cfg.batch_size, shuffle=True, seed=run.seed + index, device=device)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * len(loader),
                                                pct_start=0.15, anneal_strategy="cos", cycle_momentum=False)  # warm-up, cosine decay

    def step(batch):
        xb, yb = batch
        return {"loss": F.cross_entropy(model(prep(xb, True)), yb, label_smoothing=cfg.label_smoothing)}

    def evaluate(xs: Tensor, ys: Tensor) -> dict[str, float]:
        model.eval()
        correct, loss = 0, 0.0
        with torch.no_grad():
            for i in range(0, len(xs), 1024):
                out = model(prep(xs[i:i + 1024].to(device), False)).float()
                yy = ys[i:i + 1024].to(device)
                loss += F.cross_entropy(out, yy, reduction="sum").item()
                correct += (out.argmax(1) == yy).sum().item()
        return {"loss": loss / len(xs), "acc": correct / len(xs)}

    best = EarlyStopping(monitor="val_acc", mode="max", patience=cfg.epochs + 1, restore_best=True)
    state = fit(step, loader, epochs=cfg.epochs, model=model, optimizer=opt, scheduler=sched, scheduler_interval="step",
                callbacks=[Evaluate(lambda: evaluate(x_val, y_val)), best], run=run,
                checkpoint_path=run.out / "checkpoints" / f"{name}.pt", log_prefix=f"{name}/",
                amp="bf16" if cfg.amp else False, desc=name)
    test = evaluate(x_te, y_te)  # the weights of the best validation epoch, restored by EarlyStopping
    shape = (c, side, side)
    flops = count_flops(model, torch.zeros(1, *shape, device=device).contiguous(memory_format=fmt))
    amp_dtype = torch.bfloat16 if cfg.amp and device.type == "cuda" else None
    train_ips = train_throughput(model, shape, 10, cfg.bench_batch, cfg.bench_steps, 1, device, cfg.channels_last,
                                 amp_dtype=amp_dtype)
    infer_ips = inference_throughput(model, shape, cfg.bench_batch, cfg.bench_steps, 1, device, cfg.channels_last)
    return {"model": name, "test_acc": test["acc"], "test_loss": test["loss"], "val_acc": float(best.best),
            "best_epoch": float(best.best_epoch), "params": float(count_parameters(model)), "flops": float(flops),
            "train_images_per_s": train_ips, "infer_images_per_s": infer_ips,
            "curve": [(h["epoch"], h["val_acc"]) for h in state.history if "val_acc" in h]}


def results_table(rows: list[dict], dataset_label: str, device: torch.device) -> str:
    lines = [f"Dataset: {dataset_label}; throughput measured on {device.type}"
             f"{' (' + torch.cuda.get_device_name(device) + ')' if device.type == 'cuda' else ''}.", "",
             "| model | test acc | val acc | params (M) | FLOPs / image (M) | train images/s | inference images/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['test_acc']:.4f} | {r['val_acc']:.4f} | {r['params'] / 1e6:.3f} | "
                     f"{r['flops'] / 1e6:.1f} | {r['train_images_per_s']:.0f} | {r['infer_images_per_s']:.0f} |")
    se = _se_pairs(rows)
    if se:
        lines += ["", "SE vs no SE (test accuracy, same recipe):", ""]
        lines += [f"- {with_se} vs {base}: {gain * 100:+.2f} points" for base, with_se, gain in se]
    return "\n".join(lines) + "\n"


def _se_pairs(rows: list[dict]) -> list[tuple[str, str, float]]:
    by_name = {r["model"]: r for r in rows}
    return [(n[3:], n, by_name[n]["test_acc"] - by_name[n[3:]]["test_acc"])
            for n in by_name if n.startswith("se-") and n[3:] in by_name]


@experiment(
    name="cnn-cifar10", module="1.1", title="CNN architectures compared: accuracy, size, FLOPs, speed",
    paper=Reference("He et al. 2016a/b; Hu et al. 2018; Sandler et al. 2018 (no CIFAR-10 ResNet-18 number is "
                    "published; the SE paper reports SE gains on ImageNet and CIFAR ResNets)", {}),
    quick=QUICK, full=FULL, floor={"test_acc": 0.9}, primary="test_acc",
)
def cnn_cifar10(cfg: CnnConfig, run: Run) -> dict[str, float]:
    """Train the main model and the compared ones with the same recipe; one table of test accuracy
    (epoch picked on validation), parameters, forward FLOPs and measured images/s; SE vs no SE."""
    from deepcourse.data import train_val_split
    from deepcourse.viz import line_plot, loss_curves

    names = [cfg.model, *[m for m in cfg.compare if m != cfg.model]]
    for n in names:  # fail before loading data or training on a typo
        if n not in classifier_models():
            raise ConfigError(f"model must be a registered image classifier, one of {', '.join(classifier_models())} "
                              f"(got {n!r})")
    x_tr, y_tr, x_te, y_te, scale = load_data(cfg, run)
    if cfg.train_subset and cfg.train_subset < len(x_tr):
        keep = torch.randperm(len(x_tr), generator=torch.Generator().manual_seed(run.seed))[:cfg.train_subset]
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    tr, val = train_val_split(len(x_tr), cfg.val_frac, seed=run.seed + 1)
    x_val, y_val, x_tr, y_tr = x_tr[val], y_tr[val], x_tr[tr], y_tr[tr]
    channels, side = x_tr.shape[1], cfg.image_size or x_tr.shape[2]
    pix = x_tr.float() * scale  # (N, C, H, W): per-channel statistics of the training part only
    data = dict(x_tr=x_tr, y_tr=y_tr, x_val=x_val, y_val=y_val, x_te=x_te, y_te=y_te, scale=scale,
                channels=channels, side=side, mean=pix.mean(dim=(0, 2, 3)).view(1, -1, 1, 1),
                std=pix.std(dim=(0, 2, 3)).clamp_min(1e-3).view(1, -1, 1, 1))
    del pix
    for n in names:  # every model must accept model_args: fail now, not after training the first ones
        build_classifier(n, 10, channels, side, **_parse_model_args(cfg.model_args))

    threads = torch.get_num_threads()
    if cfg.threads and run.device.type == "cpu":
        torch.set_num_threads(cfg.threads)
    try:
        rows = [train_one(n, cfg, run, data, i) for i, n in enumerate(names)]
    finally:
        torch.set_num_threads(threads)
    label = DATASET_LABELS[cfg.dataset]
    table = results_table(rows, label, run.device)
    if run.is_main:
        (run.out / "table.md").write_text(f"# cnn-cifar10 ({run.preset})\n\n" + table)
        (run.out / "table.json").write_text(json.dumps([{k: v for k, v in r.items() if k != "curve"} for r in rows],
                                                       indent=2) + "\n")
    run.save_figure("val_accuracy", loss_curves({r["model"]: r["curve"] for r in rows}, xlabel="epoch",
                                                ylabel=f"validation accuracy, {label}"))
    run.save_figure("accuracy_vs_flops", line_plot(
        [r["flops"] / 1e6 for r in rows], {"test accuracy": [r["test_acc"] for r in rows]},
        "forward MFLOPs per image", f"test accuracy, {label}", marker="o", title=", ".join(r["model"] for r in rows)))

    main = rows[0]
    metrics = {k: main[k] for k in ("test_acc", "test_loss", "val_acc", "best_epoch", "params", "flops",
                                    "train_images_per_s", "infer_images_per_s")}
    for r in rows[1:]:
        metrics[f"test_acc_{r['model']}"] = r["test_acc"]
        metrics[f"params_{r['model']}"] = r["params"]
    for base, with_se, gain in _se_pairs(rows):
        metrics[f"se_gain_{base}"] = gain
    return metrics
