"""Part segmentation: training with :func:`deepcourse.core.fit` (per-point cross-entropy, plus PointNet's
transform regulariser) and the ShapeNet-Part metric.

mIoU as PointNet reports it (Sec. 5.1): the prediction of each point is the arg-max over the parts of the
object's class only; for each shape, the IoU of every part of its class is computed (a part absent from both the
ground truth and the prediction counts as IoU 1) and averaged; a class's mIoU is the mean over its shapes, and
"mean" is the mean over all shapes (instance mIoU)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core import Run, TensorLoader, eval_mode, fit

from .shapes import CLASS_PARTS, CLASSES, PARTS
from .training import augment_batch

__all__ = ["part_mask", "train_segmenter", "predict_parts", "part_miou"]


def part_mask(device=None) -> Tensor:
    """``(classes, parts)`` boolean: which global part ids belong to each class."""
    m = torch.zeros(len(CLASSES), len(PARTS), dtype=torch.bool, device=device)
    for ci, c in enumerate(CLASSES):
        for p in CLASS_PARTS[c]:
            m[ci, PARTS.index(p)] = True
    return m


def train_segmenter(model: nn.Module, x: Tensor, cls: Tensor, parts: Tensor, run: Run, *, epochs: int, lr: float,
                    batch_size: int = 16, name: str = "model", augment: str = "jitter",
                    reg_weight: float = 0.001) -> nn.Module:
    """Adam with a cosine schedule on the per-point cross-entropy over the parts of each object's class (the
    other classes' parts are masked out of the softmax, as at prediction time), plus the T-Net regulariser when
    the model has one."""
    model = model.to(run.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loader = TensorLoader(x, cls, parts, batch_size=batch_size, shuffle=True, seed=run.seed_for(name) % 2**31,
                          device=run.device)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs * len(loader)))
    g = run.generator(f"augment/{name}")
    mask = part_mask(run.device)

    def step(batch):
        xb, cb, pb = batch
        logits = model(augment_batch(xb, augment, g), cb).masked_fill(~mask[cb].unsqueeze(1), -1e4)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), pb.reshape(-1))
        if hasattr(model, "regulariser") and reg_weight > 0:
            loss = loss + reg_weight * model.regulariser()
        return {"loss": loss}

    fit(step, loader, epochs=epochs, model=model, optimizer=opt, scheduler=sched, scheduler_interval="step", run=run,
        checkpoint_path=run.out / "checkpoints" / f"{name}.pt", log_prefix=f"{name}/", desc=name)
    return model


@torch.no_grad()
def predict_parts(model: nn.Module, x: Tensor, cls: Tensor, batch_size: int = 64) -> Tensor:
    """``(M, N)`` predicted global part ids, restricted to the parts of each object's class."""
    mask = part_mask(x.device)
    out = []
    with eval_mode(model):
        for s in range(0, len(x), batch_size):
            logits = model(x[s:s + batch_size], cls[s:s + batch_size])
            out.append(logits.masked_fill(~mask[cls[s:s + batch_size]].unsqueeze(1), float("-inf")).argmax(-1))
    return torch.cat(out)


def part_miou(pred: Tensor, parts: Tensor, cls: Tensor) -> tuple[float, dict[str, float]]:
    """Instance mIoU over all shapes and the per-class mIoU (``{class: miou}`` for the classes present)."""
    mask = part_mask()
    ious = torch.empty(len(pred))
    for i in range(len(pred)):
        vals = []
        for p in mask[cls[i]].nonzero().flatten():
            a, b = pred[i] == p, parts[i] == p
            union = (a | b).sum().item()
            vals.append(1.0 if union == 0 else (a & b).sum().item() / union)
        ious[i] = sum(vals) / len(vals)
    per_class = {CLASSES[c]: ious[cls == c].mean().item() for c in cls.unique().tolist()}
    return ious.mean().item(), per_class
