"""OHEM (Shrivastava et al. 2016): the per-example loss picks the examples of the backward pass."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deepcourse.optimization.ohem import ohem_loss, ohem_step, select_hard


def test_select_hard_picks_the_largest_losses():
    losses = torch.tensor([0.1, 2.0, 0.5, 3.0, 0.2])
    assert select_hard(losses, 2).tolist() == [3, 1]
    assert select_hard(losses, 0.4).tolist() == [3, 1]
    assert len(select_hard(losses, 99)) == 5
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="keep"):
            select_hard(losses, bad)


def test_only_hard_examples_get_gradient():
    torch.manual_seed(0)
    logits = torch.randn(6, 3, requires_grad=True)
    y = torch.randint(0, 3, (6,))
    loss, idx = ohem_loss(logits, y, 2)
    per = F.cross_entropy(logits, y, reduction="none")
    assert set(idx.tolist()) == set(per.topk(2).indices.tolist())
    assert torch.allclose(loss, per[idx].mean())
    loss.backward()
    nonzero = logits.grad.abs().sum(1) > 0
    assert nonzero.sum() == 2 and nonzero[idx].all()


def test_ohem_step_two_passes():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    x, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
    bn_before = model[1].running_mean.clone()
    model.train()
    with torch.no_grad():
        model.eval()
        per = F.cross_entropy(model(x), y, reduction="none")
        model.train()
    loss, idx = ohem_step(model, x, y, 4)
    assert set(idx.tolist()) == set(per.topk(4).indices.tolist())
    assert model.training
    # the scoring pass ran in eval mode: only the hard subset's training pass moved the BN statistics
    assert not torch.equal(bn_before, model[1].running_mean)
    loss.backward()
    assert model[0].weight.grad is not None
