"""Tests of deepcourse.gnn.losses: the pairwise AUC loss against its formula, the AUC, the two cross-entropies."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from deepcourse.gnn.losses import pairwise_auc, pairwise_auc_loss, premise_loss, proof_step_loss, tactic_loss
from tests.helpers import assert_matches_reference


def auc_loss_by_formula(logits, labels):
    """sum_{i in pos} sum_{j in neg} ln(1 + exp(-(l_i - l_j))), written as the double sum of the notes."""
    total = logits.new_zeros(())
    for i in range(len(logits)):
        for j in range(len(logits)):
            if labels[i] == 1 and labels[j] == 0:
                total = total + torch.log(1 + torch.exp(-(logits[i] - logits[j])))
    return total


def test_auc_loss_matches_its_formula_in_value_and_gradient():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(11, dtype=torch.float64, generator=g) * 3
    labels = torch.tensor([1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1])
    assert_matches_reference(pairwise_auc_loss, auc_loss_by_formula, [logits, labels], rtol=1e-10)
    n_pairs = 5 * 6
    torch.testing.assert_close(pairwise_auc_loss(logits, labels, "mean"), auc_loss_by_formula(logits, labels) / n_pairs)


def test_auc_loss_hand_value_and_edge_cases():
    # one positive at 2, one negative at 0: ln(1 + e^-2)
    assert math.isclose(float(pairwise_auc_loss(torch.tensor([2.0, 0.0]), torch.tensor([1, 0]))),
                        math.log(1 + math.exp(-2)), rel_tol=1e-6)
    big = pairwise_auc_loss(torch.tensor([-200.0, 200.0]), torch.tensor([1, 0]))  # softplus: no overflow
    assert math.isclose(float(big), 400.0, rel_tol=1e-6)
    x = torch.tensor([0.5, 1.0], requires_grad=True)
    zero = pairwise_auc_loss(x, torch.tensor([1, 1]))
    assert float(zero.detach()) == 0.0 and zero.requires_grad
    with pytest.raises(ValueError, match=r"labels must be \(B,\)"):
        pairwise_auc_loss(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="reduction"):
        pairwise_auc_loss(torch.zeros(2), torch.tensor([0, 1]), "max")


def test_pairwise_auc_matches_sklearn_and_is_bounded_by_the_loss():
    g = torch.Generator().manual_seed(1)
    scores = torch.randint(0, 5, (40,), generator=g).double()  # many ties
    labels = torch.randint(0, 2, (40,), generator=g)
    assert math.isclose(pairwise_auc(scores, labels), roc_auc_score(labels.numpy(), scores.numpy()), rel_tol=1e-12)
    p, n = int(labels.sum()), int((1 - labels).sum())
    assert 1 - pairwise_auc(scores, labels) <= float(pairwise_auc_loss(scores, labels)) / (p * n * math.log(2))
    assert math.isnan(pairwise_auc(scores, torch.ones(40)))


def test_cross_entropy_heads():
    g = torch.Generator().manual_seed(2)
    z, y = torch.randn(5, 6, dtype=torch.float64, generator=g), torch.tensor([0, 5, 2, 2, 1])
    by_hand = -torch.log_softmax(z, 1)[torch.arange(5), y].mean()
    torch.testing.assert_close(tactic_loss(z, y), by_hand)
    l, r = torch.randn(7, dtype=torch.float64, generator=g), torch.tensor([1, 0, 1, 1, 0, 0, 1])
    s = torch.sigmoid(l)
    torch.testing.assert_close(premise_loss(l, r), -(r * torch.log(s) + (1 - r) * torch.log(1 - s)).mean())
    out = proof_step_loss(z, y, l, r, weights=(1.0, 2.0, 0.5))
    torch.testing.assert_close(out["loss"], out["tactic"] + 2 * out["premise"] + 0.5 * out["auc"])
    with pytest.raises(ValueError, match="n_tactics"):
        tactic_loss(z[0], y)
