"""Knowledge distillation losses against hand computations (Hinton et al. 2015; Romero et al. 2015)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deepcourse.optimization.distillation import (FeatureExtractor, HintRegressor, distillation_loss,
                                                  function_matching_loss, hint_loss, kd_loss, mutual_learning_losses)


def _softmax(z, T):
    e = [math.exp(v / T) for v in z]
    return [v / sum(e) for v in e]


def test_kd_loss_matches_hand_computation():
    s, t, T = [1.0, 2.0, 0.5], [3.0, 0.0, 1.0], 2.0
    ps, pt = _softmax(s, T), _softmax(t, T)
    kl = sum(q * math.log(q / p) for p, q in zip(ps, pt))
    got = kd_loss(torch.tensor([s]), torch.tensor([t]), T)
    assert float(got) == pytest.approx(T * T * kl, rel=1e-6)
    assert float(kd_loss(torch.tensor([s]), torch.tensor([t]), T, scale=False)) == pytest.approx(kl, rel=1e-6)
    assert float(kd_loss(torch.tensor([t]), torch.tensor([t]), T)) == pytest.approx(0.0, abs=1e-7)


def test_kd_gradient_is_soft_target_difference():
    """d(T^2 KL)/ds = T (softmax(s/T) - softmax(t/T)): Hinton et al. 2015, Eq. 2 (times T^2)."""
    torch.manual_seed(0)
    s = torch.randn(4, 5, requires_grad=True)
    t = torch.randn(4, 5, requires_grad=True)
    T = 3.0
    kd_loss(s, t, T).backward()
    expected = T * (F.softmax(s / T, 1) - F.softmax(t / T, 1)) / 4  # batch mean
    assert torch.allclose(s.grad, expected.detach(), atol=1e-6)
    assert t.grad is None  # the teacher is a target


def test_distillation_loss_mixes_soft_and_hard():
    torch.manual_seed(0)
    s, t, y = torch.randn(3, 4), torch.randn(3, 4), torch.tensor([0, 1, 3])
    got = distillation_loss(s, t, y, T=2.0, alpha=0.25)
    assert torch.allclose(got, 0.25 * kd_loss(s, t, 2.0) + 0.75 * F.cross_entropy(s, y))
    with pytest.raises(ValueError, match="temperature"):
        kd_loss(s, t, 0.0)


def test_hint_loss_and_feature_hook():
    torch.manual_seed(0)
    student = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
    hook = FeatureExtractor(student, "1")
    student(torch.randn(2, 1, 8, 8))
    assert hook.feature.shape == (2, 4, 8, 8)
    reg = HintRegressor(4, 6)
    hint = torch.randn(2, 6, 4, 4)  # a teacher map at half the resolution: the regressed map is pooled
    loss = hint_loss(hook.feature, hint, reg)
    r = F.adaptive_avg_pool2d(reg(hook.feature), (4, 4))
    assert torch.allclose(loss, 0.5 * (hint - r).pow(2).sum() / 2)
    with pytest.raises(ValueError, match="not found"):
        FeatureExtractor(student, "nope")


def test_function_matching_uses_one_view_and_no_labels():
    torch.manual_seed(0)
    teacher, student = nn.Linear(3, 4), nn.Linear(3, 4)
    x = torch.randn(5, 3)
    seen = []
    view = lambda z: z + 1.0  # noqa: E731

    def spy(m, i, o):
        seen.append(i[0].clone())

    teacher.register_forward_hook(spy), student.register_forward_hook(spy)
    loss = function_matching_loss(student, teacher, x, T=1.0, augment=view)
    assert torch.equal(seen[0], seen[1]) and torch.equal(seen[0], x + 1.0)  # consistent: the same input
    loss.backward()
    assert teacher.weight.grad is None and student.weight.grad is not None


def test_mutual_learning_is_symmetric():
    a, b, y = torch.randn(3, 4), torch.randn(3, 4), torch.tensor([0, 1, 2])
    la, lb = mutual_learning_losses(a, b, y)
    assert torch.allclose(la, F.cross_entropy(a, y) + kd_loss(a, b, 1.0))
    assert torch.allclose(lb, F.cross_entropy(b, y) + kd_loss(b, a, 1.0))


def test_objective_distils_from_the_teacher_on_the_view_the_student_sees():
    from deepcourse.optimization.distillation import DistillationObjective

    torch.manual_seed(0)
    teacher, x, y = nn.Linear(3, 4), torch.randn(6, 3), torch.tensor([0, 1, 2, 3, 0, 1])
    obj = DistillationObjective("kd", teacher, T=2.0, alpha=0.7, augment=lambda z: z + 1.0)
    view = obj.prep(x, True)
    assert torch.equal(view, x + 1.0)
    s = torch.randn(6, 4)
    assert torch.allclose(obj.loss(s, y), distillation_loss(s, teacher(x + 1.0), y, 2.0, 0.7))
    assert torch.allclose(obj.loss(s, y), F.cross_entropy(s, y))  # nothing recorded: an evaluation batch
    assert torch.equal(obj.prep(x, False), x)

    fm = DistillationObjective("fm", teacher, T=1.0, mixup_alpha=1.0, rng=np.random.default_rng(0))
    view = fm.prep(x, True)
    assert not torch.equal(view, x)  # a mixup of the batch ...
    assert torch.allclose(fm.loss(s, y), kd_loss(s, teacher(view), 1.0))  # ... scored by the KL alone, no labels
    with pytest.raises(ValueError, match="teacher"):
        DistillationObjective("kd")


def test_mutual_pair_trains_both_networks():
    from deepcourse.optimization.distillation import MutualPair

    torch.manual_seed(0)
    pair = MutualPair(nn.Linear(3, 4), nn.Linear(3, 4))
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 2, 3, 0])
    logits = pair(x)
    loss = pair.loss(logits, y)
    la, lb = mutual_learning_losses(pair.student(x), pair.peer(x), y)
    assert torch.allclose(loss, la + lb)
    loss.backward()
    assert pair.student.weight.grad is not None and pair.peer.weight.grad is not None
    pair.eval()
    assert torch.allclose(pair.loss(pair(x), y), F.cross_entropy(pair.student(x), y))  # evaluation: the student alone


def test_cnn_fc_teacher_flattens_the_maps_into_a_dropout_layer():
    from deepcourse.optimization.distillation import build_network
    from deepcourse.optimization.networks import build_classifier

    torch.manual_seed(0)
    net = build_network("cnn-fc", (1, 28, 28), 10, 4, dropout=0.5, hidden=16)
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(8 * 7 * 7, 16), (16, 10)]  # not pooled
    assert sum(isinstance(m, nn.Dropout) and m.p == 0.5 for m in net.modules()) == 2
    assert net(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    cnn = build_network("cnn", (1, 28, 28), 10, 4)
    assert sum(p.numel() for p in cnn.parameters()) == sum(p.numel() for p in build_classifier("cnn", (1, 28, 28), 10, 4).parameters())
    with pytest.raises(ValueError, match="images"):
        build_network("cnn-fc", (784,), 10, 4)
