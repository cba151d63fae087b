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


def test_ohem_objective_counts_the_backward_pass():
    from deepcourse.optimization.ohem import OHEMObjective

    torch.manual_seed(0)
    y = torch.tensor([0, 0, 0, 1, 2, 2])
    logits = torch.zeros(6, 3)
    logits[torch.arange(6), y] = 3.0  # every example right and easy ...
    logits[3] = torch.tensor([3.0, 0.0, 0.0])  # ... except the one of rare class 1 (wrong, high loss)
    logits[5] = torch.tensor([0.0, 0.0, 0.5])  # and one barely right
    logits.requires_grad_(True)
    obj = OHEMObjective(2, rare_classes=(1,))
    loss = obj(logits, y)
    per = F.cross_entropy(logits, y, reduction="none")
    assert torch.allclose(loss, per[[3, 5]].mean())
    assert (obj.n_backward, obj.n_rare, obj.n_wrong) == (2, 1, 1)
    assert obj.rare_share == 0.5 and obj.wrong_share == 0.5
    uniform = OHEMObjective(1.0, rare_classes=(1,))
    assert torch.allclose(uniform(logits, y), per.mean()) and uniform.rare_share == pytest.approx(1 / 6)
    with torch.no_grad():  # evaluation calls are plain cross-entropy and are not counted
        assert torch.allclose(obj(logits, y), per.mean())
    assert obj.n_backward == 2
    with pytest.raises(ValueError, match="keep"):
        OHEMObjective(0)
