"""Losses of the notes' theorem-proving use case (Paliwal et al. 2020; Bansal et al. 2019), each beside its formula.

* :func:`pairwise_auc_loss`: the AUC-ROC surrogate (Burges et al. 2005; Eban et al. 2017)
  ``AUCROC_b = sum_{i in pos} sum_{j in neg} ln(1 + exp(-(l_i - l_j)))`` over the premise logits of a batch.
* :func:`pairwise_auc`: the quantity it bounds, the fraction of (positive, negative) pairs ranked correctly
  (ties count 1/2): the ROC AUC, ``1 - AUC <= AUCROC_b / (|pos| |neg| ln 2)``.
* :func:`tactic_loss`: cross-entropy of the tactic classifier, ``-log softmax(z)_y``.
* :func:`premise_loss`: cross-entropy of the pairwise premise scorer (is the premise relevant to the goal?),
  ``-[y log sigma(l) + (1 - y) log(1 - sigma(l))]``.
* :func:`proof_step_loss`: the weighted sum the paper trains on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["pairwise_auc_loss", "pairwise_auc", "tactic_loss", "premise_loss", "proof_step_loss"]


def _check_scores(logits: Tensor, labels: Tensor) -> None:
    if not isinstance(logits, Tensor) or logits.dim() != 1:
        raise ValueError(f"logits must be a (B,) tensor, got {getattr(logits, 'shape', type(logits).__name__)}")
    if not isinstance(labels, Tensor) or labels.shape != logits.shape:
        raise ValueError(f"labels must be (B,) = {tuple(logits.shape)} like the logits, got "
                         f"{getattr(labels, 'shape', type(labels).__name__)}")


def pairwise_auc_loss(logits: Tensor, labels: Tensor, reduction: str = "sum") -> Tensor:
    """``sum_{i: y_i=1} sum_{j: y_j=0} ln(1 + exp(-(l_i - l_j)))`` (softplus, so large gaps do not overflow).

    ``reduction="mean"`` divides by the number of pairs. A batch without positives or without negatives
    gives 0 (still connected to the graph)."""
    _check_scores(logits, labels)
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be sum or mean, got {reduction!r}")
    pos, neg = logits[labels.bool()], logits[~labels.bool()]
    if pos.numel() == 0 or neg.numel() == 0:
        return logits.sum() * 0.0
    terms = F.softplus(-(pos[:, None] - neg[None, :]))  # (P, N): every positive against every negative
    return terms.sum() if reduction == "sum" else terms.mean()


def pairwise_auc(scores: Tensor, labels: Tensor) -> float:
    """ROC AUC as the Mann-Whitney statistic: ``mean_{i in pos, j in neg} [l_i > l_j] + [l_i = l_j] / 2``
    (nan without positives or negatives)."""
    _check_scores(scores, labels)
    pos, neg = scores[labels.bool()].double(), scores[~labels.bool()].double()
    if pos.numel() == 0 or neg.numel() == 0:
        return float("nan")
    # ranks with ties averaged: AUC = (sum of positive ranks - P (P + 1) / 2) / (P N), O(B log B)
    allv = torch.cat([pos, neg])
    order = torch.argsort(allv)
    ranks = torch.empty_like(allv)
    ranks[order] = torch.arange(1, len(allv) + 1, dtype=allv.dtype)
    uniq, inv = torch.unique(allv, return_inverse=True)
    mean_rank = torch.zeros_like(uniq).index_add_(0, inv, ranks) / torch.bincount(inv).to(allv.dtype)
    r = mean_rank[inv][: len(pos)].sum()
    p, n = len(pos), len(neg)
    return float((r - p * (p + 1) / 2) / (p * n))


def tactic_loss(logits: Tensor, tactics: Tensor) -> Tensor:
    """Cross-entropy of the tactic classifier: logits (B, n_tactics), tactics (B,) class indices."""
    if logits.dim() != 2 or tactics.shape != logits.shape[:1]:
        raise ValueError(f"logits must be (B, n_tactics) and tactics (B,), got {tuple(logits.shape)} and "
                         f"{tuple(tactics.shape)}")
    return F.cross_entropy(logits, tactics)


def premise_loss(logits: Tensor, relevant: Tensor) -> Tensor:
    """Binary cross-entropy of the pairwise premise scorer: logits (P,), relevant (P,) in {0, 1}."""
    _check_scores(logits, relevant)
    return F.binary_cross_entropy_with_logits(logits, relevant.to(logits.dtype))


def proof_step_loss(tactic_logits: Tensor, tactics: Tensor, premise_logits: Tensor, relevant: Tensor,
                    weights: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> dict[str, Tensor]:
    """``w_1 CE_tactic + w_2 CE_premise + w_3 AUCROC_b / (|pos| |neg|)``: the weighted sum of Paliwal et al.;
    returns the total under ``"loss"`` and each term."""
    parts = {"tactic": tactic_loss(tactic_logits, tactics), "premise": premise_loss(premise_logits, relevant),
             "auc": pairwise_auc_loss(premise_logits, relevant, reduction="mean")}
    total = sum(w * v for w, v in zip(weights, parts.values()))
    return {"loss": total, **{k: v.detach() for k, v in parts.items()}}
