"""The graph-classification benchmark driver: the WL kernel SVM and the neural models (GCN, GIN, the GN-block
MPNN, the second-order CCN) on TU datasets under the two protocols the literature uses.

* ``split``: the CCN paper's protocol (Kondor et al. 2018, Sec. 6): a random 80/10/10 train/validation/test
  split, repeated; the epoch (or the WL ``h`` and ``C``) is chosen on validation; mean ± std of test accuracy.
* ``cv``: the GIN paper's protocol (Xu et al. 2019, Sec. 7): stratified 10-fold cross-validation; neural
  models report the test-fold accuracy at the single epoch whose accuracy averaged over the folds is best
  (their choice); WL picks ``h`` and ``C`` on a 10 % validation part of each training fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from .ccn import CCN2D
from .gcn import GCN
from .gin import GIN
from .gn_block import GraphNetwork
from .training import train_graph_model
from .wl import WLSVM, wl_kernels

__all__ = ["MODELS", "PROTOCOLS", "ClassificationSetup", "protocol_splits", "build_model", "wl_models", "evaluate_model"]

MODELS = ("wl", "gcn", "gin", "mpnn", "ccn")
PROTOCOLS = ("split", "cv")


@dataclass
class ClassificationSetup:
    """Hyper-parameters shared by the neural models (per-model ones carry the model's prefix)."""

    epochs: int = 350
    lr: float = 0.01
    lr_step: int | None = 50
    batch_size: int = 32
    hidden: int = 32
    dropout: float = 0.5
    ccn_epochs: int = 100
    ccn_channels: int = 16
    ccn_levels: int = 2
    ccn_lr: float = 0.003
    wl_max_h: int = 6


def protocol_splits(protocol: str, y: np.ndarray, repeats: int, seed: int) -> list[tuple[np.ndarray, ...]]:
    """``(train, val, test)`` index arrays: ``repeats`` random 80/10/10 splits, or ``repeats`` stratified folds
    (val: 10 % of each training fold, used only by WL in ``cv``)."""
    rng = np.random.default_rng(seed)
    n = len(y)
    out = []
    if protocol == "split":
        for _ in range(repeats):
            perm = rng.permutation(n)
            a, b = int(round(0.8 * n)), int(round(0.9 * n))
            out.append((perm[:a], perm[a:b], perm[b:]))
        return out
    if protocol != "cv":
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    from sklearn.model_selection import StratifiedKFold

    for train, test in StratifiedKFold(n_splits=repeats, shuffle=True, random_state=seed).split(np.zeros(n), y):
        train = rng.permutation(train)
        k = max(1, int(round(0.1 * len(train))))
        out.append((train[k:], train[:k], test))
    return out


def build_model(name: str, in_features: int, classes: int, setup: ClassificationSetup) -> nn.Module:
    h = setup.hidden
    if name == "gcn":
        return GCN(in_features, 2 * h, classes, layers=3, dropout=setup.dropout, graph_level=True, pool="mean")
    if name == "gin":
        return GIN(in_features, h, classes, layers=4, dropout=setup.dropout)  # GIN-0: eps fixed at 0
    if name == "mpnn":
        return GraphNetwork(in_features, h, classes, blocks=3, config="mpnn", dropout=setup.dropout)
    if name == "ccn":
        return CCN2D(in_features, setup.ccn_channels, classes, levels=setup.ccn_levels, hidden=2 * h,
                     dropout=setup.dropout)
    raise ValueError(f"unknown model {name!r}; known: {MODELS}")


def wl_models(graphs: list, max_h: int, cache: dict | None = None) -> dict[int, WLSVM]:
    """``{h: WLSVM}`` for ``h = 0..max_h`` (normalised kernels), kept in ``cache`` under ``(id(graphs), max_h)``."""
    key = (id(graphs), max_h)
    if cache is not None and key in cache:
        return cache[key]
    models = {h: WLSVM(k) for h, k in wl_kernels(graphs, max_h).items()}
    if cache is not None:
        cache.clear()  # one data set at a time: the NCI kernels take ~130 MB per h
        cache[key] = models
    return models


def evaluate_model(name: str, protocol: str, graphs: list, splits: list[tuple[np.ndarray, ...]],
                   setup: ClassificationSetup, seed_model: Callable[[str], torch.Generator],
                   progress: Callable = lambda it, **kw: it, cache: dict | None = None) -> list[float]:
    """Test accuracies (%) of ``name`` over the splits (one per split or fold). WL tries ``h = 1..wl_max_h``
    (Xu et al. 2019: {1, ..., 6}) and C in :data:`~deepcourse.gnn.wl.C_GRID`; ``cache``: a dict that keeps the
    normalised WL kernels of ``graphs`` between calls (e.g. for the second protocol)."""
    y = np.array([int(g.y) for g in graphs])
    if name == "wl":
        models = wl_models(graphs, setup.wl_max_h, cache)
        hs = range(min(1, setup.wl_max_h), setup.wl_max_h + 1)
        return [100 * WLSVM.fit_select(models, y, tr, va, te, hs=hs)[0]
                for tr, va, te in progress(splits, desc=f"wl {protocol}")]
    in_features, classes = graphs[0].x.shape[1], int(y.max()) + 1
    ccn = name == "ccn"
    curves, accs = [], []
    for k, (tr, va, te) in enumerate(progress(splits, desc=f"{name} {protocol}")):
        gen = seed_model(f"{name}/{k}")
        torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen)))
        model = build_model(name, in_features, classes, setup)
        if protocol == "cv":  # Xu et al.: no validation set; train on the whole training fold
            tr = np.concatenate([tr, va])
        res = train_graph_model(
            model, [graphs[i] for i in tr], [graphs[i] for i in va] if protocol == "split" else None,
            [graphs[i] for i in te], task="classification", epochs=setup.ccn_epochs if ccn else setup.epochs,
            lr=setup.ccn_lr if ccn else setup.lr, batch_size=setup.batch_size, lr_step=setup.lr_step, generator=gen)
        curves.append(res.test_curve)
        accs.append(100 * res.test)
    if protocol == "cv":  # the single epoch with the best accuracy averaged over folds
        mean_curve = np.mean(np.array(curves), 0)
        best = int(np.argmax(mean_curve))
        accs = [100 * c[best] for c in curves]
    return accs
