"""Point-cloud ops: our batched pure-torch FPS, kNN and Chamfer distance against naive dense versions (and
torch_cluster's C++ ``fps``/``knn`` when it is installed; skipped otherwise), plus PointNet training throughput.

Cases (the issue's): FPS B=32, N=2,048 -> 512; kNN k=16, N=1,024 (B=32, all points as queries); Chamfer
forward + backward, 2,048 x 2,048 (B=8). Each case runs in a fresh subprocess so that its peak resident memory
(ru_maxrss above the process's level once the inputs exist) is its own. Naive versions: FPS and kNN on the full N x N
distance matrix (kNN by a full sort), Chamfer through the dense (B, N, M) matrix with autograd.

Run: ``.venv/bin/python benchmarks/pointcloud.py [--threads N] [--repeats R] [--quick]``. Writes
``benchmarks/results/pointcloud.json``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def naive_fps(x, m):
    import torch
    d = torch.cdist(x, x) ** 2  # (B, N, N): the O(N^2) memory version
    b, n, _ = x.shape
    idx = torch.zeros(b, m, dtype=torch.long)
    dist = d[:, 0].clone()
    for i in range(1, m):
        idx[:, i] = dist.argmax(-1)
        dist = torch.minimum(dist, d[torch.arange(b), idx[:, i]])
    return idx


def naive_knn(q, r, k):
    import torch
    return (torch.cdist(q, r) ** 2).sort(-1).indices[..., :k]


def naive_chamfer(p, g):
    import torch
    d = torch.cdist(p, g) ** 2
    return d.min(2).values.mean() + d.min(1).values.mean()


def _case(name: str, impl: str, threads: int, repeats: int, quick: bool, out: mp.Queue) -> None:
    import torch
    torch.set_num_threads(threads)
    from deepcourse.pointcloud import PointNet, chamfer_distance, farthest_point_sample, knn

    g = torch.Generator().manual_seed(0)
    scale = 4 if quick else 1
    if name == "fps":
        x = torch.rand(32 // scale, 2048, 3, generator=g)
        fn = {"ours": lambda: farthest_point_sample(x, 512), "naive": lambda: naive_fps(x, 512)}.get(impl)
        if impl == "torch_cluster":
            import torch_cluster
            flat, batch = x.reshape(-1, 3), torch.arange(x.shape[0]).repeat_interleave(2048)
            fn = lambda: torch_cluster.fps(flat, batch, ratio=0.25, random_start=False)  # noqa: E731
    elif name == "knn":
        x = torch.rand(32 // scale, 1024, 3, generator=g)
        fn = {"ours": lambda: knn(x, x, 16), "naive": lambda: naive_knn(x, x, 16)}.get(impl)
        if impl == "torch_cluster":
            import torch_cluster
            flat, batch = x.reshape(-1, 3), torch.arange(x.shape[0]).repeat_interleave(1024)
            fn = lambda: torch_cluster.knn(flat, flat, 16, batch, batch)  # noqa: E731
    elif name == "chamfer":
        p = torch.rand(8 // scale, 2048, 3, generator=g, requires_grad=True)
        gt = torch.rand(8 // scale, 2048, 3, generator=g)

        def fn():
            loss = chamfer_distance(p, gt, "l2") if impl == "ours" else naive_chamfer(p, gt)
            loss.backward()
            p.grad = None
    elif name == "pointnet-train":
        model = PointNet(40)
        opt = torch.optim.Adam(model.parameters())
        x, y = torch.randn(32, 1024, 3, generator=g), torch.randint(0, 40, (32,), generator=g)

        def fn():
            loss = torch.nn.functional.cross_entropy(model(x), y) + 0.001 * model.regulariser()
            opt.zero_grad()
            loss.backward()
            opt.step()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # inputs allocated, op not yet run
    fn()  # warm-up (its allocations count towards the peak)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put({"ms": 1000 * statistics.median(times), "peak_mb_above_inputs": (peak - base) / 1024,
             "peak_rss_mb": peak / 1024})


def run_case(name: str, impl: str, threads: int, repeats: int, quick: bool) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_case, args=(name, impl, threads, repeats, quick, q))
    p.start()
    p.join()
    return q.get() if p.exitcode == 0 and not q.empty() else {"error": f"exit code {p.exitcode}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="a quarter of the batch sizes (a smoke run)")
    args = ap.parse_args()
    try:
        import torch_cluster  # noqa: F401
        have_cluster = True
    except ImportError:
        have_cluster = False
        print("torch_cluster is not installed: skipping the C++ fps/knn comparison")
    results = {}
    for name in ("fps", "knn", "chamfer"):
        impls = ["ours", "naive"] + (["torch_cluster"] if have_cluster and name != "chamfer" else [])
        results[name] = {impl: run_case(name, impl, args.threads, args.repeats, args.quick) for impl in impls}
        r = results[name]
        ratio = r["naive"]["ms"] / r["ours"]["ms"] if "ms" in r["naive"] and "ms" in r["ours"] else float("nan")
        r["naive_over_ours"] = ratio
        line = "  ".join(f"{impl} {v['ms']:.1f} ms (+{v['peak_mb_above_inputs']:.0f} MB)" for impl, v in r.items()
                         if isinstance(v, dict) and "ms" in v)
        print(f"{name:8s} {line}  naive/ours {ratio:.2f}x")
    t = run_case("pointnet-train", "ours", args.threads, 2, args.quick)
    t["clouds_per_s"] = 32 / (t["ms"] / 1000)
    results["pointnet-train"] = t
    print(f"PointNet (full width, 1,024 points, batch 32) training: {t['clouds_per_s']:.1f} clouds/s "
          f"({t['ms']:.0f} ms per step)")
    import torch
    results["env"] = {"torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
                      "threads": args.threads, "quick": args.quick, "torch_cluster": have_cluster}
    out = Path(__file__).resolve().parent / "results" / "pointcloud.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
