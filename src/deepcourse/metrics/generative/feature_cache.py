"""The cache of trained feature networks, and :func:`domain_features`, the one way to get one.

A feature network is trained once per recipe (:mod:`.features`) and stored under
``derived_dir() / "features"`` as ``<domain>-<kind>-<recipe hash>.pt`` (the state dict) and ``.json``
(recipe, sha256 of the weights, fingerprint, test accuracy). The fingerprint hashes the recipe and the
weights: every reported FID should name it, since an FID is only comparable on the same features.

An absent cache is trained and written; a cache that is present but unreadable, or whose weights do not
match its metadata, raises :class:`FeatureCacheError` naming the files, rather than being retrained
silently (a silent retrain would change every later FID without a word). Two processes that need the same
network at once (the tour runs two experiments in parallel) take turns on a file lock: the second loads
what the first wrote.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import torch

from .features import DomainRecipe, FeatureNet, _data_root, get_recipe, train_feature_net

__all__ = ["FeatureCacheError", "domain_features", "feature_cache_dir", "cache_paths", "fingerprint", "weights_sha"]


class FeatureCacheError(RuntimeError):
    """A cached feature network is unreadable or does not match its metadata."""


def feature_cache_dir() -> Path:
    """``derived_dir() / "features"`` (``$DEEPCOURSE_CACHE/features`` when that is set)."""
    from deepcourse.data import derived_dir

    path = derived_dir() / "features"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _recipe_json(rec: DomainRecipe) -> str:
    return json.dumps(asdict(rec), sort_keys=True)


def weights_sha(state: dict[str, torch.Tensor]) -> str:
    """sha256 over the names, dtypes, shapes and bytes of a state dict's tensors, in name order."""
    h = hashlib.sha256()
    for k in sorted(state):
        t = state[k].detach().cpu().contiguous()
        h.update(k.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def fingerprint(rec: DomainRecipe, sha: str) -> str:
    """``<domain>-<kind>-cnn-v<version>-<12 hex digits of sha256(recipe + weights)>``."""
    h = hashlib.sha256((_recipe_json(rec) + sha).encode()).hexdigest()
    return f"{rec.domain}-{rec.kind}-cnn-v{rec.version}-{h[:12]}"


def cache_paths(rec: DomainRecipe) -> tuple[Path, Path]:
    """``(weights .pt, metadata .json)`` of ``rec`` in :func:`feature_cache_dir`."""
    key = hashlib.sha256(_recipe_json(rec).encode()).hexdigest()[:12]
    base = feature_cache_dir() / f"{rec.domain}-{rec.kind}-{key}"
    return base.with_suffix(".pt"), base.with_suffix(".json")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` for the block (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _load(rec: DomainRecipe, weights: Path, meta_path: Path) -> FeatureNet | None:
    """The cached net; None when neither file exists; :class:`FeatureCacheError` for anything else."""
    if not weights.exists() and not meta_path.exists():
        return None
    fix = f"delete {weights} and {meta_path} (or call domain_features(..., retrain=True)) to train it again"
    try:
        meta = json.loads(meta_path.read_text())
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as e:
        raise FeatureCacheError(f"cached {rec.domain} feature network is unreadable ({type(e).__name__}: {e}); "
                                f"{fix}") from e
    if meta.get("recipe") != json.loads(_recipe_json(rec)) or weights_sha(state) != meta.get("weights_sha256"):
        raise FeatureCacheError(f"cached {rec.domain} feature network does not match its metadata "
                                f"(recipe or weights changed); {fix}")
    net = FeatureNet(rec)
    net.load_state_dict(state)
    net.fingerprint, net.meta = meta["fingerprint"], meta
    return net


def _train_and_save(rec: DomainRecipe, root: Any, device: torch.device, weights: Path, meta_path: Path,
                    verbose: bool) -> FeatureNet:
    net, info = train_feature_net(rec, root, device=device, verbose=verbose)
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    sha = weights_sha(state)
    meta = {"domain": rec.domain, "kind": rec.kind, "recipe": json.loads(_recipe_json(rec)), "weights_sha256": sha,
            "fingerprint": fingerprint(rec, sha), **info, "torch": torch.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    buf = io.BytesIO()
    torch.save(state, buf)
    _atomic_write(weights, buf.getvalue())
    _atomic_write(meta_path, (json.dumps(meta, indent=2) + "\n").encode())
    net.fingerprint, net.meta = meta["fingerprint"], meta
    return net


_MEMO: dict[tuple[str, str], FeatureNet] = {}


def domain_features(domain: str, run_or_root: Any = None, *, kind: str = "full", retrain: bool = False,
                    device: torch.device | str | None = None, verbose: bool = False) -> FeatureNet:
    """The trained, frozen feature network of ``domain`` (trained on first use, then loaded from the cache).

    ``domain``: "digits" | "mnist" | "fashion-mnist" | "usps" | "cifar10-jpeg"; ``kind``: "full" or "small"
    (:data:`~.features.RECIPES`). ``run_or_root``: a ``Run`` (its ``data_root`` is used), a data root, or
    None (``$DEEPCOURSE_DATA``). ``retrain=True`` overwrites the cache. The returned net is in eval mode
    with ``requires_grad`` off, on ``device`` (default: CPU); ``net.meta`` holds the metadata.
    Raises :class:`FeatureCacheError` for a damaged cache and ``DataMissingError`` for absent data.
    """
    rec = get_recipe(domain, kind)
    device = torch.device(device if device is not None else "cpu")
    weights, meta_path = cache_paths(rec)
    memo_key = (str(weights), str(device))
    if not retrain and memo_key in _MEMO and weights.is_file():
        return _MEMO[memo_key]
    with _locked(weights.with_suffix(".lock")):
        net = None if retrain else _load(rec, weights, meta_path)
        if net is None:
            net = _train_and_save(rec, _data_root(run_or_root), device, weights, meta_path, verbose)
    net = net.to(device).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    _MEMO[memo_key] = net
    return net
