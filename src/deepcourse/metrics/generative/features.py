"""The feature networks of the generative metrics: one small CNN classifier per image domain.

FID and KID (:mod:`.fid`) compare two image sets in the feature space of a network. Inception weights
cannot be downloaded here, and a classifier trained on the domain itself is the usual choice for
MNIST-like data anyway, so each domain gets its own: a :class:`deepcourse.cnn.ConvNet` with one
conv3x3 -> BatchNorm -> ReLU -> max-pool per stage, one fully connected ReLU layer of ``feature_dim``
units (the features) and a linear layer to the 10 class logits.

A :class:`DomainRecipe` says how that network is built and trained; it is part of the network's
fingerprint (:mod:`.feature_cache`), so an FID names the exact features it was computed on. Two recipes
per domain: ``"full"`` (the whole training split, for full runs) and ``"small"`` (a fixed subset and a
narrower net, a few CPU seconds, for quick presets). An FID is only comparable with FIDs on the same
recipe and weights.

Images everywhere are float tensors in [-1, 1] of shape ``(N, C, H, W)`` at the domain's native size:
digits 1x8x8 (scikit-learn, for tests), mnist / fashion-mnist 1x28x28, usps 1x16x16, cifar10-jpeg 3x32x32.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["DOMAINS", "KINDS", "RECIPES", "RECIPE_VERSION", "DomainRecipe", "FeatureNet", "domain_splits",
           "get_recipe", "load_domain_data", "signed_images", "train_feature_net"]

# 2: trained with core.fit on load_splits' fixed splits, built on cnn.ConvNet (v1: a private loop and class)
RECIPE_VERSION = 2


@dataclass(frozen=True)
class DomainRecipe:
    """How the feature network of one domain is built and trained (part of the fingerprint)."""

    domain: str
    channels: int
    size: int
    widths: tuple[int, ...]  # conv channels per stage; each stage halves the resolution
    feature_dim: int  # width of the penultimate layer, the features FID is computed on
    epochs: int
    kind: str = "full"  # "full": the whole training split; "small": ``subset`` images (quick presets)
    subset: int | None = None
    batch_size: int = 128
    lr: float = 2e-3
    flip: bool = False  # horizontal-flip augmentation (natural images only; digits are not symmetric)
    seed: int = 0
    version: int = RECIPE_VERSION


def _small(domain: str, channels: int, size: int, widths: tuple[int, ...], epochs: int = 3) -> DomainRecipe:
    # 2,000 images: 1-4 CPU seconds; test accuracy about 0.93 (mnist, usps), 0.8 (fashion-mnist), 0.4 (cifar)
    return DomainRecipe(domain, channels, size, widths, 64, epochs=epochs, kind="small", subset=2000, batch_size=64)


RECIPES: dict[str, dict[str, DomainRecipe]] = {
    "full": {
        "digits": DomainRecipe("digits", 1, 8, (32, 64), 64, epochs=20, batch_size=64),  # a few seconds
        # about a minute per domain on 2 CPU cores
        "mnist": DomainRecipe("mnist", 1, 28, (32, 64), 128, epochs=3),
        "fashion-mnist": DomainRecipe("fashion-mnist", 1, 28, (32, 64), 128, epochs=5),
        "usps": DomainRecipe("usps", 1, 16, (32, 64), 128, epochs=12),
        # minutes on a GPU, tens of minutes on a CPU
        "cifar10-jpeg": DomainRecipe("cifar10-jpeg", 3, 32, (64, 128, 256), 256, epochs=15, flip=True),
    },
    "small": {
        "mnist": _small("mnist", 1, 28, (16, 32)),
        "fashion-mnist": _small("fashion-mnist", 1, 28, (16, 32)),
        "usps": _small("usps", 1, 16, (16, 32)),
        "cifar10-jpeg": _small("cifar10-jpeg", 3, 32, (16, 32, 64), epochs=2),
    },
}
DOMAINS = tuple(RECIPES["full"])
KINDS = tuple(RECIPES)


def get_recipe(domain: str, kind: str = "full") -> DomainRecipe:
    """The recipe of ``domain`` (one of :data:`DOMAINS`) and ``kind`` ("full" or "small")."""
    if kind not in RECIPES:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if domain not in RECIPES[kind]:
        raise ValueError(f"domain must be one of {', '.join(RECIPES[kind])} for kind {kind!r}; got {domain!r}")
    return RECIPES[kind][domain]


class FeatureNet(nn.Module):
    """A domain classifier whose penultimate layer is the feature space of FID/KID.

    ``net`` is a :class:`deepcourse.cnn.ConvNet` (one conv per stage, BatchNorm, one hidden layer of
    ``feature_dim`` units); ``fingerprint`` names the trained weights, ``domain`` the data they were
    trained on and ``meta`` the cache metadata (test accuracy, recipe).
    """

    def __init__(self, recipe: DomainRecipe, num_classes: int = 10):
        super().__init__()
        # metrics imports no topic package at import time; the one small CNN of the project lives in cnn
        from deepcourse.cnn import ConvNet

        self.recipe, self.domain = recipe, recipe.domain
        self.fingerprint, self.meta = "untrained", {}
        self.net = ConvNet(num_classes=num_classes, in_channels=recipe.channels, image_size=recipe.size,
                           widths=recipe.widths, convs_per_block=1, batch_norm=True, hidden=recipe.feature_dim,
                           hidden_layers=1)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.recipe.channels, self.recipe.size, self.recipe.size)

    def check_images(self, x: Tensor, name: str = "x") -> Tensor:
        """Raise a clear error unless ``x`` is a float (N, C, H, W) batch at this domain's size."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor of images, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a float tensor in [-1, 1], got dtype {x.dtype}")
        if x.dim() != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"{name} must have shape (N, {', '.join(map(str, self.input_shape))}) for domain "
                             f"{self.domain!r}, got {tuple(x.shape)}")
        return x

    def features(self, x: Tensor) -> Tensor:
        """Penultimate activations, (N, feature_dim)."""
        return self.net.embed(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (N, num_classes) logits

    def predict(self, x: Tensor, batch_size: int = 1000) -> Tensor:
        """Predicted labels, (N,), computed in eval mode."""
        from deepcourse.core import predict

        return predict(self, self.check_images(x), batch_size).argmax(1)

    def probs(self, x: Tensor, batch_size: int = 1000) -> Tensor:
        """Class probabilities p(y | x), (N, num_classes), float64, in eval mode."""
        from deepcourse.core import predict

        return F.softmax(predict(self, self.check_images(x), batch_size).double(), 1)


# ------------------------------------------------------------------------------------------- data / train

def _data_root(run_or_root: Any) -> Any:
    if run_or_root is None or isinstance(run_or_root, (str, os.PathLike)):
        return run_or_root
    if hasattr(run_or_root, "data_root"):  # a deepcourse.core.Run
        return run_or_root.data_root
    raise TypeError(f"run_or_root must be a Run, a path or None, got {type(run_or_root).__name__}")


def signed_images(x: Tensor, domain: str) -> Tensor:
    """Images from ``data.load_splits(..., scale=True)`` ([0, 1]) in the metrics' convention: [-1, 1],
    ``(N, C, H, W)`` at the domain's size (scikit-learn's digits come flat and are reshaped)."""
    rec = get_recipe(domain)
    x = x.float().reshape(len(x), *(rec.channels, rec.size, rec.size))  # (N, C, H, W)
    return x.mul(2).sub(1).contiguous()


def domain_splits(domain: str, run_or_root: Any = None, *, subset: int | None = None,
                  test_subset: int | None = None, val: float = 0.0):
    """:func:`deepcourse.data.load_splits` of ``domain`` with its images in the metrics' convention
    ([-1, 1], ``(N, C, H, W)``): the same fixed splits and stratified subsets. Returns a ``data.Splits``.
    Raises ``DataMissingError`` for absent data."""
    import dataclasses

    from deepcourse.data import load_splits

    get_recipe(domain)
    s = load_splits(domain, root=_data_root(run_or_root), val=val, subset=subset, test_subset=test_subset)
    return dataclasses.replace(s, x_train=signed_images(s.x_train, domain), x_val=signed_images(s.x_val, domain),
                               x_test=signed_images(s.x_test, domain))


def load_domain_data(domain: str, split: str = "train", run_or_root: Any = None, *,
                     subset: int | None = None) -> tuple[Tensor, Tensor]:
    """``(x, y)`` of one split ("train" or "test") of :func:`domain_splits`; ``subset`` takes the fixed
    stratified subset of that split."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    s = domain_splits(domain, run_or_root, subset=subset if split == "train" else None,
                      test_subset=subset if split == "test" else None)
    return (s.x_train, s.y_train.long()) if split == "train" else (s.x_test, s.y_test.long())


def train_feature_net(recipe: DomainRecipe, root: Any = None, device: torch.device | str | None = None,
                      verbose: bool = False) -> tuple[FeatureNet, dict]:
    """Train the feature classifier of ``recipe`` from scratch with :func:`deepcourse.core.fit`
    (deterministic for a recipe on one CPU thread count).

    Adam with a cosine learning-rate decay and cross-entropy on the recipe's training images; returns the
    net (eval mode) and ``{"test_acc", "train_seconds"}``. The global RNG state is left untouched.
    """
    from deepcourse.core import TensorLoader, fit

    device = torch.device(device) if device is not None else torch.device("cpu")
    s = domain_splits(recipe.domain, root, subset=recipe.subset, test_subset=recipe.subset)  # small: a test subset
    x, y, xt, yt = s.x_train, s.y_train.long(), s.x_test, s.y_test.long()
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(recipe.seed)
        net = FeatureNet(recipe).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=recipe.lr)
        loader = TensorLoader(x, y, batch_size=recipe.batch_size, shuffle=True, seed=recipe.seed)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, recipe.epochs * len(loader))
        flips = torch.Generator().manual_seed(recipe.seed)

        def step(batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
            xb, yb = batch
            if recipe.flip:
                flip = (torch.rand(len(xb), generator=flips) < 0.5).to(xb.device)
                xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            return {"loss": F.cross_entropy(net(xb), yb)}

        state = fit(step, loader, epochs=recipe.epochs, model=net, optimizer=opt, scheduler=sched,
                    scheduler_interval="step", device=device, desc=f"{recipe.domain} features")
    net.eval()
    acc = float((net.predict(xt) == yt).float().mean())
    seconds = round(time.perf_counter() - t0, 2)
    if verbose:
        print(f"[{recipe.domain} {recipe.kind} features] loss {state.metrics.get('loss', float('nan')):.4f}, "
              f"test accuracy {acc:.4f} ({seconds} s)")
    return net, {"test_acc": acc, "train_seconds": seconds}
