"""``cnn-cifar10``: registered CNNs trained with one recipe on an image-classification set, with their test
accuracy, parameters, FLOPs and measured throughput in one table (He et al. 2016a/b; Hu et al. 2018;
Sandler et al. 2018).

Full preset: ResNet-18, PreAct ResNet-18, SE-ResNet-18, MobileNet v2 and SE-MobileNet v2 on CIFAR-10 (JPEG
copy) with the usual recipe: SGD with Nesterov momentum 0.9, weight decay 5e-4, a one-cycle schedule (15 %
linear warm-up, then cosine decay), random crops with padding 4 and horizontal flips done on tensors
(:mod:`deepcourse.data.transforms`). The epoch is chosen on a validation split held out of the training set;
the test split is evaluated once, at the end (``core.train_classifier``). Quick preset: a narrow ResNet-18 on
a fixed subset of CIFAR-10, downsampled to 16x16.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from deepcourse.cnn.throughput import inference_throughput, train_throughput
from deepcourse.core import ConfigError, Reference, Run, experiment, param, train_classifier
from deepcourse.core.models import count_flops, count_parameters, get_model_entry, list_models
from deepcourse.data import load_splits
from deepcourse.data.transforms import cifar_augment

DATASET_LABELS = {"cifar10-jpeg": "CIFAR-10 (JPEG copy)", "fashion-mnist": "Fashion-MNIST", "mnist": "MNIST",
                  "digits": "scikit-learn digits (8x8)"}


@dataclass
class CnnConfig:
    model: str = param("resnet18", help="main model: any registered classifier (see deepcourse.core.list_models())")
    compare: tuple[str, ...] = param((), help="more registered classifiers trained with the same recipe, for the table")
    model_args: tuple[str, ...] = param((), help="key=value constructor arguments for every model, e.g. width=16")
    dataset: str = param("cifar10-jpeg", choices=tuple(DATASET_LABELS), help="digits is embedded; the others need --data-dir")
    subset: int = param(0, ge=0, help="a fixed stratified subset of this many training images (0: all)")
    test_subset: int = param(0, ge=0, help="a fixed stratified subset of this many test images (0: all)")
    image_size: int = param(0, ge=0, help="resize images to this side with bilinear interpolation (0: native)")
    epochs: int = param(30, ge=1)
    batch_size: int = param(128, ge=1)
    optimizer: str = param("sgd", choices=("sgd", "adamw"), help="sgd: Nesterov momentum 0.9")
    lr: float = param(0.1, gt=0, help="peak learning rate of the one-cycle schedule")
    weight_decay: float = param(5e-4, ge=0)
    label_smoothing: float = param(0.0, ge=0, lt=1)
    augment: bool = param(True, help="random crop with zero padding (+ horizontal flip if flip)")
    crop_padding: int = param(4, ge=0)
    flip: bool = param(True, help="random horizontal flips (right for CIFAR, wrong for digits)")
    val_frac: float = param(0.1, gt=0, lt=1, help="part of the training split held out for model selection")
    amp: bool = param(False, help="bfloat16 autocast on CUDA (ignored on CPU)")
    channels_last: bool = param(False, help="NHWC memory format (faster convolutions on recent GPUs)")
    bench_batch: int = param(64, ge=1, help="batch size of the throughput measurement")
    bench_steps: int = param(3, ge=1, help="timed steps of the throughput measurement")


FULL = CnnConfig(compare=("preact-resnet18", "se-resnet18", "mobilenet-v2", "se-mobilenet-v2"), amp=True,
                 channels_last=True, bench_batch=256, bench_steps=20)
# Quick: ResNet-18 at width 8 on 2,000 CIFAR-10 training images downsampled to 16x16, 5 epochs; 7.7-8.4 s of CPU
# time at --threads 1 (about 3 s of it imports and data loading).
QUICK = CnnConfig(model_args=("width=8",), subset=2000, test_subset=1000, image_size=16, epochs=5, batch_size=64,
                  lr=0.05, crop_padding=2, bench_batch=32, bench_steps=2)


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
    """A registered image classifier; a clear ``ConfigError`` for an unknown name or unfitting arguments."""
    if name not in classifier_models():
        raise ConfigError(f"model must be a registered image classifier, one of {', '.join(classifier_models())} "
                          f"(got {name!r})")
    factory = get_model_entry(name).factory
    if "image_size" in inspect.signature(factory).parameters:  # fully connected layers need the input side
        kwargs["image_size"] = image_size
    try:
        return factory(num_classes=num_classes, in_channels=in_channels, **kwargs)
    except TypeError as e:
        raise ConfigError(f"model_args {kwargs} do not fit model {name!r}: {e}") from None


def _measure(model: torch.nn.Module, shape: tuple[int, int, int], cfg: CnnConfig, run: Run) -> dict[str, float]:
    """Parameters, forward FLOPs per image and measured train / inference images per second."""
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    amp_dtype = torch.bfloat16 if cfg.amp and run.device.type == "cuda" else None
    return {"params": float(count_parameters(model)),
            "flops": float(count_flops(model, torch.zeros(1, *shape, device=run.device).contiguous(memory_format=fmt))),
            "train_images_per_s": train_throughput(model, shape, 10, cfg.bench_batch, cfg.bench_steps, 1, run.device,
                                                   cfg.channels_last, amp_dtype=amp_dtype),
            "infer_images_per_s": inference_throughput(model, shape, cfg.bench_batch, cfg.bench_steps, 1, run.device,
                                                       cfg.channels_last)}


@experiment(
    name="cnn-cifar10", module="1.1", title="CNN architectures compared: accuracy, size, FLOPs, speed",
    paper=Reference("He et al. 2016a/b; Hu et al. 2018; Sandler et al. 2018 (no CIFAR-10 ResNet-18 number is "
                    "published; the SE paper reports SE gains on ImageNet and CIFAR ResNets)", {}),
    quick=QUICK, full=FULL, primary="test_acc", threads=1,
    # seeds 0-4, --threads 1 and 2: test_acc 0.266-0.343 (chance 0.10; 0.094 with lr=1e-6)
    floor={"test_acc": 0.2},
)
def cnn_cifar10(cfg: CnnConfig, run: Run) -> dict[str, float]:
    """Train the main model and the compared ones with the same recipe; one table of test accuracy (epoch
    picked on validation), parameters, forward FLOPs and measured images/s; SE vs no SE."""
    from deepcourse.viz import line_plot, loss_curves

    names = [cfg.model, *[m for m in cfg.compare if m != cfg.model]]
    args = _parse_model_args(cfg.model_args)
    for n in names:  # fail on a typo or an unfitting model_args before loading data or training
        build_classifier(n, 10, 1, 32, **args)
    s = load_splits(cfg.dataset, run, val=cfg.val_frac, subset=cfg.subset or None, test_subset=cfg.test_subset or None)
    x_tr = s.x_train.view(len(s.x_train), -1, 8, 8) if cfg.dataset == "digits" else s.x_train  # (N, C, H, W)
    channels, side = x_tr.shape[1], cfg.image_size or x_tr.shape[2]
    mean = x_tr.mean(dim=(0, 2, 3)).view(1, -1, 1, 1).to(run.device)  # statistics of the training part only
    std = x_tr.std(dim=(0, 2, 3)).clamp_min(1e-3).view(1, -1, 1, 1).to(run.device)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format

    def prep(xb: Tensor, train: bool) -> Tensor:
        x = xb.view(len(xb), channels, *x_tr.shape[2:])  # (B, C, H0, W0) in [0, 1]
        if cfg.image_size:
            x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)  # (B, C, side, side)
        if train and cfg.augment:
            x = cifar_augment(x, cfg.crop_padding, cfg.flip)  # pad with black before normalising, as torchvision does
        return ((x - mean) / std).contiguous(memory_format=fmt)

    rows = []
    for n in names:
        run.manual_seed(n)  # each model's init independent of the models before it
        model = build_classifier(n, s.num_classes, channels, side, **args).to(run.device, memory_format=fmt)
        with torch.autocast(run.device.type, torch.bfloat16, enabled=cfg.amp and run.device.type == "cuda"):
            r = train_classifier(model, s, run, epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size,
                                 optimizer=cfg.optimizer, weight_decay=cfg.weight_decay, scheduler="onecycle",
                                 loss_fn=functools.partial(F.cross_entropy, label_smoothing=cfg.label_smoothing),
                                 prep=prep, name=n)
        rows.append({"model": n, "test_acc": r["test_acc"], "test_loss": r["test_loss"], "val_acc": r["val_acc"],
                     "best_epoch": float(r["best_epoch"]), **_measure(r["model"], (channels, side, side), cfg, run),
                     "curve": r["curve"]})

    label = DATASET_LABELS[cfg.dataset]
    run.table([{"model": r["model"], "test acc": r["test_acc"], "val acc": r["val_acc"], "params (M)": r["params"] / 1e6,
                "FLOPs / image (M)": r["flops"] / 1e6, "train images/s": r["train_images_per_s"],
                "inference images/s": r["infer_images_per_s"]} for r in rows],
              f"{label}, {len(s.x_train)} training images; throughput on {run.device.type}")
    by_name = {r["model"]: r for r in rows}
    se = [(n[3:], n, by_name[n]["test_acc"] - by_name[n[3:]]["test_acc"]) for n in by_name
          if n.startswith("se-") and n[3:] in by_name]
    if se:
        run.table([{"with SE": w, "without": b, "test acc gain (points)": 100 * g} for b, w, g in se],
                  "SE vs no SE (test accuracy, same recipe)")
    run.save_figure("val_accuracy", loss_curves({r["model"]: r["curve"] for r in rows}, xlabel="epoch",
                                                ylabel=f"validation accuracy, {label}"))
    run.save_figure("accuracy_vs_flops", line_plot(
        [r["flops"] / 1e6 for r in rows], {"test accuracy": [r["test_acc"] for r in rows]},
        "forward MFLOPs per image", f"test accuracy, {label}", marker="o", title=", ".join(by_name)))

    main = rows[0]
    metrics = {k: main[k] for k in ("test_acc", "test_loss", "val_acc", "best_epoch", "params", "flops",
                                    "train_images_per_s", "infer_images_per_s")}
    for r in rows[1:]:
        metrics[f"test_acc_{r['model']}"] = r["test_acc"]
        metrics[f"params_{r['model']}"] = r["params"]
    metrics.update({f"se_gain_{b}": g for b, _, g in se})
    return metrics
