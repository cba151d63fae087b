"""Stochastic Weight Averaging (Izmailov et al. 2018) and SGDR, cosine annealing with warm restarts
(Loshchilov & Hutter 2017).

**SGDR** (Loshchilov & Hutter 2017, Eq. 5): within a run of ``T_i`` epochs the learning rate falls
along half a cosine, then jumps back to ``lr_max``::

    lr(t) = lr_min + (lr_max - lr_min) (1 + cos(pi T_cur / T_i)) / 2,    T_{i+1} = T_mult T_i

``T_cur`` counts epochs (fractions allowed, so the rate can change every step) since the last restart.

**SWA** (Izmailov et al. 2018, Algorithm 1): after a normal training phase, keep training with a
cyclical or constant learning rate and average the weights visited at the end of each cycle
(for a constant rate: once per epoch)::

    lr(i) = (1 - t(i)) alpha_1 + t(i) alpha_2,   t(i) = (((i - 1) mod c) + 1) / c
    w_SWA <- (w_SWA n_models + w) / (n_models + 1)

The average is a point the network never visited, so its BatchNorm statistics are stale: one pass over
the training data in train mode recomputes them (Algorithm 1, last line). We use
``torch.optim.swa_utils.AveragedModel`` for the running mean and ``update_bn`` for that pass.

:func:`compare_schedules` trains one network three ways at the same budget (SGD with the SWA paper's
schedule, SGDR, SGD then SWA) and returns the three final models.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, update_bn

from deepcourse.core import Callback, LambdaCallback, TensorLoader, fit

__all__ = ["sgdr_lr", "swa_cyclic_lr", "swa_paper_sgd_lr", "SGDRSchedule", "SWACallback", "AveragedModel",
           "update_bn", "train_sgd", "compare_schedules"]


def sgdr_lr(epoch: float, lr_max: float, lr_min: float = 0.0, t0: float = 10, t_mult: float = 1) -> float:
    """The SGDR learning rate at (fractional) ``epoch`` (Loshchilov & Hutter 2017, Eq. 5)."""
    if t0 <= 0:
        raise ValueError(f"t0 must be > 0 epochs, got {t0}")
    if t_mult < 1:
        raise ValueError(f"t_mult must be >= 1, got {t_mult}")
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    t_i, t_cur = float(t0), float(epoch)
    if t_mult == 1:
        t_cur = math.fmod(t_cur, t_i)
    else:  # find the current run: restarts happen at t0 (1 + m + m^2 + ...)
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= t_mult
    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


def swa_paper_sgd_lr(t: float) -> float:
    """The SGD baseline's rate multiplier at fraction ``t`` of the budget (Izmailov et al. 2018, appendix):
    1 for the first half, linear decay to 0.01 at 90 %, then flat."""
    return 1.0 if t <= 0.5 else (1.0 - 0.99 * (t - 0.5) / 0.4 if t <= 0.9 else 0.01)


def swa_cyclic_lr(i: int, alpha1: float, alpha2: float, cycle: int) -> float:
    """The SWA cyclical rate at iteration ``i >= 1`` (Izmailov et al. 2018, Sec. 3.1): linear from
    ``alpha1`` down to ``alpha2`` over ``cycle`` iterations; the weights are averaged when it reaches
    ``alpha2``. ``cycle = 1`` gives the constant rate ``alpha2``."""
    if cycle < 1:
        raise ValueError(f"cycle must be >= 1, got {cycle}")
    if i < 1:
        raise ValueError(f"i counts iterations from 1, got {i}")
    t = (((i - 1) % cycle) + 1) / cycle
    return (1 - t) * alpha1 + t * alpha2


class SGDRSchedule(torch.optim.lr_scheduler.LambdaLR):
    """SGDR as a per-step scheduler: ``steps_per_epoch`` turns step counts into fractional epochs.
    The optimiser's initial ``lr`` plays ``lr_max``."""

    def __init__(self, optimizer: torch.optim.Optimizer, steps_per_epoch: int, t0: float = 10, t_mult: float = 1,
                 lr_min_ratio: float = 0.0):
        if steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
        self.steps_per_epoch, self.t0, self.t_mult, self.lr_min_ratio = steps_per_epoch, t0, t_mult, lr_min_ratio
        super().__init__(optimizer, lambda s: sgdr_lr(s / steps_per_epoch, 1.0, lr_min_ratio, t0, t_mult))


class SWACallback(Callback):
    """Run SWA inside :func:`deepcourse.core.fit`: from step ``start_step`` on, set the SWA learning
    rate every step and fold the weights into the average every ``cycle`` steps (at the low end of each
    cycle). ``cycle = steps_per_epoch`` with ``alpha1 == alpha2`` is the constant-rate variant that
    averages once per epoch. Call :meth:`finalize` with the training loader afterwards: it recomputes
    the BatchNorm statistics of the average and returns it."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, start_step: int, cycle: int,
                 alpha1: float, alpha2: float):
        if start_step < 0:
            raise ValueError(f"start_step must be >= 0, got {start_step}")
        if cycle < 1:
            raise ValueError(f"cycle must be >= 1, got {cycle}")
        self.model, self.optimizer = model, optimizer
        self.start_step, self.cycle, self.alpha1, self.alpha2 = start_step, cycle, alpha1, alpha2
        self.swa_model = AveragedModel(model)
        self.lrs: list[float] = []

    def _set_lr(self, lr: float) -> None:
        for g in self.optimizer.param_groups:
            g["lr"] = lr

    def on_fit_start(self, state):
        if state.step == self.start_step:
            self._set_lr(swa_cyclic_lr(1, self.alpha1, self.alpha2, self.cycle))

    def on_step_end(self, state, metrics):
        i = state.step - self.start_step  # SWA iterations completed, counting from 1
        if i >= 1:
            self.lrs.append(self.optimizer.param_groups[0]["lr"])  # the rate this step used
            if i % self.cycle == 0:
                self.swa_model.update_parameters(self.model)
            self._set_lr(swa_cyclic_lr(i + 1, self.alpha1, self.alpha2, self.cycle))  # rate for the next step
        elif i == 0:
            self._set_lr(swa_cyclic_lr(1, self.alpha1, self.alpha2, self.cycle))

    @property
    def n_averaged(self) -> int:
        return int(self.swa_model.n_averaged)

    def finalize(self, loader, device: torch.device | None = None) -> nn.Module:
        """Recompute BatchNorm statistics of the average with one pass over ``loader`` and return the
        averaged network (``swa_model.module``)."""
        if self.n_averaged == 0:
            raise RuntimeError("SWA averaged no weights: training ended before start_step + cycle steps")
        update_bn(loader, self.swa_model, device=device)
        return self.swa_model.module

    def state_dict(self):
        return {"swa": self.swa_model.state_dict(), "lrs": self.lrs}

    def load_state_dict(self, s):
        self.swa_model.load_state_dict(s["swa"])
        self.lrs = s["lrs"]


def train_sgd(model: nn.Module, x: Tensor, y: Tensor, run: Any, *, steps: int, lr: float, batch_size: int,
              weight_decay: float = 0.0, lr_at: Callable[[int], float] | None = None,
              augment: Callable[[Tensor], Tensor] | None = None, callbacks: tuple = (), name: str = "sgd",
              seed_tag: str = "batches", optimizer: torch.optim.Optimizer | None = None):
    """SGD (momentum 0.9) on cross-entropy for ``steps`` steps with :func:`deepcourse.core.fit`; the rate is
    ``lr * lr_at(step)`` (per step) or set by a callback such as :class:`SWACallback` (which then needs the
    ``optimizer``, built by the caller). Returns fit's state; the model keeps its final weights (the schedules
    are compared at the end of the budget, as in the paper)."""
    model.to(run.device).train()
    opt = optimizer or torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at) if lr_at is not None else None

    def step(batch):
        xb, yb = batch
        return {"loss": F.cross_entropy(model(augment(xb) if augment else xb), yb)}

    loader = TensorLoader(x, y, batch_size=batch_size, seed=run.seed_for(seed_tag) % 2**31, device=run.device)
    return fit(step, loader, max_steps=steps, model=model, optimizer=opt, scheduler=sched, scheduler_interval="step",
               callbacks=callbacks, run=run, checkpoint_path=run.out / "checkpoints" / f"{name}.pt", log_prefix=f"{name}/")


def compare_schedules(build: Callable[[], nn.Module], x: Tensor, y: Tensor, run: Any, *, epochs: int, lr: float,
                      batch_size: int, weight_decay: float, swa_start: float, swa_lr: float, cycle_max: float | None = None,
                      cycle_epochs: float = 1.0, t0: float = 1, t_mult: float = 2,
                      augment: Callable[[Tensor], Tensor] | None = None,
                      score: Callable[[nn.Module], float] | None = None) -> dict[str, Any]:
    """One budget of ``epochs`` epochs, three schedules, the same initialisation (``build()`` after
    ``run.manual_seed("init")``) and batch order:

    * ``sgd``: :func:`swa_paper_sgd_lr`;
    * ``sgdr``: :func:`sgdr_lr` with ``t0``, ``t_mult`` (end the budget at a restart);
    * ``swa``: the ``sgd`` run's weights at ``swa_start`` of the budget, then the rest of the budget at the
      constant rate ``swa_lr`` averaged once per epoch, or (``cycle_max`` given) cyclically from
      ``cycle_max`` down to ``swa_lr`` every ``cycle_epochs``, averaged at each cycle's end; the
      average's BatchNorm statistics are recomputed.

    ``score(model)`` (e.g. test accuracy) is recorded for every set of weights folded into the average (its
    BatchNorm statistics recomputed, as the average's are), to show what averaging adds.

    Returns ``{"sgd", "sgdr", "swa", "swa_last", "swa_no_bn": models, "n_averaged", "member_scores",
    "lrs": {name: [(step, lr)]}}``."""
    spe = math.ceil(len(y) / batch_size)
    total, start = epochs * spe, int(round(swa_start * epochs)) * spe
    kw = dict(lr=lr, batch_size=batch_size, weight_decay=weight_decay, augment=augment)
    every = max(1, total // 400)

    def fresh() -> nn.Module:
        run.manual_seed("init")
        return build()

    snap: dict = {}
    sgd = fresh()
    grab = LambdaCallback(on_step_end=lambda st, m: snap.setdefault("w", copy.deepcopy(sgd.state_dict()))
                          if st.step == start else None)
    train_sgd(sgd, x, y, run, steps=total, lr_at=lambda s: swa_paper_sgd_lr(s / total), callbacks=(grab,),
              name="sgd", **kw)
    sgdr = fresh()
    train_sgd(sgdr, x, y, run, steps=total, lr_at=lambda s: sgdr_lr(s / spe, 1.0, 0.0, t0, t_mult), name="sgdr", **kw)
    swa = fresh()
    swa.load_state_dict(snap["w"])
    a1, cycle = (swa_lr, spe) if cycle_max is None else (cycle_max, max(1, int(round(cycle_epochs * spe))))
    opt = torch.optim.SGD(swa.parameters(), lr=a1, momentum=0.9, weight_decay=weight_decay)
    cb = SWACallback(swa, opt, start_step=0, cycle=cycle, alpha1=a1, alpha2=swa_lr)
    members: list[float] = []
    bn_loader = TensorLoader(x, y, batch_size=256, shuffle=False, device=run.device)

    def judge_member(st, m) -> None:  # each averaged set of weights alone, its BatchNorm recomputed like the average's
        if score is not None and st.step % cycle == 0:
            member = copy.deepcopy(swa)
            update_bn(bn_loader, member, device=run.device)
            members.append(score(member))

    judge = LambdaCallback(on_step_end=judge_member)
    train_sgd(swa, x, y, run, steps=total - start, callbacks=(cb, judge), name="swa", seed_tag="swa-batches",
              optimizer=opt, **kw)
    no_bn = copy.deepcopy(cb.swa_model.module)
    avg = cb.finalize(bn_loader, run.device)
    lrs = {"SGD": [(s, lr * swa_paper_sgd_lr(s / total)) for s in range(0, total, every)],
           "SGDR": [(s, lr * sgdr_lr(s / spe, 1.0, 0.0, t0, t_mult)) for s in range(0, total, every)]}
    lrs["SWA"] = [p for p in lrs["SGD"] if p[0] < start] + [(start + i, v) for i, v in enumerate(cb.lrs)][::every]
    return {"sgd": sgd, "sgdr": sgdr, "swa": avg, "swa_last": swa, "swa_no_bn": no_bn,
            "n_averaged": cb.n_averaged, "member_scores": members, "lrs": lrs}
