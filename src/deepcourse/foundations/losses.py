r"""Loss functions of module 0.1, written from their formulas.

Conventions: ``pred`` is the model output, ``target`` the desired output; ``reduction`` is
``"mean"`` (default), ``"sum"`` or ``"none"``. Element-wise losses reduce over every element;
per-sample losses (cross-entropy, cosine, KL, ...) first sum over the class/feature axis ``dim``.

Regression (unconstrained output, linear output unit): L2/MSE, L1/MAE, Huber, smooth L1,
Charbonnier. Classification (outputs read as probabilities): zero-one, binary and categorical
cross-entropy, hinge. Others: cosine distance, KL divergence; SSIM is in :mod:`.ssim`.

**Huber and smooth L1.** The notes define Huber by thresholding on the *ordinate*, i.e. on the
value of the L1 loss :math:`|r|` of the residual :math:`r = \hat y - y` (Huber 1964):

.. math:: L_\delta(r) = \tfrac12 r^2 \text{ if } |r| \le \delta, \quad \delta(|r| - \tfrac12\delta) \text{ otherwise.}

The notes write this with :math:`L_1 = \|\hat y - y\|_1` and :math:`L_2 = \|\hat y - y\|_2^2` of whole
vectors; we apply it per element (identical for one output, and the usual choice), so our
``delta`` is exactly torch's ``nn.HuberLoss(delta=...)``. Smooth L1 (Girshick 2015, eq. 3)
thresholds on the abscissa with :math:`\beta` and scales the quadratic part so the linear part
has slope 1: :math:`\mathrm{smoothL1}_\beta(r) = L_\beta(r) / \beta`. The two coincide at
:math:`\delta = \beta = 1`, the notes' smooth L1.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .activations import log_softmax, softplus

__all__ = [
    "mse_loss", "l2_loss", "l1_loss", "mae_loss", "huber_loss", "smooth_l1_loss", "charbonnier_loss",
    "zero_one_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "cross_entropy_with_logits", "cosine_distance", "hinge_loss", "multiclass_hinge_loss",
    "kl_divergence", "entropy",
]

_REDUCTIONS = ("mean", "sum", "none")
_LOG_FLOOR = -100.0  # log-probabilities below this are clamped (torch's BCELoss does the same)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check(pred: Tensor, target: Tensor, reduction: str, who: str, same_shape: bool = True) -> None:
    for name, t in (("pred", pred), ("target", target)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: {name} must be a torch.Tensor, got {type(t).__name__}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{who}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if same_shape and pred.shape != target.shape:
        raise ValueError(
            f"{who}: pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )


# ------------------------------------------------------------------------------ regression
def mse_loss(pred: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    r"""Mean squared error :math:`\frac1m\|\hat y - y\|_2^2` (element-wise squared error, reduced)."""
    _check(pred, target, reduction, "mse_loss")
    return _reduce((pred - target).square(), reduction)


def l2_loss(pred: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    r"""Quadratic loss :math:`L_2 = \|\hat y - y\|_2^2` per sample (sum over all axes but the first).

    The notes' :math:`\mathrm{MSE} = L_2 / m` with :math:`m` the vector length. Its gradient grows
    linearly with the error, so outliers dominate training.
    """
    _check(pred, target, reduction, "l2_loss")
    sq = (pred - target).square()
    per_sample = sq.flatten(1).sum(1) if sq.dim() > 1 else sq
    return _reduce(per_sample, reduction)


def mae_loss(pred: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    r"""Mean absolute error :math:`\frac1m\|\hat y - y\|_1`; the gradient is :math:`\pm 1` whatever the error."""
    _check(pred, target, reduction, "mae_loss")
    return _reduce((pred - target).abs(), reduction)


def l1_loss(pred: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    r"""Absolute loss :math:`L_1 = \|\hat y - y\|_1` per sample (sum over all axes but the first)."""
    _check(pred, target, reduction, "l1_loss")
    a = (pred - target).abs()
    per_sample = a.flatten(1).sum(1) if a.dim() > 1 else a
    return _reduce(per_sample, reduction)


def huber_loss(pred: Tensor, target: Tensor, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    r"""Huber loss (Huber 1964), thresholded on the L1 value :math:`|r|` as in the notes.

    :math:`\frac12 r^2` if :math:`|r| \le \delta`, else :math:`\delta(|r| - \frac12\delta)`:
    quadratic (smooth) near zero, linear with slope :math:`\delta` beyond it, so an outlier pulls
    with a bounded force. Same ``delta`` as ``torch.nn.HuberLoss``.
    """
    _check(pred, target, reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    a = (pred - target).abs()
    loss = torch.where(a <= delta, 0.5 * a.square(), delta * (a - 0.5 * delta))
    return _reduce(loss, reduction)


def smooth_l1_loss(pred: Tensor, target: Tensor, beta: float = 1.0, reduction: str = "mean") -> Tensor:
    r"""Smooth L1 (Girshick 2015, eq. 3), thresholded on the abscissa: :math:`0.5 r^2/\beta` if
    :math:`|r| < \beta`, else :math:`|r| - 0.5\beta`. Equals ``huber_loss(delta=beta) / beta``."""
    _check(pred, target, reduction, "smooth_l1_loss")
    if beta <= 0:
        raise ValueError(f"smooth_l1_loss: beta must be > 0, got {beta}")
    a = (pred - target).abs()
    loss = torch.where(a < beta, 0.5 * a.square() / beta, a - 0.5 * beta)
    return _reduce(loss, reduction)


def charbonnier_loss(pred: Tensor, target: Tensor, eps: float = 1e-3, reduction: str = "mean") -> Tensor:
    r"""Charbonnier loss :math:`\sqrt{r^2 + \varepsilon^2}` (Charbonnier et al. 1994; used as an image loss by Lai et al. 2017).

    A differentiable-everywhere L1: about :math:`|r|` for :math:`|r| \gg \varepsilon`, quadratic
    near 0 (like Huber, but with no switch point).
    """
    _check(pred, target, reduction, "charbonnier_loss")
    if eps <= 0:
        raise ValueError(f"charbonnier_loss: eps must be > 0, got {eps}")
    return _reduce(torch.sqrt((pred - target).square() + eps * eps), reduction)


# -------------------------------------------------------------------------- classification
def _check_classes(scores: Tensor, target: Tensor, dim: int, who: str) -> None:
    """Integer class targets: one label per sample, each in [0, C)."""
    if target.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise TypeError(f"{who}: class targets must be integers, got dtype {target.dtype}")
    if scores.dim() < 1:
        raise ValueError(f"{who}: scores must have a class axis, got a scalar")
    expected = scores.shape[:dim % scores.dim()] + scores.shape[dim % scores.dim() + 1:]
    if target.shape != expected:
        raise ValueError(
            f"{who}: target of shape {tuple(target.shape)} does not match scores of shape "
            f"{tuple(scores.shape)} (expected {tuple(expected)}: one class index per sample)"
        )
    c = scores.shape[dim]
    if target.numel() and (target.min() < 0 or target.max() >= c):
        raise ValueError(f"{who}: class indices must be in [0, {c}), got range "
                         f"[{int(target.min())}, {int(target.max())}]")


def zero_one_loss(scores: Tensor, target: Tensor, dim: int = -1, reduction: str = "mean") -> Tensor:
    r"""Zero-one loss :math:`1[\arg\max \hat y \ne c]`: the error rate. Not differentiable."""
    _check(scores, target, reduction, "zero_one_loss", same_shape=False)
    _check_classes(scores, target, dim, "zero_one_loss")
    return _reduce((scores.argmax(dim=dim) != target).to(scores.dtype), reduction)


def binary_cross_entropy(prob: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    r"""Binary cross-entropy :math:`-[y\log p + (1-y)\log(1-p)]` of probabilities ``prob``.

    Each log is clamped at :math:`-100` (as torch does), so a saturated sigmoid (:math:`p` rounded
    to exactly 0 or 1) gives a large finite loss instead of ``inf`` or ``0 * inf = nan``. The
    clamp makes the loss inexact there: prefer :func:`binary_cross_entropy_with_logits`.
    """
    _check(prob, target, reduction, "binary_cross_entropy")
    if prob.numel() and (prob.min() < 0 or prob.max() > 1):
        raise ValueError("binary_cross_entropy: prob must lie in [0, 1]; pass logits to "
                         "binary_cross_entropy_with_logits instead")
    log_p = torch.log(prob).clamp_min(_LOG_FLOOR)
    log_1mp = torch.log1p(-prob).clamp_min(_LOG_FLOOR)
    return _reduce(-(target * log_p + (1 - target) * log_1mp), reduction)


def binary_cross_entropy_with_logits(logits: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    r"""BCE of :math:`p = \sigma(z)` computed from the logit :math:`z` without forming :math:`p`.

    :math:`-\log\sigma(z) = \mathrm{softplus}(-z)` and :math:`-\log(1-\sigma(z)) = \mathrm{softplus}(z)`,
    so the loss is :math:`y\,\mathrm{softplus}(-z) + (1-y)\,\mathrm{softplus}(z)`, exact for
    :math:`|z|` in the thousands (the naive form returns ``inf``/``nan`` there).
    """
    _check(logits, target, reduction, "binary_cross_entropy_with_logits")
    return _reduce(target * softplus(-logits) + (1 - target) * softplus(logits), reduction)


def _as_distribution(target: Tensor, scores: Tensor, dim: int, who: str) -> Tensor:
    """Integer labels -> one-hot rows; a float target must already have ``scores``' shape."""
    if target.is_floating_point():
        if target.shape != scores.shape:
            raise ValueError(f"{who}: a probability target must have the shape of the scores, got "
                             f"{tuple(target.shape)} and {tuple(scores.shape)}")
        return target
    _check_classes(scores, target, dim, who)
    oh = torch.nn.functional.one_hot(target, scores.shape[dim]).to(scores.dtype)  # (..., C)
    return oh.movedim(-1, dim)


def cross_entropy(prob: Tensor, target: Tensor, dim: int = -1, reduction: str = "mean") -> Tensor:
    r"""Categorical cross-entropy :math:`-\sum_i p_i \log q_i` of predicted probabilities ``prob``.

    ``target`` is either integer class labels (one-hot :math:`p`) or a probability vector per
    sample. Sums over ``dim``, then reduces over samples. :math:`\log q` is clamped at
    :math:`-100` so that a zero probability gives a finite loss.
    """
    _check(prob, target, reduction, "cross_entropy", same_shape=False)
    p = _as_distribution(target, prob, dim, "cross_entropy")
    return _reduce(-(p * torch.log(prob).clamp_min(_LOG_FLOOR)).sum(dim), reduction)


def cross_entropy_with_logits(logits: Tensor, target: Tensor, dim: int = -1, reduction: str = "mean") -> Tensor:
    r"""Softmax + categorical cross-entropy from logits: :math:`-\sum_i p_i\,\log\mathrm{softmax}(z)_i`.

    Uses the log-sum-exp form of :func:`log_softmax`, stable for any logits; equal to
    ``torch.nn.functional.cross_entropy`` for integer labels.
    """
    _check(logits, target, reduction, "cross_entropy_with_logits", same_shape=False)
    p = _as_distribution(target, logits, dim, "cross_entropy_with_logits")
    return _reduce(-(p * log_softmax(logits, dim)).sum(dim), reduction)


def hinge_loss(scores: Tensor, target: Tensor, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    r"""Binary hinge loss :math:`\max(0, m - y\,s)` with labels :math:`y \in \{-1, +1\}` (Cortes & Vapnik 1995)."""
    _check(scores, target, reduction, "hinge_loss")
    if target.numel() and not torch.all((target == 1) | (target == -1)):
        raise ValueError("hinge_loss: target labels must be -1 or +1")
    return _reduce(torch.clamp(margin - target * scores, min=0), reduction)


def multiclass_hinge_loss(scores: Tensor, target: Tensor, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    r"""Multi-class hinge :math:`\sum_{j \ne c}\max(0, m - s_c + s_j)` (Weston & Watkins 1999).

    ``scores``: ``(N, C)``; ``target``: ``(N,)`` class indices. torch's ``multi_margin_loss``
    divides this sum by :math:`C`.
    """
    _check(scores, target, reduction, "multiclass_hinge_loss", same_shape=False)
    if scores.dim() != 2:
        raise ValueError(f"multiclass_hinge_loss: scores must be (N, C), got shape {tuple(scores.shape)}")
    _check_classes(scores, target, 1, "multiclass_hinge_loss")
    s_c = scores.gather(1, target[:, None])  # (N, 1)
    margins = torch.clamp(margin - s_c + scores, min=0)  # (N, C)
    margins = margins.masked_fill(torch.nn.functional.one_hot(target, scores.shape[1]).bool(), 0.0)
    return _reduce(margins.sum(1), reduction)


# ------------------------------------------------------------------------ other criteria
def cosine_distance(pred: Tensor, target: Tensor, dim: int = -1, eps: float = 1e-8,
                    reduction: str = "mean") -> Tensor:
    r"""Cosine distance :math:`1 - \frac{\hat y \cdot y}{\|\hat y\|\,\|y\|}`; 0 for parallel vectors, 2 for opposite.

    Insensitive to vector length, hence suited to high-dimensional embeddings (notes).
    """
    _check(pred, target, reduction, "cosine_distance")
    dot = (pred * target).sum(dim)
    norms = torch.linalg.vector_norm(pred, dim=dim) * torch.linalg.vector_norm(target, dim=dim)
    return _reduce(1 - dot / norms.clamp_min(eps), reduction)


def entropy(p: Tensor, dim: int = -1) -> Tensor:
    r"""Shannon entropy :math:`-\sum_i p_i \log p_i` in nats (:math:`0 \log 0 = 0`)."""
    return -torch.special.xlogy(p, p).sum(dim)


def kl_divergence(p: Tensor, q: Tensor, dim: int = -1, reduction: str = "mean") -> Tensor:
    r"""Kullback-Leibler divergence :math:`KL(P\|Q) = \sum_i p_i \log(p_i / q_i)` in nats (Kullback & Leibler 1951).

    ``p`` and ``q`` are probability vectors along ``dim``; terms with :math:`p_i = 0` contribute
    0. Asymmetric: the notes' example (binomial(2, 0.4) vs uniform on {0, 1, 2}) gives
    :math:`KL(P\|Q) \approx 0.085` and :math:`KL(Q\|P) \approx 0.097`. Note the argument order
    differs from ``torch.nn.functional.kl_div(log q, p)``.
    """
    _check(p, q, reduction, "kl_divergence")
    if p.numel() and (p.min() < 0 or q.min() < 0):
        raise ValueError("kl_divergence: p and q must be non-negative probabilities")
    kl = (torch.special.xlogy(p, p) - torch.special.xlogy(p, q)).sum(dim)
    return _reduce(kl, reduction)
