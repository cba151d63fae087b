"""Knowledge distillation: response-based (Hinton et al. 2015), feature-based hints (Romero et al. 2015,
FitNets), online/mutual (Zhang et al. 2018, deep mutual learning) and the "patient and consistent"
function-matching recipe (Beyer et al. 2022).

**Response-based** (Hinton et al. 2015, Sec. 2). Soften both output distributions with a temperature
``T``, ``p_i = exp(z_i / T) / sum_j exp(z_j / T)``, and penalise ``KL(p_teacher || p_student)``. The
gradient of the soft term scales as ``1 / T^2``, so it is multiplied by ``T^2`` to keep its weight
independent of ``T`` when mixed with the hard-label cross-entropy::

    L = alpha T^2 KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) CE(s, y)

**Feature-based** (Romero et al. 2015, Eq. 3). A regressor ``r`` maps the student's guided layer to the
teacher's hint layer; ``L_HT = 1/2 ||u_h(x) - r(v_g(x))||^2``. FitNets train this stage first, then
distil the outputs.

**Offline vs online.** Offline: a trained teacher is frozen and only the student learns. Online: both
learn at once; in deep mutual learning each network adds a KL term towards the other's (detached)
prediction.

**Function matching** (Beyer et al. 2022): teacher and student see *exactly the same*
augmented (optionally mixed-up) image, the loss is the KL alone (no labels), the teacher is not used to
initialise the student, and training runs long ("patient"). Its temperature is separate from classic KD's
(the distillation experiment's ``fm_T``; 1 in its CPU record, the plain softmaxes).

:class:`DistillationObjective` and :func:`train_student` plug these losses into
:func:`deepcourse.core.train_classifier`, so that every student, whatever its loss, is trained, selected
on validation and tested by the same code.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.cnn import ConvNet
from deepcourse.core import TensorLoader, eval_mode, fit, predict, train_classifier
from deepcourse.metrics import accuracy

from .mixup import mixup_batch
from .networks import CLASSIFIERS, build_classifier

__all__ = ["kd_loss", "distillation_loss", "HintRegressor", "hint_loss", "FeatureExtractor",
           "function_matching_loss", "mutual_learning_losses", "STUDENT_METHODS", "DistillationObjective",
           "MutualPair", "fit_hint", "train_student", "NETWORKS", "build_network"]

NETWORKS = (*CLASSIFIERS, "cnn-fc")


def build_network(kind: str, input_shape: tuple[int, ...], num_classes: int, width: int,
                  dropout: float = 0.0, hidden: int | None = None) -> nn.Module:
    """A fresh teacher or student: one of module 9's classifiers (:func:`build_classifier`), or ``cnn-fc``.

    ``cnn-fc`` is the distillation teacher for CPU runs: the same two conv-BN-ReLU stages as ``cnn``
    (``width``, ``2 width`` channels, 2x2 max-pooling after each) but *flattened* into a ``hidden``-unit
    (default ``8 width``) fully connected layer, with dropout ``dropout`` before each linear layer (Hinton et al. 2012's dropout
    nets, the kind of heavily regularised teacher Hinton et al. 2015 distil). The all-convolutional ``cnn``
    averages features whose receptive field covers half a 28x28 image, which caps it near 86 % on
    Fashion-MNIST, about where the small student already is: a teacher with little to teach.
    """
    if kind != "cnn-fc":
        return build_classifier(kind, input_shape, num_classes, width, dropout)
    if len(input_shape) != 3:
        raise ValueError(f"model 'cnn-fc' needs images (C, H, W), got inputs of shape {tuple(input_shape)}")
    return ConvNet(num_classes=num_classes, in_channels=input_shape[0], image_size=input_shape[-1],
                   widths=(width, 2 * width), batch_norm=True, hidden_layers=1, hidden=hidden or 8 * width,
                   global_pool=False, dropout=dropout)


def _check_T(T: float) -> float:
    if not isinstance(T, (int, float)) or isinstance(T, bool) or T <= 0:
        raise ValueError(f"temperature T must be a number > 0, got {T!r}")
    return float(T)


def kd_loss(student_logits: Tensor, teacher_logits: Tensor, T: float = 4.0, scale: bool = True) -> Tensor:
    """``T^2 KL(softmax(t / T) || softmax(s / T))``, averaged over the batch (Hinton et al. 2015).

    ``teacher_logits`` is detached: the teacher is a target here. ``scale=False`` drops the ``T^2``.
    """
    T = _check_T(T)
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student logits {tuple(student_logits.shape)} and teacher logits "
                         f"{tuple(teacher_logits.shape)} must have the same shape")
    log_p_s = F.log_softmax(student_logits / T, dim=1)  # (B, K)
    log_p_t = F.log_softmax(teacher_logits.detach() / T, dim=1)  # (B, K)
    kl = F.kl_div(log_p_s, log_p_t, reduction="batchmean", log_target=True)  # sum_k p_t (log p_t - log p_s), mean over B
    return kl * T * T if scale else kl


def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, y: Tensor, T: float = 4.0,
                      alpha: float = 0.9) -> Tensor:
    """Hinton et al.'s mix: ``alpha kd_loss + (1 - alpha) CE(student, y)``."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    return alpha * kd_loss(student_logits, teacher_logits, T) + (1 - alpha) * F.cross_entropy(student_logits, y)


class HintRegressor(nn.Module):
    """FitNets' regressor ``r``: a 1x1 convolution for feature maps ``(B, C_s, H, W)`` -> ``(B, C_t, H, W)``
    (Romero et al. use a convolution so that it has few parameters), or a linear map for vectors."""

    def __init__(self, student_dim: int, teacher_dim: int, conv: bool = True):
        super().__init__()
        self.map = nn.Conv2d(student_dim, teacher_dim, 1) if conv else nn.Linear(student_dim, teacher_dim)

    def forward(self, h: Tensor) -> Tensor:
        return self.map(h)


def hint_loss(student_feat: Tensor, teacher_feat: Tensor, regressor: nn.Module) -> Tensor:
    """``1/2 ||u_h(x) - r(v_g(x))||^2`` per example, averaged over the batch (Romero et al. 2015, Eq. 3).

    Student maps larger than the teacher's are average-pooled to the teacher's size first.
    """
    r = regressor(student_feat)
    if r.dim() == 4 and r.shape[-2:] != teacher_feat.shape[-2:]:
        r = F.adaptive_avg_pool2d(r, teacher_feat.shape[-2:])  # (B, C_t, H_t, W_t)
    if r.shape != teacher_feat.shape:
        raise ValueError(f"regressed student features {tuple(r.shape)} do not match the hint {tuple(teacher_feat.shape)}")
    return 0.5 * (teacher_feat.detach() - r).pow(2).flatten(1).sum(1).mean()


class FeatureExtractor:
    """Record the output of a named submodule on every forward pass (a forward hook), so that hint
    losses can read intermediate features without changing the model's code."""

    def __init__(self, model: nn.Module, layer: str):
        self.feature: Tensor | None = None
        try:
            module = model.get_submodule(layer)
        except AttributeError:
            names = [n for n, _ in model.named_modules() if n]
            raise ValueError(f"layer {layer!r} not found; available: {names[:30]}") from None
        self.handle = module.register_forward_hook(lambda m, i, o: setattr(self, "feature", o))

    def remove(self) -> None:
        self.handle.remove()


def function_matching_loss(student: nn.Module, teacher: nn.Module, x: Tensor, T: float = 1.0,
                           augment: Callable[[Tensor], Tensor] | None = None, mixup_alpha: float = 0.0,
                           rng: np.random.Generator | None = None) -> Tensor:
    """Beyer et al. 2022's consistent KL-only loss: one augmented (and optionally mixed-up) view of ``x``
    is shown to *both* networks; no labels are used. The teacher runs in eval mode without gradients."""
    view = augment(x) if augment is not None else x
    if mixup_alpha > 0:
        view, _, _, _ = mixup_batch(view, torch.zeros(len(view), device=view.device), mixup_alpha, rng)
    with eval_mode(teacher), torch.no_grad():
        t_logits = teacher(view)  # (B, K)
    return kd_loss(student(view), t_logits, T)


def mutual_learning_losses(logits_a: Tensor, logits_b: Tensor, y: Tensor, T: float = 1.0,
                           weight: float = 1.0) -> tuple[Tensor, Tensor]:
    """Online distillation (deep mutual learning, Zhang et al. 2018, CVPR): each network's loss is
    ``CE(own, y) + weight KL(other || own)`` with the other's prediction detached."""
    la = F.cross_entropy(logits_a, y) + weight * kd_loss(logits_a, logits_b, T)
    lb = F.cross_entropy(logits_b, y) + weight * kd_loss(logits_b, logits_a, T)
    return la, lb


STUDENT_METHODS = ("labels", "kd", "fm", "hint", "online")


class DistillationObjective:
    """The ``prep`` / ``loss`` pair that lets :func:`deepcourse.core.train_classifier` train a student.

    ``prep(x, train=True)`` builds the training view of a batch (``augment``; for function matching also
    a mixup of the batch with itself) and records the teacher's logits on exactly that view; ``loss(logits,
    y)`` then uses them:

    * ``labels``: cross-entropy only (the teacher is not consulted);
    * ``kd`` / ``hint``: Hinton et al.'s ``alpha T^2 KL + (1 - alpha) CE`` (:func:`distillation_loss`);
    * ``fm``: the KL alone at ``T`` (Beyer et al. 2022; no labels).

    Evaluation batches (``train=False``) record nothing, so the loss there is plain cross-entropy: the
    validation / test loss train_classifier reports.
    """

    def __init__(self, method: str, teacher: nn.Module | None = None, *, T: float = 4.0, alpha: float = 0.9,
                 mixup_alpha: float = 0.0, augment: Callable[[Tensor], Tensor] | None = None,
                 rng: np.random.Generator | None = None):
        if method not in ("labels", "kd", "fm", "hint"):
            raise ValueError(f"method must be labels, kd, fm or hint, got {method!r}")
        if method != "labels" and teacher is None:
            raise ValueError(f"method {method!r} needs a teacher")
        self.method, self.teacher, self.T, self.alpha = method, teacher, _check_T(T), alpha
        self.mixup_alpha, self.augment, self.rng = mixup_alpha, augment, rng
        self._teacher_logits: Tensor | None = None

    def prep(self, x: Tensor, train: bool) -> Tensor:
        if not train:
            return x
        if self.augment is not None:
            x = self.augment(x)
        if self.method == "fm" and self.mixup_alpha > 0:  # labels are unused, so only the images are mixed
            x, _, _, _ = mixup_batch(x, torch.zeros(len(x), device=x.device), self.mixup_alpha, self.rng)
        if self.method != "labels":
            with eval_mode(self.teacher), torch.no_grad():  # a target: no graph through the teacher
                self._teacher_logits = self.teacher(x)  # (B, K) on the very view the student sees
        return x

    def loss(self, logits: Tensor, y: Tensor) -> Tensor:
        t, self._teacher_logits = self._teacher_logits, None
        if t is None:  # evaluation batches, and the labels-only student
            return F.cross_entropy(logits, y)
        if self.method == "fm":
            return kd_loss(logits, t, self.T)
        return distillation_loss(logits, t, y, self.T, self.alpha)


class MutualPair(nn.Module):
    """Deep mutual learning (Zhang et al. 2018) for train_classifier: ``forward`` returns the student's
    logits (what is evaluated) and, in training, also runs the peer; :meth:`loss` adds both networks'
    losses (:func:`mutual_learning_losses`, each KL term detached from the other network)."""

    def __init__(self, student: nn.Module, peer: nn.Module, T: float = 1.0):
        super().__init__()
        self.student, self.peer, self.T = student, peer, _check_T(T)
        self._peer_logits: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        if self.training:
            self._peer_logits = self.peer(x)  # (B, K)
        return self.student(x)

    def loss(self, logits: Tensor, y: Tensor) -> Tensor:
        peer, self._peer_logits = self._peer_logits, None
        if peer is None:
            return F.cross_entropy(logits, y)
        la, lb = mutual_learning_losses(logits, peer, y, self.T)
        return la + lb


def _last_linear_input(model: nn.Module) -> tuple[dict, int]:
    """Record the input of ``model``'s last ``nn.Linear`` (its penultimate representation) on every forward."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    box: dict = {}
    handle = last.register_forward_pre_hook(lambda m, inp: box.__setitem__("h", inp[0]))
    box["handle"] = handle
    return box, last.in_features


def fit_hint(student: nn.Module, teacher: nn.Module, x: Tensor, run, *, epochs: int, lr: float, batch_size: int,
             augment: Callable[[Tensor], Tensor] | None = None, name: str = "hint") -> float:
    """FitNets stage 1 (Romero et al. 2015): fit the student's penultimate layer, through a linear
    regressor, to the teacher's (the hint is the penultimate layer, so the two networks may differ in depth
    and width). Adam on student and regressor; returns the last epoch's mean hint loss."""
    s_box, s_dim = _last_linear_input(student)
    t_box, t_dim = _last_linear_input(teacher)
    reg = HintRegressor(s_dim, t_dim, conv=False).to(run.device)
    params = list(student.parameters()) + list(reg.parameters())
    opt = torch.optim.Adam(params, lr=lr)

    def step(batch):
        xb = batch  # (B, ...): the loader holds images only
        if augment is not None:
            xb = augment(xb)
        with eval_mode(teacher):
            teacher(xb)
        student(xb)
        return {"loss": hint_loss(s_box["h"], t_box["h"], reg)}

    loader = TensorLoader(x, batch_size=batch_size, shuffle=True, seed=run.seed_for(name) % 2**31, device=run.device)
    student.train()
    state = fit(step, loader, epochs=epochs, model={"student": student, "regressor": reg}, optimizer=opt,
                run=run, checkpoint_path=run.out / "checkpoints" / f"{name}.pt", log_prefix=f"{name}/")
    s_box["handle"].remove(), t_box["handle"].remove()
    return float(state.history[-1].get("train_loss", float("nan"))) if state.history else float("nan")


def train_student(method: str, student: nn.Module, teacher: nn.Module, splits, run, *, T: float = 4.0,
                  alpha: float = 0.9, mixup_alpha: float = 0.0, augment: Callable[[Tensor], Tensor] | None = None,
                  peer: nn.Module | None = None, hint_epochs: int = 5, name: str = "student",
                  **train_kw) -> dict:
    """Train ``student`` with one of :data:`STUDENT_METHODS` through :func:`deepcourse.core.train_classifier`
    (``train_kw``: its epochs, lr, optimizer, ...; epoch selected on validation accuracy). ``hint`` runs
    :func:`fit_hint` first, ``online`` trains ``peer`` alongside (its test accuracy is ``peer_acc``).
    Returns train_classifier's result (``test_acc``, ``curve``, ...)."""
    if method not in STUDENT_METHODS:
        raise ValueError(f"method must be one of {STUDENT_METHODS}, got {method!r}")
    if method == "online":
        if peer is None:
            raise ValueError("online distillation needs a peer network")
        pair = MutualPair(student, peer)
        prep = (lambda x, train: augment(x) if train and augment is not None else x)
        res = train_classifier(pair, splits, run, loss_fn=pair.loss, prep=prep, name=name, **train_kw)
        res["peer_acc"] = accuracy(predict(peer, splits.x_test), splits.y_test)
        return res
    if method == "hint":
        fit_hint(student, teacher, splits.x_train, run, epochs=hint_epochs, lr=train_kw.get("lr", 1e-3),
                 batch_size=train_kw.get("batch_size", 128), augment=augment, name=f"{name}-hint")
    obj = DistillationObjective(method, None if method == "labels" else teacher, T=T, alpha=alpha,
                                mixup_alpha=mixup_alpha, augment=augment,
                                rng=np.random.default_rng(run.seed_for(name)))
    return train_classifier(student, splits, run, loss_fn=obj.loss, prep=obj.prep, name=name, **train_kw)
