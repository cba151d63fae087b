"""Truncated SVD of dense layers (Xue et al. 2013; Denton et al. 2014): the rank sweep of a trained MLP."""

from __future__ import annotations

from dataclasses import dataclass

from deepcourse.core import Reference, Run, at_least, experiment, param, train_classifier
from deepcourse.data import load_splits
from deepcourse.foundations import MLP
from deepcourse.viz import line_plot

from ..svd import rank_sweep


@dataclass
class SVDConfig:
    dataset: str = param("fashion-mnist", choices=("mnist", "fashion-mnist"))
    subset: int | None = param(None, ge=100, help="training images (fixed stratified subset; None: all)")
    test_subset: int | None = param(None, ge=100, help="test images (None: the whole test split)")
    hidden: int = param(512, ge=2, help="width of the MLP's two hidden layers")
    epochs: int = param(10, ge=1)
    batch_size: int = param(128, ge=1)
    lr: float = param(0.05, gt=0, help="SGD with Nesterov momentum 0.9, cosine decay to 0")
    ranks: tuple[int, ...] = param((4, 8, 16, 32, 64, 128, 256), ge=1, help="ranks t of the sweep")
    latency_batch: int = param(256, ge=1, help="batch size of the one-thread CPU latency measurement")


@experiment(
    name="svd-compression", module="9", title="Truncated SVD of dense layers: the rank sweep",
    paper=Reference("Xue et al. 2013; Denton et al. 2014; notes 'Approximating large FC layers with truncated SVD'", {}),
    quick=SVDConfig(subset=3000, epochs=8, batch_size=64, ranks=(8, 16, 32, 64, 128)),
    full=SVDConfig(),
    # Measured (quick, seeds 0-4, --threads 1 and 2): compression_within_1pt 4.3-15.5 (ranks 64-16). With U
    # replaced by noise in truncated_svd every rank falls to 10 % accuracy: 1.0, and the floor fails.
    floor={"compression_within_1pt": at_least(2.0)}, primary="compression_within_1pt", threads=1,
)
def svd_compression(cfg: SVDConfig, run: Run) -> dict[str, float]:
    """Factorising a trained MLP's hidden layers at rank t trades parameters for accuracy; a rank exists
    with >= 2x fewer dense parameters within 1 point of the dense model's test accuracy, without
    fine-tuning."""
    splits = load_splits(cfg.dataset, run, subset=cfg.subset, test_subset=cfg.test_subset)
    run.manual_seed("mlp")
    model = MLP(splits.x_train[0].numel(), (cfg.hidden, cfg.hidden), splits.num_classes)
    train_classifier(model, splits, run, epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size, optimizer="sgd",
                     scheduler="cosine", name="mlp")
    dense, rows = rank_sweep(model, splits.x_test, splits.y_test, cfg.ranks,
                             splits.x_test[:cfg.latency_batch].to(run.device))
    ok = [r for r in rows if r["acc"] >= dense["acc"] - 0.01]
    best = max(ok, key=lambda r: dense["params"] / r["params"]) if ok else None
    out = {"acc_dense": dense["acc"], "params_dense": float(dense["params"]), "latency_ms_dense": dense["latency_ms"],
           "compression_within_1pt": dense["params"] / best["params"] if best else 1.0,
           "rank_within_1pt": float(best["rank"]) if best else float("nan"),
           "acc_at_that_rank": best["acc"] if best else float("nan"),
           "speedup_at_that_rank": dense["latency_ms"] / best["latency_ms"] if best else float("nan")}
    for r in rows:
        out.update({f"acc_rank{r['rank']}": r["acc"], f"params_rank{r['rank']}": float(r["params"]),
                    f"latency_ms_rank{r['rank']}": r["latency_ms"]})
    run.table([{"rank": "dense", **{k: dense[k] for k in ("acc", "params", "flops", "latency_ms")}}]
              + [{k: r[k] for k in ("rank", "acc", "params", "flops", "latency_ms")} for r in rows],
              f"MLP {cfg.hidden}-{cfg.hidden} on {cfg.dataset}: hidden layers factorised at rank t (no fine-tuning)")
    rs = [r["rank"] for r in rows]
    run.save_figure("accuracy_vs_rank", line_plot(rs, {"factorised": [100 * r["acc"] for r in rows],
                                                       "dense": [100 * dense["acc"]] * len(rows)},
                                                  "rank t", "test accuracy (%)", logx=True))
    run.save_figure("cost_vs_rank", line_plot(
        rs, {f"{k} / dense": [r[k] / dense[k] for r in rows] for k in ("params", "flops", "latency_ms")},
        "rank t", "fraction of the dense model", logx=True))
    return out
