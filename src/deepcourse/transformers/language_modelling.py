"""Training a character language model the nanoGPT way: random windows, AdamW, warm-up + cosine decay.

Each step draws ``batch`` windows of ``block + 1`` characters at random offsets of the training text; the model
predicts characters 2..block+1 from 1..block. The validation loss is the mean cross-entropy (nats per
character) over a fixed set of random validation windows, as nanoGPT's ``estimate_loss``.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import torch
from torch import Tensor, nn

from deepcourse.core import GradClip, Run, eval_mode, fit

from .gpt import lm_loss

__all__ = ["RandomWindows", "lm_eval_loss", "warmup_cosine", "train_lm", "causal_leak", "unigram_loss"]


class RandomWindows:
    """``steps`` batches of ``(x, y)``: ``x = data[i:i+block]``, ``y = data[i+1:i+block+1]`` at random ``i``
    (a multiple of ``align`` when given: e.g. whole images laid end to end)."""

    def __init__(self, data: Tensor, block: int, batch: int, steps: int, seed: int, align: int | None = None):
        if data.ndim != 1 or len(data) <= block + 1:
            raise ValueError(f"data must be a 1-D code tensor longer than block + 1 = {block + 1}; "
                             f"got shape {tuple(data.shape)}")
        self.data, self.block, self.batch, self.steps, self.align = data, block, batch, steps, align
        self.gen = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.steps

    def sample(self) -> tuple[Tensor, Tensor]:
        if self.align:
            ix = torch.randint((len(self.data) - self.block - 1) // self.align + 1, (self.batch,),
                               generator=self.gen) * self.align
        else:
            ix = torch.randint(len(self.data) - self.block - 1, (self.batch,), generator=self.gen)
        offs = ix[:, None] + torch.arange(self.block + 1)
        w = self.data[offs]
        return w[:, :-1], w[:, 1:]

    def __iter__(self):
        for _ in range(self.steps):
            yield self.sample()


def lm_eval_loss(model: nn.Module, data: Tensor, block: int, batches: int, batch: int, seed: int) -> float:
    """Mean next-character cross-entropy over ``batches`` fixed random windows of ``data`` (eval mode)."""
    windows = RandomWindows(data, block, batch, batches, seed)
    with eval_mode(model):
        return sum(lm_loss(model(x), y).item() for x, y in windows) / batches


def warmup_cosine(warmup: int, total: int, min_ratio: float) -> Callable[[int], float]:
    """nanoGPT's schedule as a multiplier of the peak rate: linear warm-up, cosine decay to ``min_ratio``."""

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if step >= total:
            return min_ratio
        t = (step - warmup) / max(1, total - warmup)
        return min_ratio + 0.5 * (1.0 + math.cos(math.pi * t)) * (1.0 - min_ratio)

    return f


def train_lm(model: nn.Module, train: Tensor, run: Run, *, block: int, batch: int, iters: int, lr: float,
             min_lr: float, warmup: int, weight_decay: float, step_loss: Callable | None = None,
             name: str = "lm", grad_clip: float = 1.0, align: int | None = None) -> tuple[float, float]:
    """AdamW (betas 0.9, 0.99; weight decay on matrices only) with gradient clipping; returns the wall time
    and the CPU time of this process (seconds) spent training: on a shared machine the CPU time is the one
    to compare. ``step_loss(model, x, y)`` replaces next-token cross-entropy (e.g. BERT)."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(warmup, iters, min_lr / lr))
    loader = RandomWindows(train, block, batch, iters, run.seed_for(f"{name}/batches") % 2**31, align)
    loss_fn = step_loss or (lambda m, x, y: lm_loss(m(x), y))
    t0, c0 = time.perf_counter(), time.process_time()
    fit(lambda b: {"loss": loss_fn(model, *b)}, loader, epochs=1, model=model, optimizer=opt, scheduler=sched,
        scheduler_interval="step", callbacks=[GradClip(grad_clip)] if grad_clip else [], run=run,
        checkpoint_path=run.out / "checkpoints" / f"{name}.pt", log_prefix=f"{name}/", desc=name)
    return time.perf_counter() - t0, time.process_time() - c0


def causal_leak(model: nn.Module, vocab: int, block: int, seed: int = 0) -> float:
    """Largest change of the logits at positions < t when the tokens from t on are replaced: 0 for a causal
    model (up to rounding), large when the causal mask is broken."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(vocab, (4, block), generator=g)
    t = block // 2
    y = x.clone()
    y[:, t:] = torch.randint(vocab, (4, block - t), generator=g)
    with eval_mode(model):
        return (model(x)[:, :t] - model(y)[:, :t]).abs().max().item()


def unigram_loss(train: Tensor, val: Tensor, vocab: int) -> float:
    """Cross-entropy on ``val`` of the training character frequencies (add-one smoothed): the bar a model
    that ignores context reaches."""
    counts = torch.bincount(train, minlength=vocab).double() + 1.0
    logp = (counts / counts.sum()).log()
    return float(-logp[val].mean())
