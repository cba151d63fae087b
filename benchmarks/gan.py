"""One DCGAN training iteration (D step + G step) at batch 64: deepcourse.gan vs a bare torch loop.

Ours: :class:`deepcourse.gan.networks.DCGANGenerator` / ``DCGANDiscriminator`` trained by
:class:`deepcourse.gan.training.GANStep` (non-saturating loss, Adam(2e-4, beta1 0.5)).
Reference: the same architecture written inline below as ``nn.Sequential`` stacks and the textbook
loop (``BCEWithLogitsLoss``, ``zero_grad``/``backward``/``step`` twice). Sizes: 28x28x1 and 32x32x3,
width 64, latent 100 (the DCGAN paper's). Target: ours <= 1.1x the reference time.

Run: ``.venv/bin/python benchmarks/gan.py [--threads N] [--device cpu|cuda] [--iters N]``.
Prints time per iteration, images/s and the ratio, and writes ``benchmarks/results/gan.json``.
The two loops are timed in interleaved blocks so that load from other processes hits both alike.
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
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from deepcourse.gan.networks import DCGAN_LAYOUTS, DCGANDiscriminator, DCGANGenerator, dcgan_optimizers  # noqa: E402
from deepcourse.gan.training import GANStep  # noqa: E402

BATCH, LATENT, BASE = 64, 100, 64


def reference_nets(channels: int, size: int):
    """The DCGAN pair as a bare ``nn.Sequential`` (what a tutorial would write)."""
    s0, stages = DCGAN_LAYOUTS[size]
    w = BASE * 2 ** (stages - 1)
    g = [nn.ConvTranspose2d(LATENT, w, s0, 1, 0, bias=False), nn.BatchNorm2d(w), nn.ReLU(True)]
    for _ in range(stages - 1):
        g += [nn.ConvTranspose2d(w, w // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(w // 2), nn.ReLU(True)]
        w //= 2
    g += [nn.ConvTranspose2d(w, channels, 4, 2, 1), nn.Tanh()]
    d = [nn.Conv2d(channels, BASE, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    w = BASE
    for _ in range(stages - 1):
        d += [nn.Conv2d(w, w * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(w * 2), nn.LeakyReLU(0.2, True)]
        w *= 2
    d += [nn.Conv2d(w, 1, s0, 1, 0)]
    return nn.Sequential(*g), nn.Sequential(*d)


def make_reference(channels: int, size: int, device):
    g, d = reference_nets(channels, size)
    g, d = g.to(device), d.to(device)
    og = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(BATCH, device=device), torch.zeros(BATCH, device=device)

    def step(real):
        z = torch.randn(BATCH, LATENT, 1, 1, device=device)
        fake = g(z)
        od.zero_grad()
        loss_d = bce(d(real).view(-1), ones) + bce(d(fake.detach()).view(-1), zeros)
        loss_d.backward()
        od.step()
        og.zero_grad()
        loss_g = bce(d(g(torch.randn(BATCH, LATENT, 1, 1, device=device))).view(-1), ones)
        loss_g.backward()
        og.step()

    return step


def make_ours(channels: int, size: int, device):
    g = DCGANGenerator(LATENT, channels, size, BASE).to(device)
    d = DCGANDiscriminator(channels, size, BASE).to(device)
    o = dcgan_optimizers(g, d)
    return GANStep(g, d, o["g"], o["d"], loss="nonsaturating", k=1)


def timeit(fn, real, iters: int, device) -> float:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    t = time.perf_counter()
    for _ in range(iters):
        fn(real)
    sync()
    return (time.perf_counter() - t) / iters


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--iters", type=int, default=5, help="iterations per timed block")
    p.add_argument("--rounds", type=int, default=5, help="interleaved blocks per implementation")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    results = []
    for channels, size in ((1, 28), (3, 32)):
        torch.manual_seed(0)
        real = torch.rand(BATCH, channels, size, size, device=device) * 2 - 1
        impls = {"ours": make_ours(channels, size, device), "reference": make_reference(channels, size, device)}
        for fn in impls.values():  # warm-up
            timeit(fn, real, 2, device)
        times = {k: [] for k in impls}
        for _ in range(args.rounds):
            for k, fn in impls.items():
                times[k].append(timeit(fn, real, args.iters, device))
        med = {k: statistics.median(v) for k, v in times.items()}
        row = {"size": f"{size}x{size}x{channels}", "batch": BATCH,
               "ours_ms": 1000 * med["ours"], "reference_ms": 1000 * med["reference"],
               "ratio": med["ours"] / med["reference"], "ours_images_per_s": BATCH / med["ours"],
               "reference_images_per_s": BATCH / med["reference"]}
        results.append(row)
        print(f"{row['size']:>10}  ours {row['ours_ms']:8.1f} ms  ref {row['reference_ms']:8.1f} ms  "
              f"ratio {row['ratio']:.3f}  ours {row['ours_images_per_s']:7.0f} img/s  (target ratio <= 1.1)")
    out = Path(__file__).resolve().parent / "results" / "gan.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"device": str(device), "threads": args.threads, "torch": torch.__version__,
                               "machine": platform.processor() or platform.machine(), "results": results},
                              indent=2) + "\n")


if __name__ == "__main__":
    main()
