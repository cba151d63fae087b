"""Lottery-ticket reset semantics: survivors equal theta_0 (or theta_k when rewinding), pruned weights are
zero, the control has the same mask and fresh values; training keeps the mask."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepcourse.optimization.lottery import (TrainResult, iterative_magnitude_pruning, keep_per_round, layer_rates,
                                             random_reinit, train_masked)
from deepcourse.optimization.pruning import ones_masks, sparsity


def _make():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 4))


class FakeTrainer:
    """Records the weights each training run starts from, then 'trains' by adding noise (keeping masks)."""

    def __init__(self, k=None):
        self.starts, self.k = [], k

    def __call__(self, model, masks, start_iter=0, rewind_at=None):
        self.starts.append(({k: v.detach().clone() for k, v in model.state_dict().items()},
                            {k: m.clone() for k, m in masks.items()}, start_iter))
        rewind = None
        with torch.no_grad():
            for step in range(1, 4):
                for n, p in model.named_parameters():
                    p.add_(torch.randn_like(p) * 0.5 * (masks[n] if n in masks else 1))
                if step == rewind_at:
                    rewind = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return TrainResult(3, 0.9, 0.1, 0.9, 0.9, rewind_state=rewind)


def test_keep_per_round():
    assert keep_per_round(0.2, 5) ** 5 == pytest.approx(0.2)
    assert keep_per_round(1.0, 3) == 1.0
    with pytest.raises(ValueError, match="final_remaining"):
        keep_per_round(0.0, 3)
    rates = layer_rates(_make(), 0.2)
    assert rates == {"0.weight": 0.2, "2.weight": 0.1}


@pytest.mark.parametrize("reset", ["init", "rewind"])
def test_reset_semantics(reset):
    theta0 = _make().state_dict()
    trainer = FakeTrainer()
    rounds = iterative_magnitude_pruning(_make, trainer, rounds=3, rate=0.5, reset=reset,
                                         rewind_iter=2 if reset == "rewind" else 0, control=True)
    assert [r.round for r in rounds] == [0, 1, 2, 3]
    assert [r.remaining for r in rounds] == pytest.approx([1.0, 0.5, 0.25, 0.125], abs=0.01)
    # calls: dense, then (ticket, control) per round
    dense_start, _, _ = trainer.starts[0]
    ref = theta0 if reset == "init" else None
    for r in range(1, 4):
        state, masks, start = trainer.starts[2 * r - 1]
        ctrl_state, ctrl_masks, _ = trainer.starts[2 * r]
        assert start == (0 if reset == "init" else 2)
        for k, m in masks.items():
            assert torch.equal(ctrl_masks[k], m)
            assert torch.all(state[k][m == 0] == 0) and torch.all(ctrl_state[k][m == 0] == 0)
            if ref is not None:
                assert torch.equal(state[k][m == 1], ref[k][m == 1])  # survivors are exactly theta_0
            else:
                assert not torch.equal(state[k][m == 1], theta0[k][m == 1])  # theta_k, not theta_0
            assert not torch.equal(ctrl_state[k][m == 1], state[k][m == 1])  # the control is re-drawn
        if ref is not None:  # biases are reset too
            assert torch.equal(state["0.bias"], theta0["0.bias"])
    if reset == "rewind":  # every round starts from the same rewind point
        s1, m1, _ = trainer.starts[1]
        s3, m3, _ = trainer.starts[5]
        assert torch.equal(s1["0.weight"][m3["0.weight"] == 1], s3["0.weight"][m3["0.weight"] == 1])
    # masks only shrink
    ms = [trainer.starts[2 * r - 1][1]["0.weight"] for r in range(1, 4)]
    assert torch.all(ms[1] <= ms[0]) and torch.all(ms[2] <= ms[1])


def test_random_reinit_keeps_mask_and_is_seeded():
    a, b = _make(), _make()
    masks = ones_masks(a)
    masks["0.weight"][:, :5] = 0
    random_reinit(a, masks, seed=3)
    random_reinit(b, masks, seed=3)
    assert torch.equal(a[0].weight, b[0].weight)
    assert torch.all(a[0].weight[:, :5] == 0)
    assert not torch.equal(a[0].weight, _make()[0].weight * masks["0.weight"])


def test_train_masked_holds_mask_and_returns_rewind_point():
    torch.manual_seed(0)
    x, y = torch.randn(200, 10), torch.randint(0, 4, (200,))
    data = {"train": (x, y), "val": (x[:50], y[:50]), "test": (x[50:100], y[50:100])}
    model = _make()
    masks = ones_masks(model)
    masks["0.weight"][:, ::2] = 0
    init = model[0].weight.detach().clone()
    res = train_masked(model, masks, data, iterations=30, batch_size=20, eval_every=10, rewind_at=5)
    assert torch.all(model[0].weight[:, ::2] == 0)
    assert res.rewind_state is not None and torch.all(res.rewind_state["0.weight"][:, ::2] == 0)
    assert not torch.equal(res.rewind_state["0.weight"], init * masks["0.weight"])
    assert res.early_stop_iter in (10, 20, 30) and len(res.curve) == 3
    assert sparsity(model, masks) == pytest.approx(0.5 * 200 / 280, abs=1e-6)


def test_bad_reset():
    with pytest.raises(ValueError, match="reset"):
        iterative_magnitude_pruning(_make, FakeTrainer(), rounds=1, rate=0.2, reset="zero")
    with pytest.raises(ValueError, match="rewind_iter"):
        iterative_magnitude_pruning(_make, FakeTrainer(), rounds=1, rate=0.2, reset="rewind", rewind_iter=0)
