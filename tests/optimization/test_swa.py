"""SGDR and the SWA schedule against their equations and torch; SWA averaging and the BN update."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from deepcourse.core import TensorLoader, fit
from deepcourse.optimization.swa import SGDRSchedule, SWACallback, sgdr_lr, swa_cyclic_lr


def test_sgdr_matches_torch_warm_restarts():
    model = nn.Linear(2, 1)
    ours = torch.optim.SGD(model.parameters(), lr=0.1)
    ref = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    s_ours = SGDRSchedule(ours, steps_per_epoch=1, t0=3, t_mult=2, lr_min_ratio=0.0)
    s_ref = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(ref, T_0=3, T_mult=2, eta_min=0.0)
    for _ in range(25):
        assert ours.param_groups[0]["lr"] == pytest.approx(ref.param_groups[0]["lr"], abs=1e-9)
        ours.step(), ref.step(), s_ours.step(), s_ref.step()


def test_sgdr_restarts():
    assert sgdr_lr(0, 1.0, 0.1, t0=4) == pytest.approx(1.0)
    assert sgdr_lr(2, 1.0, 0.1, t0=4) == pytest.approx(0.55)
    assert sgdr_lr(4, 1.0, 0.1, t0=4) == pytest.approx(1.0)  # restart
    assert sgdr_lr(4 + 8, 1.0, 0.0, t0=4, t_mult=2) == pytest.approx(1.0)  # second run lasts 8 epochs
    with pytest.raises(ValueError, match="t_mult"):
        sgdr_lr(1, 1.0, t_mult=0.5)


def test_swa_cyclic_schedule_eq2():
    lrs = [swa_cyclic_lr(i, 0.05, 0.01, 4) for i in range(1, 9)]
    assert lrs[3] == pytest.approx(0.01) and lrs[7] == pytest.approx(0.01)  # low end at the cycle's last step
    assert lrs[0] == pytest.approx(0.75 * 0.05 + 0.25 * 0.01)
    assert all(swa_cyclic_lr(i, 0.05, 0.02, 1) == pytest.approx(0.02) for i in range(1, 5))  # constant


def test_swa_average_equals_mean_of_snapshots_and_bn_is_recomputed():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    x, y = torch.randn(64, 3) * 3 + 1, torch.randint(0, 2, (64,))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    cb = SWACallback(model, opt, start_step=0, cycle=2, alpha1=0.1, alpha2=0.02)
    snaps = []
    from deepcourse.core import LambdaCallback

    grab = LambdaCallback(on_step_end=lambda st, m: snaps.append([p.detach().clone() for p in model.parameters()])
                          if st.step % 2 == 0 else None)
    fit(lambda b: {"loss": nn.functional.cross_entropy(model(b[0]), b[1])},
        TensorLoader(x, y, batch_size=16), epochs=2, model=model, optimizer=opt, callbacks=[cb, grab])
    assert cb.n_averaged == len(snaps) == 4
    for pa, *ps in zip(cb.swa_model.module.parameters(), *snaps):
        assert torch.allclose(pa, torch.stack(ps).mean(0), atol=1e-6)
    assert cb.lrs[:4] == pytest.approx([0.06, 0.02, 0.06, 0.02])  # Eq. 2 with c = 2; averaged at the low end
    avg = cb.finalize(TensorLoader(x, y, batch_size=64, shuffle=False))
    bn = avg[1]
    with torch.no_grad():
        h = avg[0](x)
    assert torch.allclose(bn.running_mean, h.mean(0), atol=1e-5)  # update_bn: exact mean over one pass


def test_swa_with_nothing_averaged_raises():
    model = nn.Linear(2, 2)
    cb = SWACallback(model, torch.optim.SGD(model.parameters(), lr=0.1), start_step=10, cycle=5, alpha1=0.1, alpha2=0.1)
    with pytest.raises(RuntimeError, match="averaged no weights"):
        cb.finalize([])
    assert math.isfinite(swa_cyclic_lr(1, 1, 1, 1))


def test_swa_paper_sgd_schedule():
    from deepcourse.optimization.swa import swa_paper_sgd_lr

    assert swa_paper_sgd_lr(0.0) == swa_paper_sgd_lr(0.5) == 1.0
    assert swa_paper_sgd_lr(0.7) == pytest.approx(1.0 - 0.99 * 0.5)
    assert swa_paper_sgd_lr(0.9) == pytest.approx(0.01) and swa_paper_sgd_lr(1.0) == 0.01
