"""Measured CPU latency of compressed models: int8 quantisation and fp16/bf16 casts, unstructured sparsity
(CSR) and structured (channel) pruning. The claim to test is the issue's target for static int8 (>= 3.5x
smaller, >= 1.5x faster) and the question the notes leave open: is a sparse model actually faster?

Models (random weights: latency does not depend on training; static quantisation is calibrated on random
inputs of the right shape):

* MLP 784-1024-1024-10 (ReLU);
* CNN: two Conv3x3-BN-ReLU-MaxPool blocks (32, 64 channels) on 1x28x28, then 3136-256-10;
* one square Linear layer (``--width``, default 4096) dense vs CSR at 50-99% sparsity;
* the MLP with 50% / 75% of its hidden units removed by structured pruning (a smaller dense network).

Every variant is timed in interleaved rounds (each round times every variant once, median over
``--repeats`` calls), so all see the machine under similar load; the best round is reported beside the
median round. Run: ``.venv/bin/python benchmarks/compression.py [--threads 1] [--rounds 3] [--repeats 20]``.
Prints markdown tables and writes ``benchmarks/results/compression.json``. About two minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from deepcourse.optimization.pruning import channel_prune, magnitude_prune, shrink_sequential, to_sparse  # noqa: E402
from deepcourse.cnn import ConvNet  # noqa: E402
from deepcourse.foundations import MLP  # noqa: E402
from deepcourse.optimization.quantization import (cast_model, measure_latency, model_size_bytes,  # noqa: E402
                                                  quantization_engine, quantize_dynamic, quantize_static)


def _cnn() -> ConvNet:
    """Two Conv3x3-BN-ReLU-MaxPool blocks (32, 64 channels) on 1x28x28, then 3136-256-10."""
    return ConvNet(num_classes=10, in_channels=1, image_size=28, widths=(32, 64), convs_per_block=1, batch_norm=True,
                   hidden=256, hidden_layers=1)


def _time_rounds(variants: dict, x_for: dict, rounds: int, repeats: int, threads: int) -> dict[str, dict[str, float]]:
    per: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for name, model in variants.items():
            try:
                per[name].append(measure_latency(model, x_for[name], repeats=repeats, warmup=3, threads=threads))
            except (RuntimeError, NotImplementedError) as e:  # an op without a CPU kernel for this dtype
                per[name].append(float("nan"))
                print(f"  {name}: {str(e).splitlines()[0][:80]}", file=sys.stderr)
    return {k: {"best_ms": 1e3 * min(v), "median_ms": 1e3 * statistics.median(v)} for k, v in per.items()}


def quantisation_table(args) -> list[dict]:
    torch.manual_seed(0)
    rows = []
    for kind, model, shape in (("mlp", MLP(784, (1024, 1024), 10).eval(), (1, 28, 28)),
                               ("cnn", _cnn().eval(), (1, 28, 28))):
        calib = [torch.randn(64, *shape) for _ in range(8)]
        variants = {"fp32": model, "dynamic": quantize_dynamic(model), "static": quantize_static(model, calib),
                    "fp16": cast_model(model, torch.float16), "bf16": cast_model(model, torch.bfloat16)}
        for batch in args.batches:
            x = torch.randn(batch, *shape)
            xs = {k: x.to(torch.float16) if k == "fp16" else x.to(torch.bfloat16) if k == "bf16" else x for k in variants}
            t = _time_rounds(variants, xs, args.rounds, args.repeats, args.threads)
            for name, v in variants.items():
                rows.append({"model": kind, "variant": name, "batch": batch, "mb": model_size_bytes(v) / 1e6,
                             **t[name], "speedup": t["fp32"]["best_ms"] / t[name]["best_ms"]})
    return rows


def sparsity_table(args) -> list[dict]:
    torch.manual_seed(0)
    rows = []
    lin = nn.Linear(args.width, args.width)
    for batch in (1, 64):
        x = torch.randn(batch, args.width)
        variants = {"dense": lin}
        for sp in (0.5, 0.8, 0.9, 0.95, 0.99):
            layer = nn.Linear(args.width, args.width)
            layer.load_state_dict(lin.state_dict())
            magnitude_prune(layer, sp)
            variants[f"csr {sp:g}"] = to_sparse(nn.Sequential(layer))
        t = _time_rounds(variants, {k: x for k in variants}, args.rounds, args.repeats, args.threads)
        for name in variants:
            rows.append({"layer": f"Linear {args.width}x{args.width}", "variant": name, "batch": batch, **t[name],
                         "speedup": t["dense"]["best_ms"] / t[name]["best_ms"]})
    mlp = MLP(784, (1024, 1024), 10).eval()
    for batch in (1, 64):
        x = torch.randn(batch, 784)
        variants = {"dense": mlp}
        for frac in (0.5, 0.75):
            import copy

            pruned = copy.deepcopy(mlp)
            masks = channel_prune(pruned, frac)
            variants[f"channels -{frac:g}"] = shrink_sequential(pruned, masks).eval()
        sp = copy.deepcopy(mlp)
        magnitude_prune(sp, 0.9, scope="global")
        variants["csr 0.9"] = to_sparse(sp)
        t = _time_rounds(variants, {k: x for k in variants}, args.rounds, args.repeats, args.threads)
        for name in variants:
            rows.append({"layer": "MLP 784-1024-1024-10", "variant": name, "batch": batch, **t[name],
                         "speedup": t["dense"]["best_ms"] / t[name]["best_ms"]})
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="intra-op threads for every variant (default 1)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--width", type=int, default=4096)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 32, 256])
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "compression.json"))
    args = p.parse_args()
    engine = quantization_engine()
    t0 = time.time()
    quant = quantisation_table(args)
    sparse = sparsity_table(args)
    print(f"## Quantisation (engine {engine}, {args.threads} thread(s), ms per batch, best of {args.rounds} rounds)\n")
    print("| model | batch | variant | MB | best ms | median ms | speedup vs fp32 |\n|---|---|---|---|---|---|---|")
    for r in quant:
        print(f"| {r['model']} | {r['batch']} | {r['variant']} | {r['mb']:.2f} | {r['best_ms']:.3f} | "
              f"{r['median_ms']:.3f} | {r['speedup']:.2f}x |")
    print("\n## Sparsity: is the pruned model faster?\n")
    print("| network | batch | variant | best ms | median ms | speedup vs dense |\n|---|---|---|---|---|---|")
    for r in sparse:
        print(f"| {r['layer']} | {r['batch']} | {r['variant']} | {r['best_ms']:.3f} | {r['median_ms']:.3f} | "
              f"{r['speedup']:.2f}x |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "quantisation": quant, "sparsity": sparse, "threads": args.threads, "rounds": args.rounds,
        "repeats": args.repeats, "engine": engine, "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
        "load_avg": os.getloadavg(), "wall_s": round(time.time() - t0, 1),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2) + "\n")
    print(f"\nwrote {out} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
