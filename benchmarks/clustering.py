"""DEC on MNIST, stage by stage, and the vectorised soft assignment + target against a per-sample loop.

1. Pipeline: times each stage of the ``dec-mnist`` full recipe on this machine (load 70,000 images,
   SDAE pretraining + fine-tuning, k-means init with 20 restarts, DEC iterations, evaluation) and prints
   the accuracy reached. ``--pretrain-epochs``/``--finetune-epochs``/``--max-iter`` shorten it
   (the times are also reported per epoch / per iteration so a full run can be extrapolated).
2. Micro-benchmark: Student-t soft assignment q (Xie et al. 2016, eq. 1) and target p (eq. 3) for
   N points and K centroids, vectorised (``deepcourse.clustering.losses``) vs a naive Python loop over
   samples; prints the ratio (and checks that both agree).

Run: ``.venv/bin/python benchmarks/clustering.py [--data-dir DIR] [--skip-pipeline] [--threads N]``.
Writes ``benchmarks/results/clustering.json``. Takes a few minutes with the default (full) settings.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from deepcourse.clustering import losses as L  # noqa: E402


def naive_q_p(z: torch.Tensor, mu: torch.Tensor, nu: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """What a first attempt looks like: one Python iteration per sample and per centroid."""
    n, k = z.shape[0], mu.shape[0]
    q = torch.empty(n, k)
    for i in range(n):
        row = [float((1 + ((z[i] - mu[j]) ** 2).sum() / nu) ** (-(nu + 1) / 2)) for j in range(k)]
        s = sum(row)
        for j in range(k):
            q[i, j] = row[j] / s
    f = [float(q[:, j].sum()) for j in range(k)]
    p = torch.empty(n, k)
    for i in range(n):
        w = [float(q[i, j]) ** 2 / f[j] for j in range(k)]
        s = sum(w)
        for j in range(k):
            p[i, j] = w[j] / s
    return q, p


def micro(n: int, k: int = 10, d: int = 10, repeats: int = 5) -> dict:
    g = torch.Generator().manual_seed(0)
    z, mu = torch.randn(n, d, generator=g), torch.randn(k, d, generator=g)
    t = time.perf_counter()
    qn, pn = naive_q_p(z, mu)
    naive = time.perf_counter() - t
    L.target_distribution(L.soft_assignment(z, mu))  # warm-up (first-call allocations)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        q = L.soft_assignment(z, mu)
        p = L.target_distribution(q)
        times.append(time.perf_counter() - t)
    vec = statistics.median(times)
    assert torch.allclose(q, qn, atol=1e-5) and torch.allclose(p, pn, atol=1e-5), "vectorised and naive disagree"
    return {"n": n, "k": k, "d": d, "naive_s": naive, "vectorised_s": vec, "ratio": naive / vec}


def pipeline(args) -> dict:
    from deepcourse.autoencoders.stacked import StackedDenoisingAE, encode_batched, finetune, pretrain_layerwise
    from deepcourse.clustering.dec import fit_dec, kmeans_init
    from deepcourse.clustering import DECConfig, load_points
    from deepcourse.core.utils import num_threads
    from deepcourse.metrics.clustering import cluster_acc, nmi

    cfg = DECConfig(dataset="mnist")
    pe = cfg.pretrain_epochs if args.pretrain_epochs is None else args.pretrain_epochs
    fe = cfg.finetune_epochs if args.finetune_epochs is None else args.finetune_epochs
    mi = cfg.max_iter if args.max_iter is None else args.max_iter
    out: dict = {"config": {**cfg.__dict__, "pretrain_epochs": pe, "finetune_epochs": fe, "max_iter": mi}}

    class _Root:  # load_points reads run.data_root only
        data_root = Path(args.data_dir) if args.data_dir else None

    t = time.perf_counter()
    x, y, _ = load_points("mnist", _Root())
    out["load_s"] = time.perf_counter() - t
    torch.manual_seed(0)
    with num_threads(args.threads):
        m = StackedDenoisingAE(dropout=cfg.dropout)
        t = time.perf_counter()
        pretrain_layerwise(m, x, epochs=pe, batch_size=cfg.ae_batch, lr=cfg.ae_lr, amp=cfg.amp)
        out["pretrain_layerwise_s"] = time.perf_counter() - t
        t = time.perf_counter()
        finetune(m, x, epochs=fe, batch_size=cfg.ae_batch, lr=cfg.ae_lr, amp=cfg.amp)
        out["finetune_s"] = time.perf_counter() - t
        out["pretrain_per_epoch_s"] = out["pretrain_layerwise_s"] / max(pe, 1)
        out["finetune_per_epoch_s"] = out["finetune_s"] / max(fe, 1)
        t = time.perf_counter()
        z = encode_batched(m.encode, x)
        c, lab = kmeans_init(z, 10, n_init=cfg.n_init)
        out["kmeans_init_s"] = time.perf_counter() - t
        t = time.perf_counter()
        res = fit_dec(m.encoder, x, 10, centroids=c, lr=cfg.dec_lr, batch_size=cfg.dec_batch,
                      update_interval=cfg.update_interval, tol=cfg.tol, max_iter=mi)
        out["dec_s"] = time.perf_counter() - t
        out["dec_iterations"] = res.iterations
        out["dec_per_iteration_s"] = out["dec_s"] / max(res.iterations, 1)
        t = time.perf_counter()
        out["acc_ae_kmeans"] = cluster_acc(y, lab)
        out["acc_dec"], out["nmi_dec"] = cluster_acc(y, res.y_pred), nmi(y, res.y_pred)
        out["evaluation_s"] = time.perf_counter() - t
    out["total_s"] = sum(v for k, v in out.items() if k.endswith("_s") and "per_" not in k)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-pipeline", action="store_true")
    ap.add_argument("--pretrain-epochs", type=int, default=None)
    ap.add_argument("--finetune-epochs", type=int, default=None)
    ap.add_argument("--max-iter", type=int, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)  # on a shared 2-core machine one thread beat two by 2.5x
    result: dict = {"machine": {"python": platform.python_version(), "torch": torch.__version__,
                                "cpu": platform.processor() or platform.machine(), "threads": args.threads}}
    with torch.no_grad():
        result["soft_assignment_target"] = [micro(n) for n in (1000, 5000)]
    for r in result["soft_assignment_target"]:
        print(f"q + p, N={r['n']:>5}, K={r['k']}: naive {r['naive_s'] * 1e3:9.1f} ms   vectorised "
              f"{r['vectorised_s'] * 1e3:7.3f} ms   ratio {r['ratio']:8.0f}x")
    if not args.skip_pipeline:
        result["pipeline"] = p = pipeline(args)
        for k in ("load_s", "pretrain_layerwise_s", "finetune_s", "kmeans_init_s", "dec_s", "evaluation_s", "total_s"):
            print(f"{k:>22}: {p[k]:8.1f} s")
        print(f"AE + k-means ACC {100 * p['acc_ae_kmeans']:.2f} %, DEC ACC {100 * p['acc_dec']:.2f} % "
              f"after {p['dec_iterations']} DEC iterations")
    out = Path(__file__).resolve().parent / "results" / "clustering.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
