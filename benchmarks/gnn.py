"""Module 6 speed: our GCN and GIN layers against PyG's GCNConv and GINConv, and the CCN's cost as graphs grow.

1. Forward + backward of one layer, ours vs PyG (same weights, same inputs), interleaved and repeated, CPU time
   of this process (``time.process_time``, robust to other load on the machine) at ``--threads`` threads:
   * NCI1, a batch of 128 graphs (37 one-hot atom types -> 64 channels);
   * Cora, the whole graph (1,433 bag-of-words features -> 16 channels for GCN, 64 for GIN).
   The ratio ours / PyG is printed beside the issue's target (<= 1.2x).
2. The second-order CCN (2 levels, 8 channels) on random graphs of n = 16..128 nodes (a ring plus n random
   chords, mean degree ~4): forward + backward time, and the exponent of a least-squares fit t ~ n^k.

Run: ``.venv/bin/python benchmarks/gnn.py [--threads 1] [--repeats 30]``; writes ``benchmarks/results/gnn.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from deepcourse.gnn import CCN2D, GCNLayer, GINLayer, gin_mlp  # noqa: E402


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        ts.append(time.process_time() - t)
    return statistics.median(ts)


def fwd_bwd(layer, x, ei):
    def go():
        layer.zero_grad(set_to_none=True)
        xx = x.detach().requires_grad_(True)
        layer(xx, ei).square().mean().backward()
    return go


def compare(name: str, ours, ref, x, ei, repeats: int) -> dict:
    a, b = [], []
    for _ in range(3):  # interleave, so that load changes hit both
        a.append(_time(fwd_bwd(ours, x, ei), repeats))
        b.append(_time(fwd_bwd(ref, x, ei), repeats))
    ta, tb = min(a), min(b)
    row = {"case": name, "ours_ms": 1e3 * ta, "pyg_ms": 1e3 * tb, "ratio": ta / tb}
    print(f"{name:<28} ours {1e3 * ta:8.2f} ms   PyG {1e3 * tb:8.2f} ms   ratio {ta / tb:5.2f}x (target <= 1.2x)")
    return row


def layers(args) -> list[dict]:
    from torch_geometric.data import Batch
    from torch_geometric.nn import GCNConv, GINConv

    from deepcourse.data.graphs import load_planetoid, load_tu

    rows = []
    nci = Batch.from_data_list(load_tu("nci1", args.data_dir)[:128])
    cora = load_planetoid("cora", args.data_dir)
    for label, x, ei, hid_gcn, hid_gin in (("NCI1, 128 graphs", nci.x, nci.edge_index, 64, 64),
                                          ("Cora", cora.x, cora.edge_index, 16, 64)):
        torch.manual_seed(0)
        ours, ref = GCNLayer(x.shape[1], hid_gcn), GCNConv(x.shape[1], hid_gcn)
        ref.lin.weight.data.copy_(ours.lin.weight.data)
        rows.append(compare(f"GCN  {label}", ours, ref, x, ei, args.repeats))
        mlp = gin_mlp(x.shape[1], hid_gin, batch_norm=False)
        rows.append(compare(f"GIN  {label}", GINLayer(mlp, in_features=x.shape[1]), GINConv(mlp), x, ei, args.repeats))
    return rows


def ring_with_chords(n: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    ring = torch.stack([torch.arange(n), (torch.arange(n) + 1) % n])
    chords = torch.randint(0, n, (2, n), generator=g)
    e = torch.cat([ring, chords[:, chords[0] != chords[1]]], 1)
    return torch.randn(n, 8, generator=g), torch.cat([e, e.flip(0)], 1)


def ccn_scaling(args) -> dict:
    torch.manual_seed(0)
    model = CCN2D(8, 8, 2, levels=2, hidden=16)
    sizes, times, fields = [16, 32, 64, 128], [], []
    for n in sizes:
        x, ei = ring_with_chords(n)

        def go():
            model.zero_grad(set_to_none=True)
            model(x, ei).sum().backward()
        t = _time(go, max(3, args.repeats // 5))
        times.append(t)
        fields.append(int(model.activations(x, ei)[-1].F.shape[1]))
        print(f"CCN n={n:4d}  largest level-2 field {fields[-1]:3d}  fwd+bwd {1e3 * t:8.1f} ms")
    k = float(np.polyfit(np.log(sizes), np.log(times), 1)[0])
    print(f"CCN cost exponent: t ~ n^{k:.2f} (fields grow with n here only through the degree, so the cost is "
          "close to linear in n times the cube of the field size)")
    return {"sizes": sizes, "ms": [1e3 * t for t in times], "largest_field": fields, "exponent": k}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    out = {"threads": args.threads, "torch": torch.__version__, "layers": layers(args), "ccn": ccn_scaling(args)}
    path = Path(__file__).resolve().parent / "results" / "gnn.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    os.environ.setdefault("DEEPCOURSE_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    main()
