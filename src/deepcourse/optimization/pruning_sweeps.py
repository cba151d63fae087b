"""Sweeps that measure what pruning and weight clustering cost in accuracy and buy in size and speed.

Each sweep starts from a trained network, compresses copies of it and returns table rows plus flat
metrics (``{kind}_acc_unstructured_0.9``, ``cluster_ratio_4bit``, ...):

* :func:`unstructured_sweep`: magnitude pruning (Han et al. 2015) at several sparsities, the accuracy
  right after pruning with one global threshold and with one threshold per layer, and after masked
  fine-tuning; optionally the latency of the pruned weights stored as CSR.
* :func:`channel_sweep`: L1 filter pruning (Li et al. 2017) with masked fine-tuning, then the physically
  smaller network (:func:`~.pruning.shrink_sequential`): same function, fewer parameters, its latency.
* :func:`gradual_run`: pruning during training on the cubic schedule of Zhu & Gupta (2017).
* :func:`clustering_sweep`: k-means weight sharing (Han et al. 2016) at several bits per weight.
* :func:`csr_speedups`: one square Linear layer, dense vs CSR, at several sparsities.
"""

from __future__ import annotations

import copy
import math
from typing import Callable, Sequence

import torch
from torch import Tensor, nn

from deepcourse.core import TensorLoader, fit, predict
from deepcourse.metrics import accuracy

from .clustering import cluster_model, compressed_bits, dense_bits
from .pruning import GradualPruning, Masks, channel_prune, magnitude_prune, shrink_sequential, sparsity, to_sparse
from .quantization import measure_latency

__all__ = ["unstructured_sweep", "channel_sweep", "gradual_run", "clustering_sweep", "csr_speedups", "sweep_figure"]

Finetune = Callable[[nn.Module, Masks, str], object]  # (model, masks, name): masked fine-tuning in place


def _accuracy_of(model: nn.Module, test: tuple[Tensor, Tensor]) -> float:
    """The shared ``metrics.accuracy`` of the model's predictions on ``(x, y)``."""
    return accuracy(predict(model, test[0]), test[1])


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def unstructured_sweep(kind: str, net: nn.Module, sparsities: Sequence[float], test: tuple[Tensor, Tensor],
                       finetune: Finetune, *, latency_x: Tensor | None = None,
                       repeats: int = 20) -> tuple[list[dict], dict[str, float]]:
    """Global magnitude pruning of a copy of ``net`` at each sparsity, then ``finetune``; with ``latency_x``
    also the median latency of the dense net and of each pruned copy with its Linear layers in CSR form."""
    base = _accuracy_of(net, test)
    m = {f"{kind}_dense_acc": base}
    if latency_x is not None:
        m[f"{kind}_latency_ms_dense"] = 1e3 * measure_latency(net, latency_x, repeats=repeats)
    rows = []
    for sp in sparsities:
        for scope in ("layer", "global"):  # right after pruning: one threshold per layer vs one for all
            pruned = copy.deepcopy(net)
            masks = magnitude_prune(pruned, sp, scope=scope)
            m[f"{kind}_acc_noft_{scope}_{sp:g}"] = _accuracy_of(pruned, test)
        finetune(pruned, masks, f"{kind}-unstructured-{sp:g}")
        acc = _accuracy_of(pruned, test)
        m.update({f"{kind}_acc_unstructured_{sp:g}": acc, f"{kind}_acc_drop_unstructured_{sp:g}": base - acc,
                  f"{kind}_measured_sparsity_{sp:g}": sparsity(pruned)})
        row = {"model": kind, "method": "unstructured", "amount": sp, "no fine-tuning, per layer":
               m[f"{kind}_acc_noft_layer_{sp:g}"], "no fine-tuning, global": m[f"{kind}_acc_noft_global_{sp:g}"],
               "test acc": acc, "params kept": 1 - sparsity(pruned)}
        if latency_x is not None:
            ms = 1e3 * measure_latency(to_sparse(pruned), latency_x, repeats=repeats)
            m[f"{kind}_latency_ms_csr_{sp:g}"] = ms
            m[f"{kind}_speedup_csr_{sp:g}"] = m[f"{kind}_latency_ms_dense"] / ms
            row["ms / batch"] = ms
        rows.append(row)
    return rows, m


def channel_sweep(kind: str, net: nn.Module, fractions: Sequence[float], test: tuple[Tensor, Tensor],
                  finetune: Finetune, *, latency_x: Tensor,
                  repeats: int = 20) -> tuple[list[dict], dict[str, float]]:
    """L1 channel pruning of a copy of ``net`` at each fraction, ``finetune``, then the shrunk network: its
    accuracy, parameter ratio, whether it computes what the masked net computes, and its latency."""
    base = _accuracy_of(net, test)
    dense_ms = 1e3 * measure_latency(net, latency_x, repeats=repeats)
    m, rows, same = {f"{kind}_latency_ms_dense": dense_ms}, [], []
    for frac in fractions:
        pruned = copy.deepcopy(net)
        masks = channel_prune(pruned, frac)
        finetune(pruned, masks, f"{kind}-channels-{frac:g}")
        small = shrink_sequential(pruned, masks).eval()
        acc = _accuracy_of(small, test)
        same.append(torch.allclose(predict(pruned, test[0][:256]), predict(small, test[0][:256]), atol=1e-4))
        ms = 1e3 * measure_latency(small, latency_x, repeats=repeats)
        m.update({f"{kind}_acc_channels_{frac:g}": acc, f"{kind}_acc_drop_channels_{frac:g}": base - acc,
                  f"{kind}_params_ratio_channels_{frac:g}": _params(net) / _params(small),
                  f"{kind}_latency_ms_channels_{frac:g}": ms, f"{kind}_speedup_channels_{frac:g}": dense_ms / ms})
        rows.append({"model": kind, "method": "channels", "amount": frac, "test acc": acc,
                     "params kept": _params(small) / _params(net), "ms / batch": ms})
    m[f"{kind}_structured_same_function"] = float(all(same))
    return rows, m


def gradual_run(model: nn.Module, train: tuple[Tensor, Tensor], *, target: float, epochs: int, lr: float,
                batch_size: int, seed: int) -> nn.Module:
    """Train ``model`` with Adam while :class:`~.pruning.GradualPruning` raises the global sparsity from 0 at
    10 % of the steps to ``target`` at 60 %, in ten pruning steps (Zhu & Gupta 2017, eq. 1); the last 40 %
    let the survivors recover. No model selection on validation: an earlier epoch would be less sparse."""
    loader = TensorLoader(*train, batch_size=batch_size, seed=seed % 2**31)
    total = epochs * math.ceil(len(train[0]) / batch_size)
    begin, end = total // 10, (3 * total) // 5
    sched = GradualPruning(model, target, begin=begin, end=end, every=max(1, (end - begin) // 10), scope="global")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    fit(lambda b: {"loss": nn.functional.cross_entropy(model(b[0]), b[1])}, loader, epochs=epochs, model=model,
        optimizer=opt, callbacks=[sched], log_every=10**9)
    return model.eval()


def clustering_sweep(net: nn.Module, bits: Sequence[int], test: tuple[Tensor, Tensor]) -> tuple[list[dict], dict]:
    """Each weight layer of a copy of ``net`` shared among 2^b k-means centroids, without fine-tuning:
    accuracy and the compression rate of Han et al. (2016) eq. 2."""
    base = _accuracy_of(net, test)
    rows, m = [], {}
    for b in bits:
        shared = copy.deepcopy(net)
        ratio = dense_bits(shared) / compressed_bits(shared, cluster_model(shared, b))
        acc = _accuracy_of(shared, test)
        m.update({f"cluster_acc_{b}bit": acc, f"cluster_acc_drop_{b}bit": base - acc, f"cluster_ratio_{b}bit": ratio})
        rows.append({"bits": b, "test acc": acc, "compression": ratio})
    return rows, m


def csr_speedups(width: int, batch: int, sparsities: Sequence[float], *, repeats: int = 20,
                 seed: int = 0) -> tuple[list[dict], dict[str, float]]:
    """Is an unstructured sparse layer faster? A ``width`` x ``width`` Linear at batch ``batch``: dense vs its
    magnitude-pruned copy stored in CSR form, at each sparsity (one thread, median latency)."""
    g = torch.Generator().manual_seed(seed)
    lin = nn.Linear(width, width)
    x = torch.randn(batch, width, generator=g)
    dense = 1e3 * measure_latency(lin, x, repeats=repeats)
    rows, m = [], {}
    for sp in sparsities:
        layer = copy.deepcopy(lin)
        magnitude_prune(layer, sp)
        ms = 1e3 * measure_latency(to_sparse(nn.Sequential(layer)), x, repeats=repeats)
        m[f"csr_speedup_{sp:g}"] = dense / ms
        rows.append({"sparsity": sp, "dense ms": dense, "CSR ms": ms, "speedup": dense / ms})
    return rows, m


def sweep_figure(rows: list[dict], cluster_rows: list[dict], dense_acc: dict[str, float]):
    """Test accuracy vs fraction removed (per model and method) and vs bits per weight (clustering)."""
    from deepcourse.viz import new_figure, style

    with style():
        fig = new_figure((10, 3.8))
        ax, bx = fig.subplots(1, 2)
        for kind, acc in dense_acc.items():
            for method, fmt in (("unstructured", "-o"), ("channels", "--s")):
                pts = [(r["amount"], r["test acc"]) for r in rows if r["model"] == kind and r["method"] == method]
                ax.plot([a for a, _ in pts], [v for _, v in pts], fmt, label=f"{kind} {method}")
            ax.axhline(acc, color="0.6", lw=0.8)
        ax.set_xlabel("fraction removed (weights or channels)")
        ax.set_ylabel("test accuracy")
        ax.legend(frameon=False, fontsize=8)
        bx.plot([r["bits"] for r in cluster_rows], [r["test acc"] for r in cluster_rows], "-o")
        bx.axhline(dense_acc["mlp"], color="0.6", lw=0.8, label="fp32")
        bx.set_xlabel("bits per weight (k = 2^bits clusters)")
        bx.set_ylabel("test accuracy (MLP)")
        bx.legend(frameon=False)
    return fig
