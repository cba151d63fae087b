"""Mean Teacher and the Pi-model (Tarvainen & Valpola 2017; Laine & Aila 2017)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from deepcourse.optimization.mean_teacher import (ConsistencyTrainer, consistency_loss, ema_update,
                                                  semi_supervised_split, sigmoid_rampup)


def test_ema_update_formula_and_warmup():
    torch.manual_seed(0)
    student, teacher = nn.Linear(3, 2), nn.Linear(3, 2)
    t0 = [p.clone() for p in teacher.parameters()]
    a = ema_update(teacher, student, alpha=0.9)
    assert a == 0.9
    for pt, p0, ps in zip(teacher.parameters(), t0, student.parameters()):
        assert torch.allclose(pt, 0.9 * p0 + 0.1 * ps)
    assert ema_update(teacher, student, 0.99, step=0) == 0.0  # first update copies the student
    assert all(torch.equal(pt, ps) for pt, ps in zip(teacher.parameters(), student.parameters()))
    assert ema_update(teacher, student, 0.99, step=3) == pytest.approx(0.75)


def test_consistency_loss():
    a = torch.tensor([[0.0, 0.0]])
    b = torch.tensor([[0.0, 100.0]])
    assert float(consistency_loss(a, b)) == pytest.approx(0.5 ** 2 + 0.5 ** 2, abs=1e-6)  # (1/2 - 0)^2 + (1/2 - 1)^2
    assert float(consistency_loss(a, a)) == 0.0


def test_semi_supervised_split_is_balanced_and_disjoint():
    y = torch.arange(10).repeat(30)
    lab, unl = semi_supervised_split(y, 50, seed=1)
    assert len(lab) == 50 and len(unl) == 250
    assert torch.bincount(y[lab]).tolist() == [5] * 10
    assert len(set(lab.tolist()) & set(unl.tolist())) == 0
    assert torch.equal(lab, semi_supervised_split(y, 50, seed=1)[0])
    with pytest.raises(ValueError, match="n_labels"):
        semi_supervised_split(y, 5)


def test_rampup():
    assert sigmoid_rampup(0, 100) == pytest.approx(torch.exp(torch.tensor(-5.0)).item())
    assert sigmoid_rampup(100, 100) == 1.0 and sigmoid_rampup(5, 0) == 1.0


def _batch():
    torch.manual_seed(0)
    x = torch.randn(8, 4)
    y = torch.tensor([0, 1, 2, -1, -1, -1, -1, -1])
    return x, y


def test_mean_teacher_step_updates_teacher_by_ema_and_uses_no_teacher_grad():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    tr = ConsistencyTrainer(model, opt, "mean-teacher", noise=lambda x: x + 0.1 * torch.randn_like(x), ema_decay=0.9)
    tr.step(_batch())  # step 0: a = 0, teacher = student
    assert all(torch.equal(a, b) for a, b in zip(tr.teacher.parameters(), model.parameters()))
    before = [p.clone() for p in tr.teacher.parameters()]
    tr.step(_batch())  # step 1: a = min(1 - 1/2, 0.9) = 0.5
    for pt, p0, ps in zip(tr.teacher.parameters(), before, model.parameters()):
        assert torch.allclose(pt, 0.5 * p0 + 0.5 * ps, atol=1e-6)
        assert pt.grad is None


def test_pi_model_consistency_sees_independent_noise_and_backpropagates_both_branches():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    calls = []

    def noise(x):
        n = torch.randn_like(x)
        calls.append(n)
        return x + n

    tr = ConsistencyTrainer(model, torch.optim.SGD(model.parameters(), lr=0.0), "pi", noise=noise, consistency=1.0)
    out = tr.step(_batch())
    assert len(calls) == 2 and not torch.equal(calls[0], calls[1])  # two independent draws
    assert out["consistency"] > 0
    # with no noise the two branches agree: zero consistency
    tr2 = ConsistencyTrainer(model, torch.optim.SGD(model.parameters(), lr=0.0), "pi")
    assert tr2.step(_batch())["consistency"] == 0.0


def test_supervised_ignores_unlabelled_and_bad_method():
    model = nn.Linear(4, 3)
    ref = copy.deepcopy(model)
    tr = ConsistencyTrainer(model, torch.optim.SGD(model.parameters(), lr=0.0), "supervised")
    out = tr.step(_batch())
    x, y = _batch()
    expected = nn.functional.cross_entropy(ref(x[:3]), y[:3])
    assert out["ce"] == pytest.approx(float(expected.detach()), rel=1e-6) and out["consistency"] == 0.0
    with pytest.raises(ValueError, match="method"):
        ConsistencyTrainer(model, None, "temporal")


def test_ema_eval_keeps_an_average_for_every_method():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    tr = ConsistencyTrainer(model, opt, "supervised", ema_decay=0.5, ema_eval=True)
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 0, 1])
    tr.step((x, y))
    assert torch.equal(tr.eval_model[0].weight, model[0].weight)  # step 0: a = 0, the average is the weights
    first = model[0].weight.detach().clone()
    tr.step((x, y))
    assert tr.eval_model is not model
    assert torch.allclose(tr.eval_model[0].weight, 0.5 * first + 0.5 * model[0].weight)  # step 1: a = 0.5
    assert ConsistencyTrainer(model, opt, "pi").eval_model is model


def test_stream_hides_unlabelled_labels():
    from deepcourse.optimization.mean_teacher import SemiSupervisedStream

    x, y = torch.arange(20.0)[:, None], torch.arange(20) % 2
    lab = torch.tensor([3, 4])
    it = iter(SemiSupervisedStream(x, y, lab, 2, 5, torch.Generator().manual_seed(0)))
    xb, yb = next(it)
    assert xb.shape == (7, 1) and (yb[2:] == -1).all()
    assert set(xb[:2, 0].long().tolist()) <= {3, 4} and torch.equal(yb[:2], y[xb[:2, 0].long()])
    xb, yb = next(iter(SemiSupervisedStream(x, y, lab, 2, 5, torch.Generator(), with_unlabelled=False)))
    assert xb.shape == (2, 1) and (yb >= 0).all()


def test_ema_decay_is_0_99_during_rampup_then_0_999():
    """Tarvainen & Valpola 2017, Appendix B.1: a = 0.99 while the consistency weight ramps up, 0.999 after
    (each capped by 1 - 1/(t + 1) at the very start)."""
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    trainer = ConsistencyTrainer(model, torch.optim.SGD(model.parameters(), lr=0.1), "mean-teacher",
                                 rampup_steps=5, ema_decay=0.999, ema_decay_rampup=0.99)
    x, y = torch.randn(8, 3), torch.tensor([0, 1, -1, -1, 0, 1, -1, -1])
    seen = []
    for _ in range(8):
        seen.append(trainer.current_ema_decay)
        before = copy.deepcopy(trainer.teacher)
        trainer.step((x, y))
        a = min(1 - 1 / trainer.steps, seen[-1])  # the a that ema_update used at that step
        want = a * before.weight + (1 - a) * model.weight
        assert torch.allclose(trainer.teacher.weight, want, atol=1e-6)
    assert seen == [0.99] * 5 + [0.999] * 3
    plain = ConsistencyTrainer(model, torch.optim.SGD(model.parameters(), lr=0.1), "mean-teacher", rampup_steps=5,
                               ema_decay=0.999)
    assert plain.current_ema_decay == 0.999  # without ema_decay_rampup: one decay throughout


def test_cosine_rampdown():
    from deepcourse.optimization.mean_teacher import cosine_rampdown

    assert cosine_rampdown(0, 100) == 1.0 and cosine_rampdown(50, 100) == pytest.approx(0.5)
    assert cosine_rampdown(100, 100) == pytest.approx(0.0, abs=1e-12) and cosine_rampdown(7, 0) == 1.0
    values = [cosine_rampdown(t, 10) for t in range(11)]
    assert all(a > b for a, b in zip(values, values[1:]))


class _Run:
    device = torch.device("cpu")

    def generator(self, tag):
        return torch.Generator().manual_seed(0)


def test_train_semi_supervised_anneals_the_learning_rate(monkeypatch):
    """With ``lr_cosine`` every step uses ``lr * cosine_rampdown(step, steps)``; without, ``lr`` throughout."""
    from deepcourse.optimization import mean_teacher as mt

    seen = {}
    real_adam = torch.optim.Adam

    class RecordingAdam(real_adam):
        def step(self, closure=None):
            seen.setdefault(id(self), []).append(self.param_groups[0]["lr"])
            return super().step(closure)

    monkeypatch.setattr(mt.torch.optim, "Adam", RecordingAdam)
    torch.manual_seed(0)
    x, y = torch.randn(40, 4), torch.arange(40) % 2
    lab = torch.arange(8)
    for cosine in (True, False):
        seen.clear()
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        mt.train_semi_supervised("mean-teacher", model, x, y, lab, _Run(), steps=4, lr=0.1, labeled_batch=4,
                                 unlabeled_batch=8, lr_cosine=cosine)
        (lrs,) = seen.values()
        want = [0.1 * mt.cosine_rampdown(t, 4) for t in range(4)] if cosine else [0.1] * 4
        assert lrs == pytest.approx(want)


def test_mt_convnet_drops_out_after_each_pooling_stage():
    """Tarvainen & Valpola 2017, Table 5: dropout follows each max-pooling; BatchNorm and LeakyReLU(0.1)."""
    from deepcourse.optimization.networks import MeanTeacherConvNet, build_classifier

    model = build_classifier("mt-convnet", (1, 28, 28), 10, 4, dropout=0.5)
    assert isinstance(model, MeanTeacherConvNet)
    layers = list(model)
    pools = [i for i, m in enumerate(layers) if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 2 and all(isinstance(layers[i + 1], nn.Dropout) for i in pools)
    assert all(m.negative_slope == 0.1 for m in layers if isinstance(m, nn.LeakyReLU))
    x = torch.randn(3, 1, 28, 28)
    model.train()
    assert model(x).shape == (3, 10) and not torch.allclose(model(x), model(x))  # dropout: two draws differ
    model.eval()
    assert torch.equal(model(x), model(x))
    assert not any(isinstance(m, nn.Dropout) for m in build_classifier("mt-convnet", (1, 28, 28), 10, 4))
    with pytest.raises(ValueError, match="12x12"):
        build_classifier("mt-convnet", (1, 8, 8), 10, 4)
