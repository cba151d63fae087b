"""``train_classifier``: the one supervised training recipe the experiments share.

It trains with :func:`~deepcourse.core.training.fit`, evaluates the validation split after every epoch,
keeps the weights of the best validation epoch and reports the test metric of that model, once
(model selection on validation, never on test).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .inference import predict
from .loader import TensorLoader
from .run import Run
from .training import EarlyStopping, Evaluate, fit

__all__ = ["train_classifier", "evaluate_classifier"]


def _split(splits: Any, part: str) -> tuple[Tensor, Tensor]:
    if isinstance(splits, dict):
        return splits[f"x_{part}"], splits[f"y_{part}"]
    try:
        return getattr(splits, f"x_{part}"), getattr(splits, f"y_{part}")
    except AttributeError:
        raise TypeError(f"splits must have x_{part}/y_{part} (a data.Splits or a dict); got {type(splits).__name__}") from None


def evaluate_classifier(model: nn.Module, x: Tensor, y: Tensor, *, batch_size: int = 1024,
                        prep: Callable[[Tensor], Tensor] | None = None,
                        loss_fn: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy) -> dict[str, float]:
    """Accuracy and mean loss of ``model`` on ``(x, y)`` (eval mode, no gradients)."""
    if len(x) == 0:
        raise ValueError("evaluate_classifier: the split is empty")
    logits = predict(model, x, batch_size, prep=prep).float()  # (N, classes)
    y = y.cpu()
    return {"acc": (logits.argmax(1) == y).float().mean().item(), "loss": loss_fn(logits, y).item()}


def _optimizer(optimizer: str | Callable, params, lr: float, weight_decay: float, momentum: float):
    if callable(optimizer):
        return optimizer(params)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=momentum > 0, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be adam, adamw, sgd or a callable(params) -> Optimizer (got {optimizer!r})")


def train_classifier(
    model: nn.Module,
    splits: Any,
    run: Run,
    *,
    epochs: int,
    lr: float,
    batch_size: int = 128,
    optimizer: str | Callable = "adam",
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    scheduler: str | None = None,
    loss_fn: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy,
    prep: Callable[[Tensor, bool], Tensor] | None = None,
    name: str = "model",
    eval_batch: int = 1024,
    patience: int | None = None,
    log_every: int = 50,
    seed: int | None = None,
    callbacks: list | tuple = (),
) -> dict[str, Any]:
    """Train ``model`` on ``splits.train``, select the epoch on ``splits.val``, report ``splits.test``.

    ``optimizer``: ``"adam"``, ``"adamw"``, ``"sgd"`` (Nesterov momentum ``momentum``) or a callable
    ``params -> Optimizer``. ``scheduler``: ``None``, ``"cosine"`` (per step, to 0) or ``"onecycle"``
    (15 % warm-up, cosine decay). ``prep(x, train)`` maps a raw batch to the model input (scaling,
    augmentation when ``train``). ``patience``: stop after that many epochs without a better validation
    accuracy (default: never stop early). Each epoch is checkpointed under
    ``run.out/checkpoints/<name>.pt``, and ``--resume`` continues from there. ``seed``: the shuffle order
    (default ``run.seed_for(name)``).

    Returns ``{"test_acc", "test_loss", "val_acc", "best_epoch", "epochs_run", "curve", "model"}``
    where ``curve`` is ``[(epoch, val_acc), ...]`` and ``model`` holds the best validation weights.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"train_classifier: epochs must be an int >= 1 (got {epochs!r})")
    if not lr > 0:
        raise ValueError(f"train_classifier: lr must be > 0 (got {lr!r})")
    x_tr, y_tr = _split(splits, "train")
    x_val, y_val = _split(splits, "val")
    x_te, y_te = _split(splits, "test")
    device = run.device
    model = model.to(device)
    opt = _optimizer(optimizer, model.parameters(), lr, weight_decay, momentum)
    loader = TensorLoader(x_tr, y_tr, batch_size=batch_size, shuffle=True,
                          seed=run.seed_for(name) % 2**31 if seed is None else seed, device=device)
    total = epochs * len(loader)
    if scheduler is None:
        sched = None
    elif scheduler == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    elif scheduler == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.15,
                                                    anneal_strategy="cos", cycle_momentum=False)
    else:
        raise ValueError(f"scheduler must be None, 'cosine' or 'onecycle' (got {scheduler!r})")

    def train_prep(xb: Tensor) -> Tensor:
        return prep(xb, True) if prep is not None else xb

    def eval_prep(xb: Tensor) -> Tensor:
        return prep(xb, False) if prep is not None else xb

    def step(batch):
        xb, yb = batch
        return {"loss": loss_fn(model(train_prep(xb)), yb)}

    def evaluate(x: Tensor, y: Tensor) -> dict[str, float]:
        return evaluate_classifier(model, x, y, batch_size=eval_batch, prep=eval_prep, loss_fn=loss_fn)

    best = EarlyStopping(monitor="val_acc", mode="max", patience=patience or epochs + 1, restore_best=True)
    state = fit(step, loader, epochs=epochs, model=model, optimizer=opt, scheduler=sched,
                scheduler_interval="step", callbacks=[Evaluate(lambda: evaluate(x_val, y_val)), best, *callbacks],
                run=run, checkpoint_path=run.out / "checkpoints" / f"{name}.pt",
                log_prefix=f"{name}/", log_every=log_every, desc=name)
    test = evaluate(x_te, y_te)  # the best validation epoch's weights, restored by EarlyStopping
    return {"test_acc": test["acc"], "test_loss": test["loss"], "val_acc": float(best.best),
            "best_epoch": int(best.best_epoch), "epochs_run": int(state.epoch),
            "curve": [(h["epoch"], h["val_acc"]) for h in state.history if "val_acc" in h], "model": model}
