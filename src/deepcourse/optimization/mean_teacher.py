"""Mean Teacher (Tarvainen & Valpola 2017) and the Pi-model (Laine & Aila 2017) for semi-supervised
classification with a few labels.

Both add a **consistency cost** to the cross-entropy on the labelled examples: the prediction for an
input under one draw of noise ``eta`` (input noise, dropout, augmentation) should match the prediction
under an independent draw ``eta'``::

    J(theta) = E_{x, eta, eta'} || f(x, theta', eta') - f(x, theta, eta) ||^2

measured between softmax outputs (Tarvainen & Valpola 2017, Eq. 1; MSE, as in their experiments). The
two methods differ in ``theta'``:

* **Pi-model** (Laine & Aila 2017, Algorithm 1): ``theta' = theta``, the same network evaluated twice.
* **Mean Teacher**: ``theta'`` is an exponential moving average of the student's weights, updated after
  every optimisation step (Eq. 2), ``theta'_t = a theta'_{t-1} + (1 - a) theta_t``; the teacher gets no
  gradient. Early on the average uses ``a_t = min(1 - 1/(t + 1), a)`` so it is not dominated by the
  random initialisation, and the paper's ConvNet runs use ``a = 0.99`` during the consistency ramp-up and
  ``a = 0.999`` after it (Tarvainen & Valpola 2017, Appendix B.1): the teacher follows the fast-moving
  early student closely, then averages over a long window (``ema_decay_rampup``).

The consistency weight is ramped up with ``w(t) = w_max exp(-5 (1 - t/T)^2)`` (Laine & Aila 2017),
because early predictions are noise and matching them only slows learning.

:func:`train_semi_supervised` runs one method for a number of steps on a stream of mixed batches.
"""

from __future__ import annotations

import copy
import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core import fit

__all__ = ["ema_update", "consistency_loss", "sigmoid_rampup", "cosine_rampdown", "semi_supervised_split", "ConsistencyTrainer",
           "METHODS", "SemiSupervisedStream", "train_semi_supervised"]

METHODS = ("supervised", "pi", "mean-teacher")


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, alpha: float, step: int | None = None) -> float:
    """``theta' <- a theta' + (1 - a) theta`` for every parameter; buffers (BatchNorm statistics) are
    averaged the same way. With ``step`` (updates done so far, from 0), ``a = min(1 - 1/(step + 1), alpha)``.
    Returns the ``a`` used."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    a = min(1.0 - 1.0 / (step + 1), alpha) if step is not None else alpha
    for pt, ps in zip(teacher.parameters(), student.parameters()):
        pt.mul_(a).add_(ps.detach(), alpha=1 - a)
    for bt, bs in zip(teacher.buffers(), student.buffers()):
        if bt.dtype.is_floating_point:
            bt.mul_(a).add_(bs, alpha=1 - a)
        else:
            bt.copy_(bs)  # e.g. num_batches_tracked
    return a


def consistency_loss(student_logits: Tensor, target_logits: Tensor, detach_target: bool = True) -> Tensor:
    """Squared distance between the two softmax outputs, summed over classes and averaged over the batch
    (divide by the number of classes to get the paper code's per-class mean)."""
    if student_logits.shape != target_logits.shape:
        raise ValueError(f"logit shapes differ: {tuple(student_logits.shape)} vs {tuple(target_logits.shape)}")
    p = F.softmax(student_logits, 1)
    q = F.softmax(target_logits, 1)
    if detach_target:
        q = q.detach()
    return (p - q).pow(2).sum(1).mean()


def sigmoid_rampup(step: int, length: int) -> float:
    """``exp(-5 (1 - t)^2)`` for ``t = step / length`` clipped to [0, 1] (Laine & Aila 2017)."""
    if length <= 0:
        return 1.0
    t = min(max(step / length, 0.0), 1.0)
    return float(math.exp(-5.0 * (1.0 - t) ** 2))


def cosine_rampdown(step: int, length: int) -> float:
    """``(1 + cos(pi t)) / 2`` for ``t = step / length`` clipped to [0, 1]: 1 at the start, 0 at the end
    (Loshchilov & Hutter 2017; the learning-rate ramp-down of the Mean Teacher authors' PyTorch code)."""
    if length <= 0:
        return 1.0
    t = min(max(step / length, 0.0), 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * t))


def semi_supervised_split(y: Tensor, n_labels: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Indices ``(labelled, unlabelled)`` with ``n_labels`` labelled examples balanced over classes
    (``n_labels / K`` per class, as in the papers' SVHN/CIFAR protocols); the rest keep their images but
    lose their labels."""
    classes = torch.unique(y)
    k = len(classes)
    if isinstance(n_labels, bool) or not isinstance(n_labels, int) or not k <= n_labels <= len(y):
        raise ValueError(f"n_labels must be an int in [{k}, {len(y)}] (at least one per class), got {n_labels!r}")
    g = torch.Generator().manual_seed(seed)
    per, extra = divmod(n_labels, k)
    labelled = []
    for i, c in enumerate(classes.tolist()):
        idx = torch.nonzero(y == c).flatten()
        want = per + (1 if i < extra else 0)
        if want > len(idx):
            raise ValueError(f"class {c} has only {len(idx)} examples, {want} labels requested")
        labelled.append(idx[torch.randperm(len(idx), generator=g)[:want]])
    lab = torch.sort(torch.cat(labelled)).values
    mask = torch.ones(len(y), dtype=torch.bool)
    mask[lab] = False
    return lab, torch.nonzero(mask).flatten()


class ConsistencyTrainer:
    """One training step for ``method`` in ``("supervised", "pi", "mean-teacher")``.

    A batch is ``(x, y)`` with ``y = -1`` for unlabelled examples. ``noise(x)`` draws input noise (called
    independently for the two branches; dropout inside the model adds more). The classification cost
    uses the labelled examples only, divided by the batch's labelled count.

    ``ema_eval``: keep the exponential moving average of the weights for the other methods too (it is
    the Mean Teacher's teacher anyway) and evaluate it, as Tarvainen & Valpola do for every model in
    their Table 1, so that a comparison isolates the consistency cost from the weight averaging.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, method: str = "mean-teacher",
                 noise: Callable[[Tensor], Tensor] | None = None, consistency: float = 1.0,
                 rampup_steps: int = 0, ema_decay: float = 0.99, ema_eval: bool = False,
                 ema_decay_rampup: float | None = None):
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.student, self.optimizer, self.method = model, optimizer, method
        self.noise = noise or (lambda x: x)
        self.consistency, self.rampup_steps, self.ema_decay = consistency, rampup_steps, ema_decay
        self.ema_decay_rampup = ema_decay_rampup
        self.teacher = copy.deepcopy(model) if method == "mean-teacher" or ema_eval else None
        if self.teacher is not None:
            for p in self.teacher.parameters():
                p.requires_grad_(False)
        self.steps = 0

    def step(self, batch) -> dict[str, Tensor | float]:
        x, y = batch
        labelled = y >= 0
        self.student.train()
        logits = self.student(self.noise(x))  # (B, K): student branch, noise eta
        n_lab = int(labelled.sum())
        ce = F.cross_entropy(logits[labelled], y[labelled], reduction="sum") / max(n_lab, 1) if n_lab else logits.sum() * 0
        loss, cons = ce, torch.zeros((), device=x.device)
        w = self.consistency * sigmoid_rampup(self.steps, self.rampup_steps)
        if self.method == "pi":
            other = self.student(self.noise(x))  # the same weights, independent noise eta'
            cons = consistency_loss(logits, other, detach_target=False)
        elif self.method == "mean-teacher":
            self.teacher.train()  # dropout on in the teacher too: its noise eta' is part of the method
            with torch.no_grad():
                other = self.teacher(self.noise(x))
            cons = consistency_loss(logits, other)
        if self.method != "supervised":
            loss = ce + w * cons
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.teacher is not None:
            ema_update(self.teacher, self.student, self.current_ema_decay, self.steps)
        self.steps += 1
        return {"loss": float(loss.detach()), "ce": float(ce.detach()), "consistency": float(cons.detach()), "w": w}

    @property
    def current_ema_decay(self) -> float:
        """``ema_decay_rampup`` while the consistency weight ramps up (when set), ``ema_decay`` after."""
        if self.ema_decay_rampup is not None and self.steps < self.rampup_steps:
            return self.ema_decay_rampup
        return self.ema_decay

    @property
    def eval_model(self) -> nn.Module:
        """The model to evaluate: the EMA of the weights (Mean Teacher's teacher; with ``ema_eval`` for
        every method), else the network itself."""
        return self.teacher if self.teacher is not None else self.student

    def state_dict(self) -> dict:
        return {"teacher": self.teacher.state_dict() if self.teacher is not None else None, "steps": self.steps}

    def load_state_dict(self, s: dict) -> None:
        if self.teacher is not None:
            self.teacher.load_state_dict(s["teacher"])
        self.steps = s["steps"]


class SemiSupervisedStream:
    """An endless stream of batches of ``labeled_batch`` labelled examples (indices ``labelled``) and
    ``unlabeled_batch`` examples drawn from all of ``x`` with their labels hidden (``y = -1``), drawn with
    ``generator``; ``with_unlabelled=False`` gives the labelled part only (supervised-only training).
    :func:`deepcourse.core.fit` stops it at ``max_steps``."""

    def __init__(self, x: Tensor, y: Tensor, labelled: Tensor, labeled_batch: int, unlabeled_batch: int,
                 generator: torch.Generator, with_unlabelled: bool = True):
        self.x, self.y, self.labelled, self.g = x, y, labelled.to(x.device), generator
        self.nl, self.nu = labeled_batch, unlabeled_batch if with_unlabelled else 0

    def __iter__(self):
        while True:
            li = self.labelled[torch.randint(len(self.labelled), (self.nl,), generator=self.g).to(self.x.device)]
            if self.nu == 0:
                yield self.x[li], self.y[li]
                continue
            ui = torch.randint(len(self.y), (self.nu,), generator=self.g).to(self.x.device)
            hidden = torch.full((self.nu,), -1, dtype=self.y.dtype, device=self.y.device)
            yield torch.cat([self.x[li], self.x[ui]]), torch.cat([self.y[li], hidden])  # (L + U, ...), (L + U,)


def train_semi_supervised(method: str, model: nn.Module, x: Tensor, y: Tensor, labelled: Tensor, run, *,
                          steps: int, lr: float, labeled_batch: int, unlabeled_batch: int,
                          noise: Callable[[Tensor], Tensor] | None = None, consistency: float = 1.0,
                          rampup: float = 0.3, ema_decay: float = 0.99, ema_eval: bool = True,
                          ema_decay_rampup: float | None = None, lr_cosine: bool = False,
                          tag: str = "mt") -> nn.Module:
    """Train ``model`` with ``method`` (one of :data:`METHODS`) for ``steps`` Adam steps on batches of
    :class:`SemiSupervisedStream` (only the ``labelled`` indices keep their labels); the consistency weight
    ramps up over the first ``rampup`` fraction of the steps. Returns the model to evaluate: the EMA of
    the weights (``ema_eval``, the paper's protocol for every method; without it only Mean Teacher's).
    ``ema_decay_rampup``: the EMA decay during the ramp-up (the paper's 0.99; None: ``ema_decay`` throughout).
    ``lr_cosine``: anneal the learning rate from ``lr`` to 0 along a half cosine over the run (Loshchilov &
    Hutter 2017), as the authors' PyTorch code ramps it down; the paper's TensorFlow runs ramp it down with a
    sigmoid over the last steps instead."""
    x, y = x.to(run.device), y.to(run.device)
    model = model.to(run.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    trainer = ConsistencyTrainer(model, opt, method, noise=noise, consistency=consistency,
                                 rampup_steps=int(rampup * steps), ema_decay=ema_decay, ema_eval=ema_eval,
                                 ema_decay_rampup=ema_decay_rampup)
    stream = SemiSupervisedStream(x, y, labelled, labeled_batch, unlabeled_batch, run.generator(f"{tag}-batches"),
                              with_unlabelled=method != "supervised")
    step = trainer.step
    if lr_cosine:
        def step(batch):  # set the learning rate of this step, then take it
            for group in opt.param_groups:
                group["lr"] = lr * cosine_rampdown(trainer.steps, steps)
            return trainer.step(batch)
    fit(step, stream, max_steps=steps, model=model, log_every=10**9)
    return trainer.eval_model
