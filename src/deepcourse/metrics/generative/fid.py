r"""Sample-quality metrics on the features of a classifier trained on the same domain.

FID (Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to a local Nash
equilibrium", eq. 6) fits one Gaussian to the features of the real images and one to those of the
generated images and reports the Fréchet (2-Wasserstein) distance between them:

.. math::  d^2 = \lVert \mu_r - \mu_g \rVert_2^2 + \operatorname{Tr}\bigl(\Sigma_r + \Sigma_g
           - 2 (\Sigma_r \Sigma_g)^{1/2}\bigr).

KID (Binkowski et al. 2018, "Demystifying MMD GANs", sec. 3) is the squared maximum mean discrepancy
with the cubic polynomial kernel :math:`k(x, y) = (x^\top y / d + 1)^3`, estimated without bias on
random subsets; unlike FID its estimator has no bias that depends on the sample size.

The classifier score is the inception score of Salimans et al. 2016 ("Improved techniques for training
GANs", sec. 4), :math:`\exp(\mathbb{E}_x \mathrm{KL}(p(y\mid x) \,\Vert\, p(y)))`, with our domain
classifier in place of Inception: high when each sample is classified confidently and the classes are
used evenly.

Inception weights cannot be downloaded here, and a network trained on the domain itself is the usual
choice for MNIST-like data anyway. :func:`domain_features` trains a small CNN once per domain, caches
it under ``derived_dir() / "features"`` (a state dict plus JSON metadata), and fingerprints it by the
hash of its weights and its training recipe. An FID is only comparable with FIDs computed on the same
fingerprint, so every reported FID should name ``net.fingerprint``.

Images everywhere are float tensors in [-1, 1] of shape ``(N, C, H, W)`` at the domain's native size:
digits 1x8x8 (scikit-learn, offline), mnist / fashion-mnist 1x28x28, usps 1x16x16, cifar10-jpeg 3x32x32.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

__all__ = [
    "DOMAINS",
    "DomainRecipe",
    "FeatureNet",
    "domain_features",
    "train_feature_net",
    "load_domain_data",
    "feature_cache_dir",
    "extract_features",
    "feature_stats",
    "frechet_distance",
    "fid",
    "fid_from_features",
    "kid",
    "polynomial_kernel",
    "mmd2_unbiased",
    "classifier_score",
]

RECIPE_VERSION = 1  # bump when the training code changes in a way that changes the weights


@dataclass(frozen=True)
class DomainRecipe:
    """How the feature network of one domain is built and trained (part of the fingerprint)."""

    domain: str
    channels: int
    size: int
    widths: tuple[int, ...]  # conv channels per stage; each stage halves the resolution
    feature_dim: int  # width of the penultimate layer, the features FID is computed on
    epochs: int
    batch_size: int = 128
    lr: float = 2e-3
    flip: bool = False  # horizontal-flip augmentation (natural images only; digits are not symmetric)
    seed: int = 0
    version: int = RECIPE_VERSION


DOMAINS: dict[str, DomainRecipe] = {
    # a few seconds on a laptop CPU
    "digits": DomainRecipe("digits", 1, 8, (32, 64), 64, epochs=20, batch_size=64),
    # about a minute per domain on 2 CPU cores
    "mnist": DomainRecipe("mnist", 1, 28, (32, 64), 128, epochs=3),
    "fashion-mnist": DomainRecipe("fashion-mnist", 1, 28, (32, 64), 128, epochs=5),
    "usps": DomainRecipe("usps", 1, 16, (32, 64), 128, epochs=12),
    # minutes on a GPU, tens of minutes on a CPU
    "cifar10-jpeg": DomainRecipe("cifar10-jpeg", 3, 32, (64, 128, 256), 256, epochs=15, flip=True),
}


def _check_domain(domain: str) -> DomainRecipe:
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {', '.join(DOMAINS)}; got {domain!r}")
    return DOMAINS[domain]


class FeatureNet(nn.Module):
    """A small CNN classifier whose penultimate layer is the feature space of FID/KID.

    Stages of conv3x3 -> BatchNorm -> ReLU -> 2x2 max-pool, then a fully connected layer of
    ``feature_dim`` ReLU units (the features) and a linear layer to the 10 class logits.
    ``fingerprint`` names the trained weights; ``domain`` the data they were trained on.
    """

    def __init__(self, recipe: DomainRecipe, num_classes: int = 10):
        super().__init__()
        self.recipe = recipe
        self.domain = recipe.domain
        self.fingerprint = "untrained"
        layers: list[nn.Module] = []
        c, s = recipe.channels, recipe.size
        for w in recipe.widths:
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            c, s = w, s // 2
        self.body = nn.Sequential(*layers)
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(c * s * s, recipe.feature_dim), nn.ReLU(inplace=True))
        self.head = nn.Linear(recipe.feature_dim, num_classes)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.recipe.channels, self.recipe.size, self.recipe.size)

    def check_images(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """Raise a clear error unless ``x`` is a float (N, C, H, W) batch at this domain's size."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor of images, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a float tensor in [-1, 1], got dtype {x.dtype}")
        if x.dim() != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"{name} must have shape (N, {', '.join(map(str, self.input_shape))}) for domain "
                             f"{self.domain!r}, got {tuple(x.shape)}")
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations, (N, feature_dim)."""
        return self.embed(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (N, num_classes) logits

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Predicted labels, (N,), computed in eval mode."""
        self.check_images(x)
        with _eval(self):
            dev = _device(self)
            return torch.cat([self.forward(b.to(dev)).argmax(1).cpu() for b in x.split(batch_size)])

    @torch.no_grad()
    def probs(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Class probabilities p(y | x), (N, num_classes), in eval mode."""
        self.check_images(x)
        with _eval(self):
            dev = _device(self)
            return torch.cat([F.softmax(self.forward(b.to(dev)).double(), 1).cpu() for b in x.split(batch_size)])


def _device(m: nn.Module) -> torch.device:
    return next(m.parameters()).device


class _eval:
    """Put a module in eval mode for a block and restore its previous mode after."""

    def __init__(self, m: nn.Module):
        self.m = m

    def __enter__(self):
        self.mode = self.m.training
        self.m.eval()

    def __exit__(self, *exc):
        self.m.train(self.mode)


# ------------------------------------------------------------------------------------------- data / train

def _data_root(run_or_root: Any) -> Any:
    if run_or_root is None or isinstance(run_or_root, (str, os.PathLike)):
        return run_or_root
    if hasattr(run_or_root, "data_root"):  # a deepcourse.core.Run
        return run_or_root.data_root
    raise TypeError(f"run_or_root must be a Run, a path or None, got {type(run_or_root).__name__}")


def _to_unit(x: torch.Tensor, max_value: float) -> torch.Tensor:
    return x.float().div(max_value).mul(2).sub(1)  # [0, max] -> [-1, 1]


def load_domain_data(domain: str, split: str = "train", root: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` of a domain in the metric's convention: float in [-1, 1], (N, C, H, W); int64 labels.

    ``digits`` (scikit-learn's 1,797 8x8 images) has no official split: a fixed permutation puts
    80% in ``"train"`` and 20% in ``"test"``. Raises ``DataMissingError`` for absent real data.
    """
    rec = _check_domain(domain)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if domain == "digits":
        from deepcourse.data import load_sklearn

        x, y = load_sklearn("digits")
        x = _to_unit(x, 16.0).reshape(-1, 1, 8, 8)  # (1797, 1, 8, 8)
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(1234))
        cut = int(0.8 * len(x))
        idx = order[:cut] if split == "train" else order[cut:]
        return x[idx].contiguous(), y[idx].contiguous()
    from deepcourse.data import load_tensors

    x, y = load_tensors(domain, split, root=root)
    x = _to_unit(x, 255.0)
    if x.dim() == 3:
        x = x.unsqueeze(1)  # (N, 1, H, W)
    assert tuple(x.shape[1:]) == (rec.channels, rec.size, rec.size), x.shape
    return x.contiguous(), y.long()


def train_feature_net(domain: str, root: Any = None, recipe: DomainRecipe | None = None,
                      device: torch.device | str | None = None, verbose: bool = False) -> tuple[FeatureNet, dict]:
    """Train the feature classifier of ``domain`` from scratch (deterministic for a recipe on CPU).

    Adam with a cosine learning-rate decay and cross-entropy; returns the net (eval mode) and
    ``{"test_acc": ...}``. The global RNG state is left untouched.
    """
    rec = recipe or _check_domain(domain)
    device = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x, y = load_domain_data(domain, "train", root)
    xt, yt = load_domain_data(domain, "test", root)
    threads = torch.get_num_threads()
    if rec.size <= 16 and device.type == "cpu":
        torch.set_num_threads(1)  # small images: thread start-up costs more than it saves (7x slower on 2 busy cores)
    try:
        net, t0 = _train_loop(rec, x, y, device, verbose)
    finally:
        torch.set_num_threads(threads)
    net.eval()
    acc = float((net.predict(xt) == yt).float().mean())
    return net, {"test_acc": acc, "train_seconds": round(time.perf_counter() - t0, 2)}


def _train_loop(rec: DomainRecipe, x: torch.Tensor, y: torch.Tensor, device: torch.device,
                verbose: bool) -> tuple[FeatureNet, float]:
    domain = rec.domain
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(rec.seed)
        net = FeatureNet(rec).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=rec.lr)
        steps_per_epoch = (len(x) + rec.batch_size - 1) // rec.batch_size
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, rec.epochs * steps_per_epoch)
        g = torch.Generator().manual_seed(rec.seed)
        net.train()
        t0 = time.perf_counter()
        for epoch in range(rec.epochs):
            order = torch.randperm(len(x), generator=g)
            for i in range(steps_per_epoch):
                idx = order[i * rec.batch_size:(i + 1) * rec.batch_size]
                xb, yb = x[idx].to(device), y[idx].to(device)
                if rec.flip:
                    flip = torch.rand(len(xb), generator=g) < 0.5
                    xb = torch.where(flip.to(device)[:, None, None, None], xb.flip(3), xb)
                loss = F.cross_entropy(net(xb), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
            if verbose:
                print(f"[{domain} features] epoch {epoch + 1}/{rec.epochs} loss {loss.item():.4f} "
                      f"({time.perf_counter() - t0:.0f} s)")
    return net, t0


# ------------------------------------------------------------------------------------------------ caching

def feature_cache_dir() -> Path:
    """``derived_dir() / "features"`` (``$DEEPCOURSE_CACHE/features`` when that is set)."""
    from deepcourse.data import derived_dir

    path = derived_dir() / "features"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _recipe_json(rec: DomainRecipe) -> str:
    return json.dumps(asdict(rec), sort_keys=True)


def _weights_sha(state: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for k in sorted(state):
        t = state[k].detach().cpu().contiguous()
        h.update(k.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def _fingerprint(rec: DomainRecipe, weights_sha: str) -> str:
    h = hashlib.sha256((_recipe_json(rec) + weights_sha).encode()).hexdigest()
    return f"{rec.domain}-cnn-v{rec.version}-{h[:12]}"


def _paths(rec: DomainRecipe) -> tuple[Path, Path]:
    key = hashlib.sha256(_recipe_json(rec).encode()).hexdigest()[:12]
    base = feature_cache_dir() / f"{rec.domain}-{key}"
    return base.with_suffix(".pt"), base.with_suffix(".json")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _try_load(rec: DomainRecipe, weights: Path, meta_path: Path) -> FeatureNet | None:
    """The cached net, or None when the cache is absent, unreadable or does not match its metadata."""
    if not (weights.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        state = torch.load(weights, map_location="cpu", weights_only=True)
        if meta.get("recipe") != json.loads(_recipe_json(rec)) or _weights_sha(state) != meta.get("weights_sha256"):
            return None
        net = FeatureNet(rec)
        net.load_state_dict(state)
    except Exception:  # truncated file, bad JSON, wrong keys: all mean "retrain"
        return None
    net.fingerprint = meta["fingerprint"]
    net.meta = meta
    return net


_MEMO: dict[tuple[str, str], FeatureNet] = {}


def domain_features(domain: str, run_or_root: Any = None, *, retrain: bool = False,
                    device: torch.device | str | None = None, verbose: bool = False) -> FeatureNet:
    """The trained, frozen feature network of ``domain`` (trained on first use, then loaded from cache).

    ``domain``: "digits" | "mnist" | "fashion-mnist" | "usps" | "cifar10-jpeg". ``run_or_root``: a
    ``Run`` (its ``data_root`` is used), a data root, or None (``$DEEPCOURSE_DATA``). The cache is
    ``feature_cache_dir()/<domain>-<recipe hash>.pt`` + ``.json``; a corrupt or mismatching cache is
    retrained. The returned net is in eval mode with ``requires_grad`` off, on ``device`` (default:
    the run's device, else CPU); ``net.meta`` holds the metadata (test accuracy, fingerprint).
    """
    rec = _check_domain(domain)
    root = _data_root(run_or_root)
    if device is None:
        device = getattr(run_or_root, "device", None) or "cpu"
    device = torch.device(device)
    weights, meta_path = _paths(rec)
    memo_key = (str(weights), str(device))
    if not retrain and memo_key in _MEMO and weights.is_file():
        return _MEMO[memo_key]
    net = None if retrain else _try_load(rec, weights, meta_path)
    if net is None:
        net, info = train_feature_net(domain, root, rec, device=device, verbose=verbose)
        state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
        sha = _weights_sha(state)
        meta = {"domain": domain, "recipe": json.loads(_recipe_json(rec)), "weights_sha256": sha,
                "fingerprint": _fingerprint(rec, sha), **info, "torch": torch.__version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        buf = io.BytesIO()
        torch.save(state, buf)
        try:
            _atomic_write(weights, buf.getvalue())
            _atomic_write(meta_path, (json.dumps(meta, indent=2) + "\n").encode())
        except OSError:
            pass  # a read-only cache only costs a retrain next time
        net.fingerprint, net.meta = meta["fingerprint"], meta
    net = net.to(device).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    _MEMO[memo_key] = net
    return net


# ------------------------------------------------------------------------------------------------ metrics

def _check_net(net: Any) -> FeatureNet:
    if not isinstance(net, FeatureNet):
        raise TypeError(f"net must be a FeatureNet (from domain_features), got {type(net).__name__}")
    return net


@torch.no_grad()
def extract_features(images: torch.Tensor, net: FeatureNet, batch_size: int = 500, name: str = "images") -> np.ndarray:
    """Features of ``images`` as a float64 numpy array (N, D), computed in eval mode."""
    _check_net(net).check_images(images, name)
    if len(images) == 0:
        raise ValueError(f"{name} is empty")
    dev = _device(net)
    with _eval(net):
        out = [net.features(b.to(dev)).double().cpu() for b in images.detach().split(batch_size)]
    return torch.cat(out).numpy()


def feature_stats(images: torch.Tensor, net: FeatureNet, name: str = "images") -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of the features: precompute once for the real set and pass the
    pair to :func:`fid` in place of the real images when tracking FID over training."""
    f = extract_features(images, net, name=name)
    if len(f) < 2:
        raise ValueError(f"{name}: need at least 2 images for a covariance, got {len(f)}")
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    r"""Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017, eq. 6).

    :math:`\lVert\mu_1-\mu_2\rVert^2 + \mathrm{Tr}(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2})`.
    The matrix square root is ``scipy.linalg.sqrtm``; when the product is singular and the root
    comes out non-finite, ``eps`` is added to both diagonals (the fallback of the reference code).
    A tiny imaginary part from round-off is dropped; a large one raises ``ValueError``.
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or mu1.ndim != 1:
        raise ValueError(f"mu1 and mu2 must be vectors of the same length, got {mu1.shape} and {mu2.shape}")
    d = mu1.shape[0]
    if s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"sigma1 and sigma2 must be ({d}, {d}), got {s1.shape} and {s2.shape}")
    diff = mu1 - mu2
    with warnings.catch_warnings():
        # dead ReLU features make the covariances singular; sqrtm warns but its root is still usable
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = np.eye(d) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"sqrtm returned a large imaginary part ({np.abs(covmean.imag).max():.3g})")
        covmean = covmean.real
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
    return float(max(value, 0.0))  # round-off can push identical distributions a hair below zero


def fid_from_features(f_real: np.ndarray, f_fake: np.ndarray) -> float:
    """FID between two feature matrices (N, D) and (M, D)."""
    for name, f in (("f_real", f_real), ("f_fake", f_fake)):
        if f.ndim != 2 or len(f) < 2:
            raise ValueError(f"{name} must be (N >= 2, D), got {f.shape}")
    return frechet_distance(f_real.mean(0), np.cov(f_real, rowvar=False), f_fake.mean(0), np.cov(f_fake, rowvar=False))


def fid(real: torch.Tensor | tuple[np.ndarray, np.ndarray], fake: torch.Tensor, net: FeatureNet) -> float:
    """Fréchet Inception Distance with ``net`` as the feature network (report ``net.fingerprint`` with it).

    ``real``: images (N, C, H, W) in [-1, 1], or ``feature_stats(real, net)`` precomputed.
    ``fake``: images of the same shape. FID is biased upward for small N (Binkowski et al. 2018):
    compare values only at equal sample sizes.
    """
    _check_net(net)
    if isinstance(real, tuple):
        mu1, s1 = real
    else:
        mu1, s1 = feature_stats(real, net, "real")
    mu2, s2 = feature_stats(fake, net, "fake")
    return frechet_distance(mu1, s1, mu2, s2)


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None,
                      coef0: float = 1.0) -> np.ndarray:
    r""":math:`k(x, y) = (\gamma\, x^\top y + c_0)^{degree}` with :math:`\gamma = 1/d` by default
    (the KID kernel of Binkowski et al. 2018)."""
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (gamma * x @ y.T + coef0) ** degree


def mmd2_unbiased(fx: np.ndarray, fy: np.ndarray, kernel=polynomial_kernel) -> float:
    r"""Unbiased estimate of :math:`\mathrm{MMD}^2` (Gretton et al. 2012, eq. 3; Binkowski et al. 2018):

    .. math:: \frac{1}{m(m-1)}\sum_{i\ne j} k(x_i,x_j) + \frac{1}{n(n-1)}\sum_{i\ne j} k(y_i,y_j)
              - \frac{2}{mn}\sum_{i,j} k(x_i,y_j).

    The diagonal terms k(x_i, x_i) are left out, which is what removes the bias; the estimate can
    therefore be slightly negative when the two distributions are equal.
    """
    m, n = len(fx), len(fy)
    if m < 2 or n < 2:
        raise ValueError(f"need at least 2 samples on each side, got {m} and {n}")
    kxx, kyy, kxy = kernel(fx, fx), kernel(fy, fy), kernel(fx, fy)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def kid(real: torch.Tensor, fake: torch.Tensor, net: FeatureNet, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018): mean and standard deviation of the unbiased
    MMD^2 (cubic polynomial kernel) over ``subsets`` random subsets of ``min(subset_size, N)`` real and
    ``min(subset_size, M)`` fake images, drawn without replacement with a generator seeded by ``seed``."""
    if subsets < 1:
        raise ValueError(f"subsets must be >= 1, got {subsets}")
    if subset_size < 2:
        raise ValueError(f"subset_size must be >= 2, got {subset_size}")
    fr = extract_features(real, _check_net(net), name="real")
    ff = extract_features(fake, net, name="fake")
    rng = np.random.default_rng(seed)
    m, n = min(subset_size, len(fr)), min(subset_size, len(ff))
    vals = np.array([mmd2_unbiased(fr[rng.choice(len(fr), m, replace=False)],
                                   ff[rng.choice(len(ff), n, replace=False)]) for _ in range(subsets)])
    return float(vals.mean()), float(vals.std())


def classifier_score(fake: torch.Tensor, net: FeatureNet, splits: int = 1) -> float:
    r"""Inception-score analogue (Salimans et al. 2016): :math:`\exp\,\mathbb{E}_x\,\mathrm{KL}(p(y|x)\Vert p(y))`
    with ``net`` as the classifier, averaged over ``splits`` equal parts as in the paper's code.

    Between 1 (every sample gets the same prediction, or every prediction is uniform) and the number
    of classes (confident predictions spread evenly over the classes).
    """
    p = _check_net(net).probs(fake).numpy()  # (N, K) float64
    if splits < 1 or splits > len(p):
        raise ValueError(f"splits must be in [1, {len(p)}], got {splits}")
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(0, keepdims=True)  # (1, K) marginal p(y)
        kl = (part * (np.log(part + 1e-12) - np.log(py + 1e-12))).sum(1)  # (n,)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores))
