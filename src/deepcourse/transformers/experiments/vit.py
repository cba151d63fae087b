"""Vision Transformers (Dosovitskiy et al. 2021) trained from scratch on MNIST, Fashion-MNIST and CIFAR-10.

The paper pre-trains on JFT / ImageNet-21k; its claim that matters here is that a plain transformer over patch
tokens, with no convolution beyond the patch projection, classifies images. From scratch on small images a
small ViT needs many epochs; the presets below are sized for a CPU (MNIST, Fashion-MNIST) or a GPU (CIFAR-10;
the copy is JPEG-compressed, not the lossless original). ``pool`` compares the class token with mean pooling.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from deepcourse.core import Reference, Run, count_parameters, experiment, param, train_classifier
from deepcourse.data import load_splits
from deepcourse.data.transforms import cifar_augment
from deepcourse.transformers import POOLS, ViT


@dataclass
class ViTConfig:
    dataset: str = param("mnist", choices=("mnist", "fashion-mnist", "cifar10-jpeg"))
    subset: int | None = param(None, ge=100, help="training images (None: all)")
    patch: int = param(7, ge=1)
    dim: int = param(64, ge=2)
    depth: int = param(4, ge=1)
    heads: int = param(4, ge=1)
    hidden: int = param(128, ge=1)
    dropout: float = param(0.0, ge=0, lt=1)
    pool: str = param("cls", choices=POOLS)
    epochs: int = param(10, ge=1)
    batch_size: int = param(128, ge=1)
    lr: float = param(2e-3, gt=0)
    weight_decay: float = param(0.05, ge=0)
    augment: bool = param(False, help="random crops (and flips for CIFAR-10)")


def train_vit(cfg: ViTConfig, run: Run) -> dict[str, float]:
    """Build a ViT for ``cfg.dataset``, train it with AdamW and a one-cycle schedule, report test accuracy."""
    quick = cfg.subset is not None
    splits = load_splits(cfg.dataset, run, subset=cfg.subset, test_subset=2000 if quick else None)
    c, h = splits.train[0].shape[1], splits.train[0].shape[2]
    run.manual_seed("model")
    model = ViT(h, cfg.patch, c, 10, cfg.dim, cfg.depth, cfg.heads, cfg.hidden, cfg.dropout, cfg.pool)
    prep = None
    if cfg.augment:
        flip = cfg.dataset == "cifar10-jpeg"
        gen = run.generator("augment")

        def prep(x, train):
            return cifar_augment(x, padding=2 if h == 28 else 4, flip=flip, generator=gen) if train else x
    res = train_classifier(model, splits, run, epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size,
                           optimizer=lambda p: torch.optim.AdamW(p, lr=cfg.lr, weight_decay=cfg.weight_decay),
                           scheduler="onecycle", prep=prep, name="vit")
    tokens = (h // cfg.patch) ** 2
    run.table([{"model": f"ViT {cfg.depth}x{cfg.dim}, patch {cfg.patch} ({tokens} tokens), {cfg.pool} pooling",
                "params": count_parameters(model), "epochs": cfg.epochs, "test acc": res["test_acc"],
                "val acc": res["val_acc"], "best epoch": res["best_epoch"]}],
              f"ViT from scratch on {cfg.dataset}" + (" (JPEG copy of CIFAR-10)" if cfg.dataset == "cifar10-jpeg"
                                                      else ""))
    return {"test_acc": res["test_acc"], "val_acc": res["val_acc"]}


# Quick: 2,000 images, 16 tokens of 7x7, 2 blocks of width 64, 8 epochs.
QUICK = ViTConfig(subset=2000, depth=2, epochs=8, batch_size=64)
# Full (our recipe; the paper has no MNIST one): 16 tokens of 7x7, 4 blocks of width 64, 15 epochs on all 54,000
# training images, random 2-pixel shifts. Recorded on the shared, overloaded 2-core CPU with
# ``epochs=2``.
FULL = ViTConfig(epochs=15, augment=True)


@experiment(
    name="vit-mnist", module="8", title="A Vision Transformer from scratch on MNIST",
    paper=Reference("Dosovitskiy et al. 2021 (no MNIST number); the issue's target: >= 98.5 % test accuracy", {}),
    quick=QUICK, full=FULL,
    # seeds 0-3, threads 1: test_acc 0.808-0.843 (threads 2 not measured); an untrained ViT gets ~0.10
    floor={"test_acc": 0.75}, primary="test_acc", threads=1,
)
def vit_mnist(cfg: ViTConfig, run: Run) -> dict[str, float]:
    """A small ViT on MNIST digits."""
    return train_vit(cfg, run)


@experiment(
    name="vit-fashion", module="8", title="A Vision Transformer from scratch on Fashion-MNIST",
    paper=Reference("Dosovitskiy et al. 2021 (no Fashion-MNIST number)", {}),
    quick=replace(QUICK, dataset="fashion-mnist"), full=replace(FULL, dataset="fashion-mnist", epochs=30),
    # seed 0, threads 1: test_acc 0.742 (other seeds not measured)
    floor={"test_acc": 0.65}, primary="test_acc", threads=1,
)
def vit_fashion(cfg: ViTConfig, run: Run) -> dict[str, float]:
    """A small ViT on Fashion-MNIST clothes."""
    return train_vit(cfg, run)


@experiment(
    name="vit-cifar10", module="8", title="A Vision Transformer from scratch on CIFAR-10 (JPEG copy; GPU preset)",
    paper=Reference("Dosovitskiy et al. 2021 report CIFAR-10 only after pre-training (99.5 % ViT-H/14); "
                    "from scratch small ViTs reach ~80-90 % with heavy augmentation", {},
                    context={"ViT-H/14 pre-trained on JFT-300M, CIFAR-10 test acc % (Table 2)": 99.50}),
    quick=replace(QUICK, dataset="cifar10-jpeg", patch=8, depth=2, epochs=6),
    full=ViTConfig(dataset="cifar10-jpeg", patch=4, dim=192, depth=6, heads=6, hidden=384, dropout=0.1, epochs=100,
                   batch_size=128, lr=1e-3, augment=True),
    # seed 0, threads 1: test_acc 0.281 (chance 0.10; other seeds not measured)
    floor={"test_acc": 0.22}, primary="test_acc", threads=1,
)
def vit_cifar10(cfg: ViTConfig, run: Run) -> dict[str, float]:
    """A ViT on CIFAR-10 (JPEG copy): 64 tokens of 4x4 in the full (GPU) preset."""
    return train_vit(cfg, run)
