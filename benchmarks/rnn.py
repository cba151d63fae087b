"""Recurrent networks on this machine's CPU.

1. LSTM: forward + backward of our LSTM (``deepcourse.rnn.RNN``, the no-peephole "NP" configuration, which
   computes exactly what ``torch.nn.LSTM`` computes) against ``torch.nn.LSTM`` (its fused C++ kernel) at batch
   64, 100 steps, 128 -> 256, float32. Target: ours at most 2.0x torch's time.

   What makes ours fast (no TorchScript, no ``torch.compile``):
   * the input projection ``W x + b`` of all 100 steps is one ``(T*B, 128) x (128, 1024)`` matmul;
   * the four gate blocks are one fused ``(4N, N)`` recurrent matrix: one ``addmm`` per step;
   * the whole sequence is one autograd node (``deepcourse.rnn.bptt.FusedLSTM``): the forward loop runs without
     building a graph, writing the gate activations into preallocated buffers with in-place / ``out=`` ops; the
     backward is the hand-written BPTT of the course notes (one matmul per step for ``Rᵀ δ⋆ᵗ⁺¹``), and
     ``δR``, ``δp`` are aggregated over the horizon in one matmul / reduction each.
   The step-by-step autograd version of the same cell (``cell.fused = False``) is timed too, for comparison.

2. LTC: steps per second and the accuracy/time trade-off over solver unfolds (see ``ltc_benchmark``; added by
   the LTC part of module 4).

Run: ``.venv/bin/python benchmarks/rnn.py [--threads 1] [--rounds 5] [--repeats 3]``. The variants run in
interleaved rounds so each sees the machine under similar load; the best round is reported beside the median
(on a shared machine, the best round is the least disturbed one). Writes ``benchmarks/results/rnn.json``.
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

from deepcourse.rnn import RNN  # noqa: E402


def lstm_benchmark(args) -> dict:
    """Forward + backward seconds per call of ours (fused and step-by-step) and of torch.nn.LSTM."""
    torch.manual_seed(0)
    b, t, m, n = args.batch, args.steps, args.input_size, args.hidden
    x = torch.randn(b, t, m)
    ref = torch.nn.LSTM(m, n, batch_first=True)
    ours = RNN(m, n, variant="NP")
    with torch.no_grad():  # the same weights, so both compute the same numbers
        cell = ours.layers[0].cell
        cell.weight_ih.copy_(ref.weight_ih_l0)
        cell.weight_hh.copy_(ref.weight_hh_l0)
        cell.bias.copy_(ref.bias_ih_l0 + ref.bias_hh_l0)
    assert torch.allclose(ours(x)[0], ref(x)[0], atol=1e-5), "ours and torch.nn.LSTM disagree"

    def step(model, fused=True):
        def go():
            cell.fused = fused
            out = model(x)[0]
            out.sum().backward()
        return go

    variants = {"torch.nn.LSTM": step(ref), "ours (FusedLSTM)": step(ours), "ours (step-by-step autograd)": step(ours, False)}
    for fn in variants.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.rounds):
        for k, fn in variants.items():
            best = float("inf")
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                fn()
                best = min(best, time.perf_counter() - t0)
            times[k].append(best)
    ref_best, ref_med = min(times["torch.nn.LSTM"]), statistics.median(times["torch.nn.LSTM"])
    rows = {k: {"best_s": min(v), "median_s": statistics.median(v), "ratio_best": min(v) / ref_best,
                "ratio_median": statistics.median(v) / ref_med} for k, v in times.items()}
    return {"shape": {"batch": b, "steps": t, "input": m, "hidden": n}, "results": rows, "target_ratio": 2.0}


# ------------------------------------------------------------------------------------------------ LTC hook
def ltc_benchmark(args) -> dict | None:
    """LTC (Hasani et al. 2021) on this CPU.

    * Throughput: forward + backward of one ``ODESequenceModel("ltc")`` batch (32 sequences of 28 steps, 28
      inputs, 32 units: the sequential-MNIST shape), reported as input steps per second (batch x steps / time),
      for each solver at 6 unfolds, beside the LSTM of the same size.
    * Accuracy / time over solver unfolds: the semi-implicit LTC trained on a fixed Occupancy subset (1,000
      training windows, 2 epochs, batch 32, lr 0.005; test: 1,200 windows) for 1, 2, 4, 6 and 8 unfolds;
      test accuracy (%) and training seconds.

    Times are process CPU seconds (``time.process_time``): at one thread they match wall time on an idle core
    and stay meaningful on a shared, loaded machine.
    """
    import torch.nn.functional as F

    from deepcourse.core import predict
    from deepcourse.rnn import ODESequenceModel
    from deepcourse.rnn.experiments.ltc_benchmarks import LTCBenchConfig, occupancy_data

    def ce(logits, y):
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    torch.manual_seed(0)
    x, y = torch.rand(32, 28, 28), torch.randint(0, 10, (32,))
    speed = {}
    for name, kind, solver in [("LSTM", "lstm", "semi-implicit"), ("LTC semi-implicit", "ltc", "semi-implicit"),
                               ("LTC explicit Euler", "ltc", "explicit"), ("LTC RK4", "ltc", "rk4")]:
        model = ODESequenceModel(kind, 28, 32, 10, unfolds=6, solver=solver)
        best = float("inf")
        for _ in range(max(2, args.repeats)):
            t0 = time.process_time()
            ce(model(x), y).backward()
            best = min(best, time.process_time() - t0)
        speed[name] = {"seconds_per_batch": best, "input_steps_per_s": 32 * 28 / best}
    try:
        data = occupancy_data(LTCBenchConfig(occupancy_train=1000, occupancy_test=1200), None)
    except FileNotFoundError as e:  # the data are optional for the throughput part
        return {"throughput": speed, "unfolds": None, "note": str(e).splitlines()[0]}
    trade = []
    for unfolds in (1, 2, 4, 6, 8):
        torch.manual_seed(0)
        model = ODESequenceModel("ltc", 5, 32, 2, per_step=True, unfolds=unfolds)
        opt = torch.optim.Adam(model.parameters(), lr=5e-3)
        g = torch.Generator().manual_seed(0)
        t0 = time.process_time()
        for _ in range(2):
            perm = torch.randperm(len(data["x_train"]), generator=g)
            for i in range(0, len(perm), 32):
                j = perm[i:i + 32]
                opt.zero_grad()
                ce(model(data["x_train"][j]), data["y_train"][j]).backward()
                opt.step()
                model.constrain_()
        seconds = time.process_time() - t0
        acc = 100.0 * float((predict(model, data["x_test"], 1024).argmax(-1) == data["y_test"]).float().mean())
        trade.append({"unfolds": unfolds, "test_acc": acc, "train_s": seconds})
    print("LTC: input steps / s (forward + backward, batch 32 x 28 steps, 32 units, 6 unfolds):")
    for k, r in speed.items():
        print(f"  {k:22s} {r['input_steps_per_s']:10.0f}  ({r['seconds_per_batch'] * 1e3:.1f} ms per batch)")
    print("LTC accuracy / time over solver unfolds (Occupancy subset, 2 epochs):")
    for r in trade:
        print(f"  unfolds {r['unfolds']}: test acc {r['test_acc']:.2f} %, {r['train_s']:.1f} s")
    return {"throughput": speed, "unfolds": trade}


# ------------------------------------------------------------------------------------------- end LTC hook


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--input-size", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3, help="calls per variant per round (the fastest counts)")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "rnn.json"))
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = {"machine": {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                          "torch": torch.__version__}, "lstm": lstm_benchmark(args)}
    print(f"LSTM forward+backward, batch {args.batch}, {args.steps} steps, {args.input_size} -> {args.hidden}, "
          f"{torch.get_num_threads()} thread(s):")
    print(f"{'':32s} {'best s':>8s} {'median s':>9s} {'x torch (best)':>15s} {'x torch (median)':>17s}")
    for k, r in result["lstm"]["results"].items():
        print(f"{k:32s} {r['best_s']:8.4f} {r['median_s']:9.4f} {r['ratio_best']:15.2f} {r['ratio_median']:17.2f}")
    ltc = ltc_benchmark(args)
    if ltc is not None:
        result["ltc"] = ltc
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
