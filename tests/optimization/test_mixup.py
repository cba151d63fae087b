"""Mixup (Zhang et al. 2018): the same lambda mixes inputs and one-hot labels; the two forms of the loss agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepcourse.optimization.mixup import (mixup_batch, mixup_cross_entropy, mixup_targets, one_hot, sample_lambda,
                                           soft_cross_entropy)


@pytest.mark.parametrize("shape", [(8, 5), (8, 3, 4, 4)])  # tabular and image batches
def test_inputs_and_labels_mixed_with_the_same_lambda(shape):
    torch.manual_seed(0)
    x, y = torch.randn(shape), torch.randint(0, 4, (8,))
    xm, ya, yb, lam = mixup_batch(x, y, alpha=0.4, rng=np.random.default_rng(0))
    assert xm.shape == x.shape and 0 <= lam <= 1
    # recover the partner of every example from the labels' permutation and check x~ = lam x_i + (1-lam) x_j
    ymix = mixup_targets(ya, yb, lam, 4)
    for i in range(8):
        j = [k for k in range(8) if torch.allclose(xm[i], lam * x[i] + (1 - lam) * x[k], atol=1e-6)]
        assert j, "no partner found"
        assert torch.allclose(ymix[i], lam * one_hot(y[i:i + 1], 4)[0] + (1 - lam) * one_hot(y[j[0]:j[0] + 1], 4)[0])
    assert torch.allclose(ymix.sum(1), torch.ones(8))


def test_loss_is_linear_in_the_target():
    """CE(f, lam y_a + (1-lam) y_b) == lam CE(f, y_a) + (1-lam) CE(f, y_b): the label algebra behind mixup."""
    torch.manual_seed(1)
    logits, ya, yb = torch.randn(6, 5), torch.randint(0, 5, (6,)), torch.randint(0, 5, (6,))
    lam = 0.3
    soft = soft_cross_entropy(logits, mixup_targets(ya, yb, lam, 5))
    split = mixup_cross_entropy(logits, ya, yb, lam)
    ref = lam * F.cross_entropy(logits, ya) + (1 - lam) * F.cross_entropy(logits, yb)
    assert torch.allclose(soft, split, atol=1e-6) and torch.allclose(split, ref, atol=1e-6)
    # with one-hot targets it reduces to ordinary cross-entropy
    assert torch.allclose(soft_cross_entropy(logits, one_hot(ya, 5)), F.cross_entropy(logits, ya), atol=1e-6)


def test_lambda_distribution_and_erm_limit():
    rng = np.random.default_rng(0)
    lams = np.array([sample_lambda(0.2, rng) for _ in range(4000)])
    assert abs(lams.mean() - 0.5) < 0.03  # Beta(a, a) is symmetric about 1/2
    assert (np.minimum(lams, 1 - lams) < 0.05).mean() > 0.5  # small alpha: most draws near 0 or 1
    assert sample_lambda(0.0) == 1.0
    x, y = torch.randn(4, 2), torch.arange(4)
    xm, _, _, lam = mixup_batch(x, y, 0.0)
    assert lam == 1.0 and torch.equal(xm, x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        sample_lambda(-1.0)
    with pytest.raises(ValueError, match="batch size"):
        mixup_batch(torch.randn(3, 2), torch.arange(4), 1.0)
    with pytest.raises(ValueError, match="num_classes"):
        mixup_targets(torch.arange(3), torch.arange(3), 0.5)


def test_objective_mixes_inputs_and_labels_with_one_permutation_and_lambda():
    from deepcourse.optimization.mixup import MixupObjective

    x, y = torch.arange(12.0).reshape(6, 2), torch.tensor([0, 1, 2, 0, 1, 2])
    obj = MixupObjective(1.0, np.random.default_rng(0), generator=torch.Generator().manual_seed(0))
    mixed = obj.prep(x, True)
    perm, lam = obj._mix
    assert torch.allclose(mixed, lam * x + (1 - lam) * x[perm])
    logits = torch.randn(6, 3)
    assert torch.allclose(obj.loss(logits, y), mixup_cross_entropy(logits, y, y[perm], lam))
    assert torch.allclose(obj.loss(logits, y), F.cross_entropy(logits, y))  # consumed: evaluation batches are plain
    erm = MixupObjective(0.0)
    assert torch.equal(erm.prep(x, True), x) and torch.equal(obj.prep(x, False), x)


def test_prediction_stats():
    from deepcourse.optimization.mixup import prediction_stats

    logits, y = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]]), torch.tensor([0, 1, 1])
    st = prediction_stats(logits, y)
    assert st["err"] == pytest.approx(100 / 3)
    assert st["nll"] == pytest.approx(F.cross_entropy(logits, y).item())
    assert st["confidence"] == pytest.approx(F.softmax(logits, 1).max(1).values.mean().item())
