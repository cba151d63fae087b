"""Helper for test_resume: train a small net with ``fit`` and checkpoints every step.

Usage: python _resume_script.py OUT LOADER(tensor|dataloader) RESUME(0|1) SLEEP
Prints ``step N`` after every step (so the parent knows when to SIGKILL) and writes
OUT/final.pt with the final weights.
"""

import sys
import time
from pathlib import Path

import torch
from torch import nn

from deepcourse.core import LambdaCallback, Run, TensorLoader, fit, save_checkpoint

out, kind, resume, pause = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", float(sys.argv[4])
run = Run(out=out, device="cpu", seed=3, resume=resume, progress=False)
g = torch.Generator().manual_seed(0)
x = torch.randn(96, 5, generator=g)
y = (x[:, :1] - 2 * x[:, 1:2]).tanh() + 0.1 * torch.randn(96, 1, generator=g)
if kind == "tensor":
    loader = TensorLoader(x, y, batch_size=8, shuffle=True, seed=1)
else:
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)


def step(batch):
    xb, yb = batch
    return {"loss": nn.functional.mse_loss(model(xb), yb)}


def tick(state, metrics):
    print(f"step {state.step}", flush=True)
    time.sleep(pause)


fit(step, loader, epochs=4, model=model, optimizer=opt, scheduler=sched, run=run, checkpoint_every=1,
    callbacks=[LambdaCallback(on_step_end=tick)], log_every=1)
save_checkpoint(out / "final.pt", model.state_dict())
print("done", flush=True)
