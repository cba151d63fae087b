from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from deepcourse.core import (
    EMA, EarlyStopping, Evaluate, FitState, GradClip, GradNormalize, NonFiniteError, Run, TensorLoader, fit,
    load_checkpoint, save_checkpoint,
)
from deepcourse.core.checkpoint import CheckpointError


def _problem(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    return x, y


def test_fit_learns_linear_regression(tmp_path):
    x, y = _problem()
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    run = Run(tmp_path, device="cpu", progress=False)
    state = fit(lambda b: {"loss": nn.functional.mse_loss(model(b[0]), b[1])}, TensorLoader(x, y, batch_size=16),
                epochs=30, model=model, optimizer=opt, run=run)
    assert state.epoch == 30 and state.step == 30 * 4
    assert state.history[-1]["train_loss"] < 1e-3
    assert (tmp_path / "checkpoint.pt").exists()
    lines = run.history()
    assert lines and lines[-1]["epoch"] == 30


def test_nan_guard_names_step_and_keeps_last_good_checkpoint(tmp_path):
    x, y = _problem()
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    run = Run(tmp_path, device="cpu", progress=False)
    calls = {"n": 0}

    def step(b):
        calls["n"] += 1
        loss = nn.functional.mse_loss(model(b[0]), b[1])
        return {"loss": loss * (float("nan") if calls["n"] == 6 else 1.0)}

    with pytest.raises(NonFiniteError, match=r"non-finite loss \(nan\) at step 6 \(epoch 2\).*last good checkpoint"):
        fit(step, TensorLoader(x, y, batch_size=16), epochs=3, model=model, optimizer=opt, run=run)
    ck = load_checkpoint(tmp_path / "checkpoint.pt")
    assert ck["fit"]["step"] == 4  # written at the end of epoch 1, before the bad step
    assert all(torch.isfinite(v).all() for v in ck["models"]["model"].values())


def test_early_stopping_restores_best_weights():
    x, y = _problem()
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    scores = iter([3.0, 1.0, 2.0, 2.5, 2.7, 9.0, 9.0])
    snapshots = []

    def evaluate():
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        return {"loss": next(scores)}

    state = fit(lambda b: {"loss": nn.functional.mse_loss(model(b[0]), b[1])}, TensorLoader(x, y, batch_size=16),
                epochs=7, model=model, optimizer=opt, callbacks=[Evaluate(evaluate), EarlyStopping("val_loss", patience=3)])
    assert state.epoch == 5 and state.should_stop and "did not improve" in state.stop_reason
    for k, v in model.state_dict().items():
        assert torch.equal(v, snapshots[1][k])  # epoch 2 had the best validation loss


def test_grad_clip_and_normalise():
    model = nn.Linear(3, 1)
    x, y = _problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    fit(lambda b: {"loss": 1e4 * nn.functional.mse_loss(model(b[0]), b[1])}, TensorLoader(x, y, batch_size=64),
        epochs=1, model=model, optimizer=opt,
        callbacks=[GradClip(0.5)])
    total = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()]))
    assert total == pytest.approx(0.5, rel=1e-5)
    fit(lambda b: {"loss": 1e4 * nn.functional.mse_loss(model(b[0]), b[1])}, TensorLoader(x, y, batch_size=64),
        epochs=1, model=model, optimizer=opt, callbacks=[GradNormalize(per_parameter=True)])
    for p in model.parameters():
        assert p.grad.norm() == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        GradClip(0)


def test_ema_tracks_average_of_weights():
    model = nn.Linear(2, 1, bias=False)
    ema = EMA(model, decay=0.5, warmup=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.model.weight.data.fill_(0.0)
    ema.on_step_end(None, {})
    assert torch.allclose(ema.model.weight, torch.full((1, 2), 0.5))
    ema.on_step_end(None, {})
    assert torch.allclose(ema.model.weight, torch.full((1, 2), 0.75))


def test_checkpoint_atomic_and_weights_only(tmp_path):
    path = tmp_path / "ck.pt"
    save_checkpoint(path, {"w": torch.ones(3), "n": 1})
    assert load_checkpoint(path)["n"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temp file left
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot load checkpoint"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Evil()}, path)
    with pytest.raises(CheckpointError):  # weights_only refuses arbitrary objects
        load_checkpoint(path)


def _train(out, interrupt_at=None, resume=False):
    torch.manual_seed(0)
    x, y = _problem(80, seed=1)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.3), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)
    run = Run(out, device="cpu", seed=5, resume=resume, progress=False)

    def step(b):
        if interrupt_at is not None and calls.__setitem__("n", calls["n"] + 1) is None and calls["n"] == interrupt_at:
            raise KeyboardInterrupt
        return {"loss": nn.functional.mse_loss(model(b[0]), b[1])}

    calls = {"n": 0}
    fit(step, TensorLoader(x, y, batch_size=16, seed=2), epochs=3, model=model, optimizer=opt, scheduler=sched,
        run=run, checkpoint_every=2)
    return model


def test_resume_in_process_is_bit_exact(tmp_path):
    ref = _train(tmp_path / "ref")
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path / "cut", interrupt_at=8)  # mid-epoch 2, after the step-6 checkpoint
    resumed = _train(tmp_path / "cut", resume=True)
    for a, b in zip(ref.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_fit_argument_errors():
    with pytest.raises(ValueError, match="epochs or max_steps"):
        fit(lambda b: {}, [1])
    model = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="must return"):
        fit(lambda b: {"loss": 1.0}, [torch.zeros(1, 1)], epochs=1, model=model,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert math.isfinite(1.0)


def test_two_models_in_one_run_keep_their_own_checkpoints_and_metrics(tmp_path):
    x, y = _problem()
    run = Run(tmp_path, device="cpu", progress=False)
    for tag in ("a", "b"):
        model = nn.Linear(3, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        fit(lambda b, m=model: {"loss": nn.functional.mse_loss(m(b[0]), b[1])}, TensorLoader(x, y, batch_size=16),
            epochs=2, model=model, optimizer=opt, run=run, checkpoint_path=tmp_path / "ck" / f"{tag}.pt",
            log_prefix=f"{tag}/", log_every=1)
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["a.pt", "b.pt"]
    keys = {k for rec in run.history() for k in rec if k != "step"}
    assert keys and all(k.startswith(("a/", "b/")) for k in keys)
    run.truncate_metrics(4, prefix="a/")  # a resumed "a" drops only its own later lines
    hist = run.history()
    assert not any(r["step"] > 4 and any(k.startswith("a/") for k in r) for r in hist)
    assert any(r["step"] > 4 and any(k.startswith("b/") for k in r) for r in hist)


def test_grad_clip_value_clamps_each_entry():
    from deepcourse.core import GradClipValue

    lin = torch.nn.Linear(3, 1)
    lin.weight.grad = torch.tensor([[3.0, 0.8, -5.0]])
    lin.bias.grad = torch.tensor([0.1])
    GradClipValue(1.0).on_after_backward(FitState(models={"m": lin}))
    assert lin.weight.grad.tolist() == [[1.0, 0.800000011920929, -1.0]]  # the notes' [3, 0.8] -> [1, 0.8]
    assert lin.bias.grad.tolist() == [0.10000000149011612]
    with pytest.raises(ValueError, match="value"):
        GradClipValue(0.0)
