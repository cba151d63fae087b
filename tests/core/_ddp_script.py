"""Helper for test_distributed: the same training under torchrun (2 ranks) or alone.

Usage: [torchrun --nproc_per_node=2] python _ddp_script.py OUT
"""

import sys
from pathlib import Path

import torch
from torch import nn

from deepcourse.core import Run, TensorLoader, distributed, fit, save_checkpoint

distributed.init_from_env("cpu")
out = Path(sys.argv[1])
run = Run(out, device="cpu", seed=0, progress=False)
g = torch.Generator().manual_seed(0)
x = torch.randn(64, 4, generator=g)
y = torch.sin(x.sum(1, keepdim=True))
model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))  # same init on every rank (same seed)
net = run.prepare_model(model)
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
loader = TensorLoader(x, y, batch_size=16, seed=0)  # global batch 16; each rank takes 16 / world
seen = []


def step(b):
    seen.append(len(b[0]))
    return {"loss": nn.functional.mse_loss(net(b[0]), b[1])}


fit(step, loader, epochs=5, model=model, optimizer=opt, run=run)
out.mkdir(parents=True, exist_ok=True)
(out / f"batch_rank{distributed.rank()}.txt").write_text(str(sorted(set(seen))))
if run.is_main:
    save_checkpoint(out / "final.pt", model.state_dict())
distributed.cleanup()
