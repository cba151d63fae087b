"""Online Hard Example Mining (Shrivastava et al. 2016).

Plain SGD spends most of its backward passes on examples the model already gets right. OHEM lets the
current per-example loss decide: a read-only forward pass scores every example of a (large) candidate
batch, the ``k`` with the highest loss are kept, and only they enter the backward pass.
Shrivastava et al. run the read-only network without gradients and a second copy on the hard subset;
:func:`ohem_step` does the same with one network. For detection they also suppress
overlapping regions (NMS) to keep the selection diverse; for classification that step does not apply.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core import eval_mode

__all__ = ["select_hard", "ohem_loss", "ohem_step", "OHEMObjective"]


def _k(keep: float | int, n: int) -> int:
    if isinstance(keep, bool) or not isinstance(keep, (int, float)) or keep <= 0:
        raise ValueError(f"keep must be a count >= 1 or a fraction in (0, 1], got {keep!r}")
    if isinstance(keep, float):
        if keep > 1:
            raise ValueError(f"keep as a fraction must be in (0, 1], got {keep!r}")
        return max(1, int(round(keep * n)))
    return min(int(keep), n)


def select_hard(losses: Tensor, keep: float | int) -> Tensor:
    """Indices of the ``keep`` (count, or fraction of the batch) largest per-example losses, hardest first."""
    if losses.dim() != 1:
        raise ValueError(f"losses must be per-example (N,), got shape {tuple(losses.shape)}")
    return torch.topk(losses.detach(), _k(keep, losses.numel())).indices


def ohem_loss(logits: Tensor, y: Tensor, keep: float | int,
              criterion: Callable[[Tensor, Tensor], Tensor] | None = None) -> tuple[Tensor, Tensor]:
    """Mean loss over the hardest ``keep`` examples and their indices; the others get zero gradient."""
    per = (criterion or (lambda z, t: F.cross_entropy(z, t, reduction="none")))(logits, y)  # (N,)
    idx = select_hard(per, keep)
    return per[idx].mean(), idx


def ohem_step(model: nn.Module, x: Tensor, y: Tensor, keep: float | int,
              criterion: Callable[[Tensor, Tensor], Tensor] | None = None) -> tuple[Tensor, Tensor]:
    """The paper's two-pass form: score all of ``x`` without gradients (eval mode, so BatchNorm statistics
    are untouched), then forward only the hard subset with gradients. Returns ``(loss, idx)``."""
    crit = criterion or (lambda z, t: F.cross_entropy(z, t, reduction="none"))
    with eval_mode(model):
        idx = select_hard(crit(model(x), y), keep)
    return crit(model(x[idx]), y[idx]).mean(), idx


class OHEMObjective:
    """A ``loss_fn`` for :func:`deepcourse.core.train_classifier` that keeps the ``keep`` hardest examples of
    each training batch (:func:`ohem_loss`, the one-pass form: the forward runs on the whole candidate batch,
    gradient flows back only from the kept examples) and counts where the backward pass went.

    ``keep=1.0`` keeps every example: plain uniform sampling, counted the same way. Evaluation calls (no
    gradient) are plain mean cross-entropy and are not counted. Counters: ``n_backward`` examples that
    carried gradient, ``n_rare`` of them from ``rare_classes``, ``n_wrong`` of them misclassified by the
    model at that step (the hard examples in the usual sense).
    """

    def __init__(self, keep: float | int, rare_classes: tuple[int, ...] = ()):
        _k(keep, 1)  # validates keep
        self.keep, self.rare = keep, torch.as_tensor(tuple(rare_classes), dtype=torch.long)
        self.n_backward = self.n_rare = self.n_wrong = 0

    def __call__(self, logits: Tensor, y: Tensor) -> Tensor:
        if not torch.is_grad_enabled() or not logits.requires_grad:
            return F.cross_entropy(logits, y)
        loss, idx = ohem_loss(logits, y, self.keep)
        ys = y[idx]
        self.n_backward += len(idx)
        self.n_rare += int(torch.isin(ys, self.rare.to(ys.device)).sum())
        self.n_wrong += int((logits.detach()[idx].argmax(1) != ys).sum())
        return loss

    @property
    def rare_share(self) -> float:
        """Fraction of the backward pass's examples that belong to a rare class."""
        return self.n_rare / max(self.n_backward, 1)

    @property
    def wrong_share(self) -> float:
        """Fraction of the backward pass's examples that the model misclassified when it took them."""
        return self.n_wrong / max(self.n_backward, 1)
