"""Training and evaluation of completion networks (PoinTr, FoldingNet, PCN) with :func:`deepcourse.core.fit`:
the loss is :func:`~.pointr.completion_loss` (J0 + J1), the metrics PoinTr reports: CD-L1 and CD-L2 (x 1000)
and F-score@0.01."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from deepcourse.core import Run, TensorLoader, eval_mode, fit

from .losses import chamfer_distance, f_score
from .pointr import completion_loss

__all__ = ["train_completion", "evaluate_completion", "predict_completion"]


def train_completion(model: nn.Module, partial: Tensor, complete: Tensor, run: Run, *, epochs: int, lr: float,
                     batch_size: int = 32, name: str = "model", weight_decay: float = 5e-4) -> nn.Module:
    """AdamW with a cosine schedule on J0 + J1 (CD-L1); returns the trained model."""
    model = model.to(run.device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    loader = TensorLoader(partial, complete, batch_size=batch_size, shuffle=True, seed=run.seed_for(name) % 2**31,
                          device=run.device)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs * len(loader)))

    def step(batch):
        x, gt = batch
        return {"loss": completion_loss(model(x), gt)}

    fit(step, loader, epochs=epochs, model=model, optimizer=opt, scheduler=sched, scheduler_interval="step", run=run,
        checkpoint_path=run.out / "checkpoints" / f"{name}.pt", log_prefix=f"{name}/", desc=name)
    return model


@torch.no_grad()
def evaluate_completion(model: nn.Module | None, partial: Tensor, complete: Tensor, batch_size: int = 64,
                        threshold: float = 0.01) -> dict[str, float]:
    """Mean CD-L1 x 1000, CD-L2 x 1000 and F-score@``threshold`` over the set. ``model=None`` scores the
    partial input itself as the prediction (the do-nothing baseline)."""
    sums: dict[str, float] = {"cd_l1": 0.0, "cd_l2": 0.0, "fscore": 0.0}
    with eval_mode(*([model] if model is not None else [])):
        for s in range(0, len(partial), batch_size):
            x, gt = partial[s:s + batch_size], complete[s:s + batch_size]
            p = x if model is None else model(x)["points"]
            sums["cd_l1"] += 1000 * chamfer_distance(p, gt, "l1", reduction="none").sum().item()
            sums["cd_l2"] += 1000 * chamfer_distance(p, gt, "l2", reduction="none").sum().item()
            sums["fscore"] += f_score(p, gt, threshold, reduction="none").sum().item()
    return {k: v / len(partial) for k, v in sums.items()}


def predict_completion(model: nn.Module, partial: Tensor) -> dict[str, Any]:
    """The model's outputs for a few clouds (eval mode), for the renders."""
    with torch.no_grad(), eval_mode(model):
        return {k: v.cpu() for k, v in model(partial).items()}
