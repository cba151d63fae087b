"""``fit()``: a small training loop over ``step(batch) -> dict``, not a framework.

Two ways to use it:

* **One optimiser** (most models): pass ``optimizer=``; ``step`` returns a dict whose
  ``"loss"`` is a tensor, and ``fit`` does zero_grad, backward (scaled under fp16 AMP),
  the gradient callbacks (clipping, normalisation), the optimiser step and the
  per-step scheduler.
* **Several optimisers** (GANs, CycleGAN, WAE-GAN, mean teacher): pass ``optimizer=``
  a dict (or nothing) and let ``step`` update the weights itself; ``fit`` still
  checkpoints, resumes, logs, guards against NaN and runs the callbacks.

Resuming is exact: a checkpoint holds the models, optimisers, schedulers, AMP scaler,
callback states, every RNG state, the RNG state at the start of the epoch and the
position in it. ``--resume`` rewinds the data order to the epoch start, skips the
batches already seen and continues bit for bit as the uninterrupted run would have.
"""

from __future__ import annotations

import contextlib
import copy
import math
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from .checkpoint import load_checkpoint, save_checkpoint
from .run import NonFiniteError, Run
from .utils import rng_state, set_rng_state

__all__ = [
    "fit",
    "FitState",
    "Callback",
    "Evaluate",
    "EarlyStopping",
    "GradClip",
    "GradClipValue",
    "GradNormalize",
    "EMA",
    "LambdaCallback",
]


@dataclass
class FitState:
    epoch: int = 0  # epochs completed
    step: int = 0  # optimisation steps completed
    batch_in_epoch: int = 0  # batches of the current epoch already consumed
    metrics: dict[str, float] = field(default_factory=dict)  # last step's metrics
    history: list[dict[str, float]] = field(default_factory=list)  # one record per epoch
    should_stop: bool = False
    stop_reason: str = ""
    models: dict[str, nn.Module] = field(default_factory=dict)
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)
    grad_norm: float | None = None

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "step": self.step, "batch_in_epoch": self.batch_in_epoch,
                "history": self.history, "should_stop": self.should_stop, "stop_reason": self.stop_reason}


class Callback:
    """Hooks into ``fit``. Stateful callbacks implement ``state_dict``/``load_state_dict``
    so that their state survives a resume."""

    def on_fit_start(self, state: FitState) -> None: ...
    def on_after_backward(self, state: FitState) -> None: ...
    def on_step_end(self, state: FitState, metrics: dict[str, float]) -> None: ...
    def on_epoch_end(self, state: FitState, record: dict[str, float]) -> None: ...
    def on_fit_end(self, state: FitState) -> None: ...
    def state_dict(self) -> dict:
        return {}
    def load_state_dict(self, state: dict) -> None: ...


class LambdaCallback(Callback):
    def __init__(self, on_step_end: Callable | None = None, on_epoch_end: Callable | None = None):
        self._step, self._epoch = on_step_end, on_epoch_end

    def on_step_end(self, state, metrics):
        if self._step:
            self._step(state, metrics)

    def on_epoch_end(self, state, record):
        if self._epoch:
            self._epoch(state, record)


class Evaluate(Callback):
    """Run ``fn() -> dict`` every ``every`` epochs; its metrics join the epoch record with ``prefix``."""

    def __init__(self, fn: Callable[[], Mapping[str, float]], every: int = 1, prefix: str = "val_"):
        if every < 1:
            raise ValueError(f"every must be >= 1 (got {every})")
        self.fn, self.every, self.prefix = fn, every, prefix

    def on_epoch_end(self, state, record):
        if state.epoch % self.every == 0:
            models = list(state.models.values())
            modes = [m.training for m in models]
            for m in models:
                m.eval()
            with torch.no_grad():
                out = self.fn()
            for m, mode in zip(models, modes):
                m.train(mode)
            record.update({f"{self.prefix}{k}" if not k.startswith(self.prefix) else k: float(v) for k, v in out.items()})


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; optionally restore the
    best weights at the end (model selection on validation, never on test)."""

    def __init__(self, monitor: str = "val_loss", mode: str = "min", patience: int = 10, min_delta: float = 0.0,
                 restore_best: bool = True):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be min or max (got {mode!r})")
        self.monitor, self.mode, self.patience, self.min_delta, self.restore_best = monitor, mode, patience, min_delta, restore_best
        self.best: float | None = None
        self.best_epoch = -1
        self.bad_epochs = 0
        self.best_weights: dict[str, dict] | None = None

    def _better(self, x: float) -> bool:
        if self.best is None:
            return True
        return x < self.best - self.min_delta if self.mode == "min" else x > self.best + self.min_delta

    def on_epoch_end(self, state, record):
        if self.monitor not in record:
            return
        x = record[self.monitor]
        if self._better(x):
            self.best, self.best_epoch, self.bad_epochs = x, state.epoch, 0
            if self.restore_best:
                self.best_weights = {k: copy.deepcopy(m.state_dict()) for k, m in state.models.items()}
        else:
            self.bad_epochs += 1
            if self.bad_epochs >= self.patience:
                state.should_stop = True
                state.stop_reason = f"early stopping: {self.monitor} did not improve for {self.patience} epochs"

    def on_fit_end(self, state):
        if self.restore_best and self.best_weights is not None:
            for k, m in state.models.items():
                m.load_state_dict(self.best_weights[k])

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs, "best_weights": self.best_weights}

    def load_state_dict(self, s):
        self.best, self.best_epoch, self.bad_epochs, self.best_weights = s["best"], s["best_epoch"], s["bad_epochs"], s["best_weights"]


def _parameters(state: FitState) -> list[torch.Tensor]:
    return [p for m in state.models.values() for p in m.parameters() if p.grad is not None]


class GradClip(Callback):
    """Rescale all gradients together so that their global ``norm_type`` norm is at most
    ``max_norm`` (Pascanu et al. 2013). Records the pre-clip norm as ``grad_norm``."""

    def __init__(self, max_norm: float, norm_type: float = 2.0):
        if max_norm <= 0:
            raise ValueError(f"max_norm must be > 0 (got {max_norm})")
        self.max_norm, self.norm_type = max_norm, norm_type

    def on_after_backward(self, state):
        state.grad_norm = float(torch.nn.utils.clip_grad_norm_(_parameters(state), self.max_norm, self.norm_type))


class GradClipValue(Callback):
    """Clamp every gradient entry to ``[-value, value]`` (the notes' ``tf.clip_by_value``). Unlike
    :class:`GradClip` it changes the gradient's direction as well as its length."""

    def __init__(self, value: float):
        if not value > 0:
            raise ValueError(f"value must be > 0 (got {value})")
        self.value = value

    def on_after_backward(self, state):
        torch.nn.utils.clip_grad_value_(_parameters(state), self.value)


class GradNormalize(Callback):
    """Divide gradients by their norm, so that only the direction is kept and the learning
    rate alone sets the step length. ``per_parameter`` normalises each tensor on its own."""

    def __init__(self, per_parameter: bool = False, eps: float = 1e-12):
        self.per_parameter, self.eps = per_parameter, eps

    def on_after_backward(self, state):
        params = _parameters(state)
        if not params:
            return
        if self.per_parameter:
            for p in params:
                p.grad.div_(p.grad.norm() + self.eps)
            state.grad_norm = None
        else:
            total = torch.linalg.vector_norm(torch.stack([p.grad.detach().norm() for p in params]))
            for p in params:
                p.grad.div_(total + self.eps)
            state.grad_norm = float(total)


class EMA(Callback):
    """Exponential moving average of a model's weights, theta' <- a theta' + (1 - a) theta,
    after every step (Polyak averaging; the mean-teacher update of Tarvainen & Valpola 2017).
    ``ema.model`` is the averaged copy; buffers (BatchNorm statistics) are copied."""

    def __init__(self, model: nn.Module, decay: float = 0.999, warmup: bool = True):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1) (got {decay})")
        self.source, self.decay, self.warmup = model, decay, warmup
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def on_step_end(self, state, metrics):
        self.updates += 1
        # warm-up: average over the steps seen so far while that is shorter than 1/(1-decay)
        d = min(self.decay, (1 + self.updates) / (10 + self.updates)) if self.warmup else self.decay
        for pe, p in zip(self.model.parameters(), self.source.parameters()):
            pe.mul_(d).add_(p.detach(), alpha=1 - d)
        for be, b in zip(self.model.buffers(), self.source.buffers()):
            be.copy_(b)

    def state_dict(self):
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, s):
        self.model.load_state_dict(s["model"])
        self.updates = s["updates"]


def _as_dict(x: Any, name: str) -> dict:
    if x is None:
        return {}
    if isinstance(x, Mapping):
        return dict(x)
    return {name: x}


def _to_device(batch: Any, device: torch.device | None) -> Any:
    if device is None:
        return batch
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(b, device) for b in batch)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def _float(v: Any) -> float:
    return float(v.detach().item()) if isinstance(v, torch.Tensor) else float(v)


def fit(
    step: Callable[[Any], Mapping[str, Any]],
    loader: Iterable,
    *,
    epochs: int | None = None,
    max_steps: int | None = None,
    model: nn.Module | Mapping[str, nn.Module] | None = None,
    optimizer: torch.optim.Optimizer | Mapping[str, torch.optim.Optimizer] | None = None,
    scheduler: Any = None,
    scheduler_interval: str = "epoch",
    callbacks: Iterable[Callback] = (),
    run: Run | None = None,
    checkpoint_every: int | None = None,
    amp: bool | str = False,
    device: torch.device | str | None = None,
    log_every: int = 50,
    desc: str = "train",
    extra_state: Mapping[str, Any] | None = None,
    checkpoint_path: str | Path | None = None,
    log_prefix: str = "",
) -> FitState:
    """Train by calling ``step(batch)`` over ``loader`` for ``epochs`` epochs (or ``max_steps``).

    With ``run``: metrics go to ``run.log``, a checkpoint is written at the end of every
    epoch (and every ``checkpoint_every`` steps), and ``run.resume`` restores the latest
    one. A NaN or infinite loss stops training with :class:`NonFiniteError` naming the
    step; the last checkpoint on disk was written before it, so it is good.
    ``extra_state``: other objects with ``state_dict``/``load_state_dict`` to checkpoint.
    Several models trained one after another in one run (a comparison) each pass their own
    ``checkpoint_path`` and ``log_prefix`` (e.g. ``"resnet18/"``), so each resumes on its own.
    """
    if epochs is None and max_steps is None:
        raise ValueError("fit needs epochs or max_steps")
    if epochs is not None and epochs < 0:
        raise ValueError(f"epochs must be >= 0 (got {epochs})")
    if scheduler_interval not in ("epoch", "step"):
        raise ValueError(f"scheduler_interval must be epoch or step (got {scheduler_interval!r})")
    callbacks = list(callbacks)
    models = _as_dict(model, "model")
    optimizers = _as_dict(optimizer, "optimizer")
    schedulers = _as_dict(scheduler, "scheduler")
    extras = dict(extra_state or {})
    single = optimizer is not None and not isinstance(optimizer, Mapping)
    device = torch.device(device) if device is not None else (run.device if run is not None else None)

    amp_dtype = None
    if amp and device is not None and device.type == "cuda":
        amp_dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    scaler = torch.amp.GradScaler("cuda") if amp_dtype is torch.float16 else None

    state = FitState(models=models, optimizers=optimizers)
    ckpt_path = None if run is None else Path(checkpoint_path) if checkpoint_path is not None else run.checkpoint_path
    resume_rng = epoch_rng = None

    def snapshot() -> dict:
        return {
            "fit": state.to_dict(),
            "models": {k: m.state_dict() for k, m in models.items()},
            "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in schedulers.items()},
            "scaler": scaler.state_dict() if scaler is not None else None,
            "callbacks": [cb.state_dict() for cb in callbacks],
            "extra": {k: v.state_dict() for k, v in extras.items()},
            "rng": rng_state(),
            "epoch_rng": epoch_rng,
        }

    def save() -> None:
        if run is not None and run.is_main:
            save_checkpoint(ckpt_path, snapshot())

    if run is not None and run.resume and ckpt_path.exists():
        ck = load_checkpoint(ckpt_path, map_location=device or "cpu")
        f = ck["fit"]
        state.epoch, state.step, state.batch_in_epoch = f["epoch"], f["step"], f["batch_in_epoch"]
        state.history, state.should_stop, state.stop_reason = f["history"], f["should_stop"], f["stop_reason"]
        for k, m in models.items():
            m.load_state_dict(ck["models"][k])
        for k, o in optimizers.items():
            o.load_state_dict(ck["optimizers"][k])
        for k, s in schedulers.items():
            s.load_state_dict(ck["schedulers"][k])
        if scaler is not None and ck["scaler"] is not None:
            scaler.load_state_dict(ck["scaler"])
        for cb, s in zip(callbacks, ck["callbacks"]):
            cb.load_state_dict(s)
        for k, v in extras.items():
            v.load_state_dict(ck["extra"][k])
        resume_rng, epoch_rng = ck["rng"], ck["epoch_rng"]
        if state.batch_in_epoch == 0:  # saved at an epoch boundary: continue from there
            set_rng_state(resume_rng)
            resume_rng = None
        run.truncate_metrics(state.step, prefix=log_prefix)

    for cb in callbacks:
        cb.on_fit_start(state)

    def done() -> bool:
        return state.should_stop or (max_steps is not None and state.step >= max_steps) or (
            epochs is not None and state.epoch >= epochs)

    total_steps = max_steps if max_steps is not None else (epochs * len(loader) if hasattr(loader, "__len__") else None)
    bar = run.progress(total=total_steps, desc=desc, initial=state.step) if run is not None else contextlib.nullcontext()
    with bar:
        while not done():
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(state.epoch)
            skip = state.batch_in_epoch
            if skip and epoch_rng is not None:
                set_rng_state(epoch_rng)  # same shuffle as the interrupted epoch
            else:
                epoch_rng = rng_state()
            sums: dict[str, float] = {}
            count = 0
            for i, batch in enumerate(loader):
                if i < skip:
                    continue
                if i == skip and resume_rng is not None:
                    set_rng_state(resume_rng)  # dropout etc. continue where they stopped
                    resume_rng = None
                batch = _to_device(batch, device)
                ctx = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype is not None else contextlib.nullcontext()
                with ctx:
                    out = step(batch)
                if single:
                    loss = out["loss"]
                    if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
                        raise TypeError("with optimizer=..., step(batch) must return {'loss': tensor requiring grad, ...}")
                    if not torch.isfinite(loss.detach()).all():
                        _raise_nonfinite("loss", loss, state, ckpt_path)
                    optimizer.zero_grad(set_to_none=True)
                    if scaler is not None:
                        scaler.scale(loss).backward()
                        scaler.unscale_(optimizer)
                    else:
                        loss.backward()
                    for cb in callbacks:
                        cb.on_after_backward(state)
                    if scaler is not None:
                        scaler.step(optimizer)
                        scaler.update()
                    else:
                        optimizer.step()
                    if scheduler_interval == "step":
                        for s in schedulers.values():
                            s.step()
                metrics = {k: _float(v) for k, v in out.items() if isinstance(v, (int, float, torch.Tensor)) and not (isinstance(v, torch.Tensor) and v.numel() != 1)}
                for k, v in metrics.items():
                    if not math.isfinite(v):
                        _raise_nonfinite(k, v, state, ckpt_path)
                if state.grad_norm is not None:
                    metrics["grad_norm"] = state.grad_norm
                state.step += 1
                state.batch_in_epoch = i + 1
                state.metrics = metrics
                for k, v in metrics.items():
                    sums[k] = sums.get(k, 0.0) + v
                count += 1
                for cb in callbacks:
                    cb.on_step_end(state, metrics)
                if run is not None:
                    if state.step % log_every == 0:
                        run.log(state.step, **{log_prefix + k: v for k, v in metrics.items()})
                    bar.update(1)
                    if "loss" in metrics:
                        bar.set_postfix(loss=f"{metrics['loss']:.4g}", epoch=state.epoch + 1, refresh=False)
                if checkpoint_every and state.step % checkpoint_every == 0:
                    save()
                if state.should_stop or (max_steps is not None and state.step >= max_steps):
                    break
            else:  # the epoch ran to its end
                state.epoch += 1
                state.batch_in_epoch = 0
                if scheduler_interval == "epoch":
                    for s in schedulers.values():
                        s.step()
                record = {"epoch": state.epoch, "step": state.step, **{f"train_{k}": v / max(count, 1) for k, v in sums.items()}}
                for cb in callbacks:
                    cb.on_epoch_end(state, record)
                for k, v in record.items():
                    if k.startswith("val_") and not math.isfinite(v):
                        _raise_nonfinite(k, v, state, ckpt_path)
                state.history.append(record)
                if run is not None:
                    run.log(state.step, **{log_prefix + k: v for k, v in record.items() if k != "step"})
                save()
                continue
            break  # stopped inside the epoch (max_steps or a callback)
    if run is not None and state.batch_in_epoch:
        save()
    for cb in callbacks:
        cb.on_fit_end(state)
    return state


def _raise_nonfinite(name: str, value: Any, state: FitState, ckpt: Any) -> None:
    where = f"last good checkpoint: {ckpt}" if ckpt is not None and ckpt.exists() else "no checkpoint was written yet"
    raise NonFiniteError(
        f"non-finite {name} ({_float(value) if not isinstance(value, torch.Tensor) or value.numel() == 1 else 'tensor'}) "
        f"at step {state.step + 1} (epoch {state.epoch + 1}); training stopped, {where}. "
        "Lower the learning rate, clip gradients (GradClip) or check the data."
    )
