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
initialise the student, and training runs long ("patient").
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .mixup import mixup_batch

__all__ = ["kd_loss", "distillation_loss", "HintRegressor", "hint_loss", "FeatureExtractor",
           "function_matching_loss", "mutual_learning_losses"]


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
    with torch.no_grad():
        was = teacher.training
        teacher.eval()
        t_logits = teacher(view)
        teacher.train(was)
    return kd_loss(student(view), t_logits, T)


def mutual_learning_losses(logits_a: Tensor, logits_b: Tensor, y: Tensor, T: float = 1.0,
                           weight: float = 1.0) -> tuple[Tensor, Tensor]:
    """Online distillation (deep mutual learning, Zhang et al. 2018, CVPR): each network's loss is
    ``CE(own, y) + weight KL(other || own)`` with the other's prediction detached."""
    la = F.cross_entropy(logits_a, y) + weight * kd_loss(logits_a, logits_b, T)
    lb = F.cross_entropy(logits_b, y) + weight * kd_loss(logits_b, logits_a, T)
    return la, lb
