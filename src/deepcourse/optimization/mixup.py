"""Mixup: training on convex combinations of example pairs and of their labels (Zhang et al. 2018).

Empirical risk minimisation fits the training points only; mixup minimises the risk over a
*vicinal* distribution built without domain knowledge. For a pair ``(x_i, y_i)``, ``(x_j, y_j)``
(``y`` one-hot) and ``lambda ~ Beta(alpha, alpha)`` it trains on (Zhang et al. 2018, Sec. 2)::

    x~ = lambda x_i + (1 - lambda) x_j
    y~ = lambda y_i + (1 - lambda) y_j

with the *same* ``lambda`` in input and label space. As in the paper's implementation, one
``lambda`` is drawn per mini-batch and ``j`` is a random permutation of the batch, so mixing costs
one gather. Because cross-entropy is linear in the target,
``CE(f(x~), y~) = lambda CE(f(x~), y_i) + (1 - lambda) CE(f(x~), y_j)``; :func:`mixup_cross_entropy`
uses the right-hand side (no one-hot tensor needed), :func:`soft_cross_entropy` the left, and the
tests check that they agree. Works for any input shape: images ``(B, C, H, W)`` and tables ``(B, D)``.
``alpha = 0`` means no mixing (``lambda = 1``): plain ERM.

:class:`MixupObjective` plugs mixup into :func:`deepcourse.core.train_classifier` (its ``prep`` mixes
each training batch, its ``loss`` scores the mixed batch against both label sets); :func:`erm_vs_mixup`
trains one network both ways from the same initialisation and batch order.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core import predict, train_classifier

__all__ = ["sample_lambda", "mixup_batch", "mixup_targets", "soft_cross_entropy", "mixup_cross_entropy", "one_hot",
           "MixupObjective", "erm_vs_mixup", "prediction_stats"]


def _check_alpha(alpha: float) -> float:
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or alpha < 0:
        raise ValueError(f"alpha must be a number >= 0 (0 = no mixup), got {alpha!r}")
    return float(alpha)


def sample_lambda(alpha: float, rng: np.random.Generator | None = None) -> float:
    """One draw of ``lambda ~ Beta(alpha, alpha)``; ``alpha = 0`` gives ``1.0`` (ERM).

    With ``rng`` (a NumPy generator, e.g. ``run.rng``) the draw is reproducible on its own, as in the
    paper's code (``np.random.beta``); without it torch's global (seeded) RNG is used.
    """
    alpha = _check_alpha(alpha)
    if alpha == 0:
        return 1.0
    if rng is not None:
        return float(rng.beta(alpha, alpha))
    a = torch.tensor(alpha, dtype=torch.float64)
    return float(torch.distributions.Beta(a, a).sample())


def one_hot(y: Tensor, num_classes: int) -> Tensor:
    """Integer labels ``(B,)`` -> float one-hot ``(B, num_classes)``."""
    if y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise TypeError(f"y must hold integer class indices, got dtype {y.dtype}")
    return F.one_hot(y.long(), num_classes).float()


def mixup_batch(x: Tensor, y: Tensor, alpha: float, rng: np.random.Generator | None = None,
                lam: float | None = None, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor, float]:
    """Mix a batch with a permutation of itself.

    Returns ``(x_mixed, y_a, y_b, lam)`` with ``x_mixed = lam x + (1 - lam) x[perm]``, ``y_a = y``
    and ``y_b = y[perm]``; ``y`` may be class indices ``(B,)`` or soft/one-hot targets ``(B, K)``.
    Give ``lam`` to fix the coefficient (tests), otherwise it is drawn from Beta(alpha, alpha) with
    ``rng``; ``generator`` (torch) draws the pairing permutation.
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same batch size, got {x.shape[0]} and {y.shape[0]}")
    lam = sample_lambda(alpha, rng) if lam is None else float(lam)
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    perm = torch.randperm(x.shape[0], generator=generator).to(x.device)
    x_mixed = lam * x + (1 - lam) * x[perm]  # same shape as x: (B, ...) images or tables alike
    return x_mixed, y, y[perm], lam


def mixup_targets(y_a: Tensor, y_b: Tensor, lam: float, num_classes: int | None = None) -> Tensor:
    """The mixed soft target ``lam y_a + (1 - lam) y_b`` ``(B, K)``; integer labels need ``num_classes``."""
    if y_a.dim() == 1:
        if num_classes is None:
            raise ValueError("num_classes is required when y_a/y_b are class indices")
        y_a, y_b = one_hot(y_a, num_classes), one_hot(y_b, num_classes)
    return lam * y_a + (1 - lam) * y_b


def soft_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Mean over the batch of ``-sum_k target_k log softmax(logits)_k`` for soft targets ``(B, K)``."""
    if logits.shape != target.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and target {tuple(target.shape)} must have the same shape")
    return -(target * F.log_softmax(logits, dim=1)).sum(1).mean()


def mixup_cross_entropy(logits: Tensor, y_a: Tensor, y_b: Tensor, lam: float) -> Tensor:
    """``lam CE(logits, y_a) + (1 - lam) CE(logits, y_b)``: the mixup loss without building one-hots."""
    if y_a.dim() == 2:
        return soft_cross_entropy(logits, lam * y_a + (1 - lam) * y_b)
    return lam * F.cross_entropy(logits, y_a) + (1 - lam) * F.cross_entropy(logits, y_b)


class MixupObjective:
    """The ``prep`` / ``loss`` pair that trains with mixup through :func:`deepcourse.core.train_classifier`.

    ``prep(x, train=True)`` applies ``augment`` (if any) and mixes the batch with a permutation of itself,
    remembering the partner labels' order and ``lambda``; ``loss(logits, y)`` is then
    :func:`mixup_cross_entropy`. The permutation must reach the labels, which ``prep`` does not see: it
    keeps the permutation and ``loss`` applies it to ``y``. Evaluation batches (``train=False``) are left
    alone and scored by plain cross-entropy. ``alpha = 0`` is ERM (with the same augmentation).
    """

    def __init__(self, alpha: float, rng: np.random.Generator | None = None,
                 augment: Callable[[Tensor], Tensor] | None = None, generator: torch.Generator | None = None):
        self.alpha, self.rng, self.augment, self.generator = _check_alpha(alpha), rng, augment, generator
        self._mix: tuple[Tensor, float] | None = None

    def prep(self, x: Tensor, train: bool) -> Tensor:
        if not train:
            return x
        if self.augment is not None:
            x = self.augment(x)
        if self.alpha == 0:
            return x
        lam = sample_lambda(self.alpha, self.rng)
        perm = torch.randperm(x.shape[0], generator=self.generator).to(x.device)
        self._mix = (perm, lam)
        return lam * x + (1 - lam) * x[perm]  # same shape as x

    def loss(self, logits: Tensor, y: Tensor) -> Tensor:
        mix, self._mix = self._mix, None
        if mix is None:  # ERM, and evaluation batches
            return F.cross_entropy(logits, y)
        perm, lam = mix
        return mixup_cross_entropy(logits, y, y[perm], lam)


def erm_vs_mixup(build: Callable[[], nn.Module], splits: Any, run: Any, *, alpha: float, tag: str = "net",
                 augment: Callable[[Tensor], Tensor] | None = None, **train_kw: Any) -> dict[str, dict]:
    """Train ``build()`` with ERM and with mixup (``alpha``) through :func:`deepcourse.core.train_classifier`
    (``train_kw``: epochs, lr, optimizer, ...), from the same initialisation, batch order and augmentation
    draws (all seeded from ``tag``), so that the two runs differ by the mixing alone (``alpha = 0`` makes
    them identical). Returns ``{"erm": result, "mixup": result}``, each train_classifier's dict plus the
    test-set ``"stats"`` of :func:`prediction_stats`."""
    out = {}
    for method, a in (("erm", 0.0), ("mixup", alpha)):
        run.manual_seed(tag)
        model = build()
        obj = MixupObjective(a, np.random.default_rng(run.seed_for(f"{tag}-lambda")), augment,
                             generator=run.generator(f"{tag}-pairs"))
        res = train_classifier(model, splits, run, loss_fn=obj.loss, prep=obj.prep, name=f"{method}-{tag}",
                               seed=run.seed_for(tag) % 2**31, **train_kw)
        res["stats"] = prediction_stats(predict(res["model"], splits.x_test), splits.y_test)
        out[method] = res
    return out


def prediction_stats(logits: Tensor, y: Tensor) -> dict[str, float]:
    """Test error (%), negative log-likelihood (nats per example) and mean top-class confidence of
    ``logits (N, K)`` against labels ``y (N,)``: mixup's soft targets lower the confidence and the NLL of an
    over-fitting network (Zhang et al. 2018; Thulasidasan et al. 2019 study the calibration)."""
    logp = F.log_softmax(logits.float(), 1)  # (N, K)
    return {"err": 100.0 * (logp.argmax(1) != y).float().mean().item(), "nll": F.nll_loss(logp, y).item(),
            "confidence": logp.exp().max(1).values.mean().item()}
