"""Attention on this CPU: our exact attention against torch's fused SDPA, and where Nystrom attention overtakes.

1. Forward + backward of one attention call (batch 1, 4 heads, head width 32, float32) at n = 512, 2,048 and
   4,096, no mask and causal, for ``deepcourse.transformers.attention`` (the function the models call: it
   dispatches to SDPA when the masks allow), for the from-scratch path ``scaled_dot_product_attention`` (the
   notes' steps, kept for teaching and tests), and for ``torch.nn.functional.scaled_dot_product_attention``.
   Target: ours <= 1.5x SDPA. Times are CPU time of this process (``time.process_time``; run with --threads 1),
   which other jobs on a shared machine do not inflate as they do wall time; calls are interleaved (round robin)
   and the median is reported.
2. The sequence length where Nystrom attention (m = 64 landmarks, 6 pseudo-inverse iterations, no
   convolution) becomes faster than exact attention, from scratch and fused, over n = 256 ... 8,192 (batch 1,
   2 heads).
3. Fitted exponents b of time ~ n^b over that sweep.

Run: ``.venv/bin/python benchmarks/attention.py [--threads N] [--quick]``. Writes
``benchmarks/results/attention.json``.
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
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from deepcourse.transformers import attention, nystrom_attention, scaled_dot_product_attention  # noqa: E402
from deepcourse.transformers.scaling import fit_exponent  # noqa: E402


def fwd_bwd(fn, q, k, v) -> float:
    for t in (q, k, v):
        t.grad = None
    t0 = time.process_time()
    fn(q, k, v).sum().backward()
    return time.process_time() - t0


def interleaved(fns: dict, q, k, v, rounds: int) -> dict[str, float]:
    for fn in fns.values():  # warm-up
        fwd_bwd(fn, q, k, v)
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(fwd_bwd(fn, q, k, v))
    return {name: statistics.median(ts) for name, ts in times.items()}


def versus_sdpa(lengths, rounds: int) -> list[dict]:
    rows = []
    for causal in (False, True):
        fns = {"ours (attention)": lambda q, k, v: attention(q, k, v, causal=causal),
               "ours, from scratch": lambda q, k, v: scaled_dot_product_attention(q, k, v, causal=causal),
               "torch SDPA": lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal)}
        for n in lengths:
            g = torch.Generator().manual_seed(n)
            q, k, v = (torch.randn(1, 4, n, 32, generator=g).requires_grad_() for _ in range(3))
            t = interleaved(fns, q, k, v, rounds)
            rows.append({"n": n, "causal": causal, **{f"{k} (ms)": 1000 * s for k, s in t.items()},
                         "ours / SDPA": t["ours (attention)"] / t["torch SDPA"],
                         "scratch / SDPA": t["ours, from scratch"] / t["torch SDPA"]})
            print(rows[-1], flush=True)
    return rows


def crossover(lengths, rounds: int, m: int = 64) -> dict:
    fns = {"exact, from scratch": scaled_dot_product_attention, "torch SDPA": F.scaled_dot_product_attention,
           f"Nystrom m={m}": lambda q, k, v: nystrom_attention(q, k, v, m)}
    sweep = []
    for n in lengths:
        g = torch.Generator().manual_seed(n)
        q, k, v = (torch.randn(1, 2, n, 32, generator=g).requires_grad_() for _ in range(3))
        sweep.append({"n": n, **{f"{k} (ms)": 1000 * s for k, s in interleaved(fns, q, k, v, rounds).items()}})
        print(sweep[-1], flush=True)
    out = {"sweep": sweep, "exponents": {}, "nystrom_faster_from_n": {}}
    ny = f"Nystrom m={m} (ms)"
    for name in fns:
        col = f"{name} (ms)"
        out["exponents"][name] = fit_exponent(lengths, [r[col] for r in sweep])
        if name.startswith("Nystrom"):
            continue
        first = next((r["n"] for r in sweep
                      if r[ny] < r[col] and all(s[ny] < s[col] for s in sweep if s["n"] >= r["n"])), None)
        out["nystrom_faster_from_n"][name] = first
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="fewer rounds, n up to 2,048")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rounds = 3 if args.quick else 5
    lengths = (512, 2048) if args.quick else (512, 2048, 4096)
    sweep = (256, 512, 1024, 2048) if args.quick else (256, 512, 1024, 2048, 4096, 8192)
    result = {"machine": {"cpu": platform.processor() or platform.machine(), "threads": args.threads,
                          "torch": torch.__version__},
              "versus_sdpa": versus_sdpa(lengths, rounds), "crossover": crossover(sweep, max(2, rounds // 2))}
    out = Path(__file__).resolve().parent / "results" / "attention.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"exponents": result["crossover"]["exponents"],
                      "nystrom_faster_from_n": result["crossover"]["nystrom_faster_from_n"]}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
