from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from deepcourse.foundations.gradient_descent import OPTIMIZERS, make_optimizer, train_full_batch, train_minibatch
from deepcourse.foundations.models import MLP


def _problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=g)
    y = (x[:, 0] > 0).long()
    return x, y


def test_make_optimizer_known_and_unknown():
    p = [torch.nn.Parameter(torch.zeros(2))]
    for name in OPTIMIZERS:
        assert isinstance(make_optimizer(name, p, 0.1), torch.optim.Optimizer)
    assert make_optimizer("nesterov", p, 0.1).defaults["nesterov"] is True
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        make_optimizer("adamm", p, 0.1)


def test_train_full_batch_records_loss_before_each_step():
    x, y = _problem()
    torch.manual_seed(0)
    model = MLP(3, (8,), 2)
    first = F.cross_entropy(model(x), y).item()
    curve = train_full_batch(model, F.cross_entropy, x, y, torch.optim.Adam(model.parameters(), lr=0.05), 50)
    assert len(curve) == 50 and curve[0] == pytest.approx(first)
    assert curve[-1] < 0.5 * curve[0]


def test_train_minibatch_is_seeded_and_detects_divergence():
    x, y = _problem()
    curves = []
    for _ in range(2):
        torch.manual_seed(0)
        model = MLP(3, (8,), 2)
        curve, diverged = train_minibatch(model, F.cross_entropy, x, y, torch.optim.SGD(model.parameters(), lr=0.1),
                                          epochs=3, batch_size=16, seed=5)
        assert not diverged and len(curve) == 3 * 4
        curves.append(curve)
    assert curves[0] == curves[1]
    torch.manual_seed(0)
    model = MLP(3, (8,), 2)
    curve, diverged = train_minibatch(model, F.cross_entropy, x * 1e3, y, torch.optim.SGD(model.parameters(), lr=1e6),
                                      epochs=20, batch_size=16, seed=5, diverge_above=50.0)
    assert diverged and len(curve) < 20 * 4 and max(curve, default=0.0) <= 50.0
