"""Training throughput of ResNet-18 (CIFAR stem, 32x32 inputs) on this machine's CPU: default (NCHW)
vs channels-last (NHWC) memory format, eager vs ``torch.compile``, and model-FLOP utilisation (MFU)
against this machine's measured float32 matmul peak.

    MFU = (3 x forward FLOPs per image x images/s) / peak FLOP/s

(the backward pass costs about twice the forward: Chowdhery et al. 2022, appendix B). One training
step is forward + cross-entropy + backward + SGD-with-momentum update on a random batch. The four
variants run in interleaved rounds, so each sees the machine under similar load; the best round is
reported (least interference from other processes) beside the median.

The "peak" is what torch's BLAS (MKL) reaches on a 2048^3 float32 matmul, not the datasheet figure.
On the AMD EPYC (Zen 4) development machine MKL reached ~90 GFLOP per CPU-second on one thread while a
large 3x3 convolution through oneDNN reached ~113, so an MFU near or above 100 % here means "as
efficient as the BLAS matmul", not "at the hardware limit".

Run: ``.venv/bin/python benchmarks/cnn.py [--batch-size 32] [--rounds 3] [--threads N] [--no-compile]``.
On a machine shared with other jobs, wall-clock numbers drop with the load (recorded in the JSON), and
two OpenMP threads fighting other processes for two cores can be slower than one: ``--threads 1``
gives steadier ratios there. "images/CPU-s" (images per second of this process's CPU time) is printed
too; it is less sensitive to other processes but counts OpenMP spin-waiting as work.
Prints a table with ratios to eager NCHW and writes ``benchmarks/results/cnn.json``. Takes about two
minutes on 2 cores, most of it ``torch.compile``'s code generation. If ``torch.compile`` fails here, the
error is recorded and the eager numbers are still reported.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from deepcourse.cnn import resnet18  # noqa: E402
from deepcourse.cnn.throughput import matmul_peak_flops  # noqa: E402
from deepcourse.core.models import count_flops, count_parameters  # noqa: E402


def matmul_cpu_rate(n: int = 2048, repeats: int = 5) -> float:
    """Best FLOPs per second of this process's CPU time (all threads) for an n x n float32 matmul: the
    peak that the CPU-time throughput is compared with (unaffected by time spent descheduled)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        c0 = time.process_time()
        a @ b
        best = min(best, time.process_time() - c0)
    return 2 * n ** 3 / best


def make_step(model, batch_size: int, channels_last: bool, compile_model: bool):
    """A closure running one training step; compiles (and warms up) first if asked."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, 3, 32, 32, generator=g).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (batch_size,), generator=g)
    fwd = torch.compile(model) if compile_model else model

    def step():
        loss = F.cross_entropy(fwd(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    t0 = time.perf_counter()
    step()  # first call: compilation for the compiled variants, allocator/oneDNN warm-up for eager
    step()
    return step, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per variant per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--width", type=int, default=64, help="ResNet-18 first-stage width (64: the real model)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "cnn.json"))
    args = ap.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    base = resnet18(num_classes=10, width=args.width)
    fwd_flops = count_flops(base, torch.zeros(1, 3, 32, 32))
    print(f"ResNet-18 (CIFAR stem, width {args.width}): {count_parameters(base) / 1e6:.2f}M parameters, "
          f"{fwd_flops / 1e9:.3f} GFLOPs per 32x32 image (forward); torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, batch {args.batch_size}", flush=True)
    peak = matmul_peak_flops(2048, repeats=10)
    peak_cpu = matmul_cpu_rate(2048)
    print(f"float32 matmul (2048^3, best of 10): {peak / 1e9:.1f} GFLOP/s (re-measured in every round)", flush=True)

    variants, errors, warmup_s = {}, {}, {}
    for compiled in ([False] if args.no_compile else [False, True]):
        for cl in (False, True):
            name = f"{'compiled' if compiled else 'eager'} {'channels-last' if cl else 'NCHW'}"
            try:
                variants[name], warmup_s[name] = make_step(copy.deepcopy(base), args.batch_size, cl, compiled)
                print(f"  ready: {name} (first two steps {warmup_s[name]:.1f} s)", flush=True)
            except Exception as e:  # torch.compile needs a working C++ toolchain; report, don't crash
                errors[name] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                print(f"  FAILED: {name}: {errors[name]}", flush=True)
                (Path(args.out).parent).mkdir(parents=True, exist_ok=True)
                (Path(args.out).with_suffix(".compile-error.txt")).write_text(traceback.format_exc())

    times = {k: [] for k in variants}
    cpu = {k: [] for k in variants}
    for _ in range(args.rounds):
        peak = max(peak, matmul_peak_flops(2048, repeats=3))  # the peak, too, is taken at its least disturbed
        peak_cpu = max(peak_cpu, matmul_cpu_rate(2048, repeats=3))
        for name, step in variants.items():
            step()  # re-warm after the other variants ran
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(args.steps):
                step()
            times[name].append((time.perf_counter() - t0) / args.steps)
            cpu[name].append((time.process_time() - c0) / args.steps)

    rows = {}
    for name, ts in times.items():
        best, med = args.batch_size / min(ts), args.batch_size / statistics.median(ts)
        rows[name] = {"images_per_s": best, "images_per_s_median": med, "mfu": 3 * fwd_flops * best / peak,
                      "first_steps_s": warmup_s[name], "cpu_s_per_step_min": min(cpu[name]),
                      "images_per_cpu_s": args.batch_size / min(cpu[name]),
                      "mfu_cpu_time": 3 * fwd_flops * args.batch_size / min(cpu[name]) / peak_cpu}
    ref = rows.get("eager NCHW", {}).get("images_per_s")
    print(f"\nfloat32 matmul peak, best over all rounds: {peak / 1e9:.1f} GFLOP/s wall-clock, "
          f"{peak_cpu / 1e9:.1f} GFLOP per CPU-second")
    print(f"{'variant':<26}{'images/s':>10}{'(median)':>10}{'vs eager NCHW':>15}{'MFU':>8}{'images/CPU-s':>14}{'MFU (CPU time)':>16}")
    for name, r in rows.items():
        r["ratio_vs_eager_nchw"] = r["images_per_s"] / ref if ref else None
        print(f"{name:<26}{r['images_per_s']:>10.1f}{r['images_per_s_median']:>10.1f}"
              f"{(r['ratio_vs_eager_nchw'] or float('nan')):>14.2f}x{100 * r['mfu']:>7.1f}%{r['images_per_cpu_s']:>14.1f}{100 * r['mfu_cpu_time']:>15.1f}%")
    for name, e in errors.items():
        print(f"{name:<26}  failed: {e}")

    result = {
        "benchmark": "cnn: ResNet-18 training throughput, 32x32, CPU",
        "model": {"name": "resnet18", "width": args.width, "params": count_parameters(base), "forward_flops": fwd_flops},
        "batch_size": args.batch_size, "steps": args.steps, "rounds": args.rounds,
        "matmul_peak_flops": peak, "matmul_flops_per_cpu_s": peak_cpu, "variants": rows, "errors": errors,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "threads": torch.get_num_threads(), "torch": torch.__version__, "python": platform.python_version()},
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
