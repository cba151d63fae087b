"""A toy experiment registered for the platform tests (not part of the package)."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt

from deepcourse.core import Reference, at_most, experiment, param
from deepcourse.data import DataMissingError


@dataclass
class ToyConfig:
    value: float = param(0.9, ge=0)
    fail: bool = param(False)
    missing: bool = param(False)


@experiment(name="test-toy", module="0.1", title="toy", paper=Reference("nobody 2026", {"acc": 0.95}),
            quick=ToyConfig(), full=ToyConfig(value=0.99), floor={"acc": 0.8, "err": at_most(0.5)})
def toy(cfg: ToyConfig, run):
    """A toy experiment for the registry tests."""
    if cfg.fail:
        raise RuntimeError("boom")
    if cfg.missing:
        raise DataMissingError("dataset 'mnist' not found under /nowhere")
    fig = plt.figure()
    plt.plot([0, 1], [0, cfg.value])
    run.save_figure("line", fig)
    run.log(1, acc=cfg.value)
    return {"acc": cfg.value, "err": 1 - cfg.value}


@experiment(name="test-toy-skip", module="99", title="needs data that is not there",
            quick=ToyConfig(missing=True), full=ToyConfig(missing=True), floor={"acc": 0.8})
def toy_skip(cfg: ToyConfig, run):
    return toy(cfg, run)


@experiment(name="test-toy-ok", module="99", title="passes", quick=ToyConfig(), full=ToyConfig(), floor={"acc": 0.8})
def toy_ok(cfg: ToyConfig, run):
    return toy(cfg, run)


@experiment(name="test-toy-low", module="98", title="misses its floor", quick=ToyConfig(value=0.5),
            full=ToyConfig(), floor={"acc": 0.8})
def toy_low(cfg: ToyConfig, run):
    return toy(cfg, run)


# ------------------------------------------------------------------ toys for the reliability tests (issue 12)
@dataclass
class FitToyConfig:
    epochs: int = param(3, ge=1)
    pause: float = param(0.0, ge=0, help="seconds to sleep after each step (so a test can interrupt it)")


@experiment(name="test-toy-fit", module="97", title="a tiny fit() with a checkpoint every step",
            quick=FitToyConfig(), full=FitToyConfig(), floor={"loss": at_most(100.0)})
def toy_fit(cfg: FitToyConfig, run):
    """Prints ``step N`` after every step, so that a parent process knows when to send a signal."""
    import time

    import torch
    from torch import nn

    from deepcourse.core import LambdaCallback, TensorLoader, fit

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=g)
    y = x.sum(1, keepdim=True)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    loader = TensorLoader(x, y, batch_size=8, shuffle=True, seed=0)

    def step(batch):
        return {"loss": nn.functional.mse_loss(model(batch[0]), batch[1])}

    def tick(state, metrics):
        print(f"step {state.step}", flush=True)
        time.sleep(cfg.pause)

    state = fit(step, loader, epochs=cfg.epochs, model=model, optimizer=opt, run=run, checkpoint_every=1,
                callbacks=[LambdaCallback(on_step_end=tick)], log_every=1)
    return {"loss": state.history[-1]["train_loss"]}  # also set when a resume finds nothing left to train


@dataclass
class EdgeToyConfig:
    nan: bool = param(False, help="return a nan metric")
    val_frac: float = param(0.1, gt=0, lt=1, help="checked against the data size inside the run")


@experiment(name="test-toy-edge", module="97", title="a nan metric, a config error found inside the run",
            quick=EdgeToyConfig(), full=EdgeToyConfig(), floor={"acc": 0.5})
def toy_edge(cfg: EdgeToyConfig, run):
    from deepcourse.core import ConfigError

    n = 200
    if round(cfg.val_frac * n) < 1:
        raise ConfigError(f"val_frac={cfg.val_frac} leaves no validation item out of {n}; use val_frac >= {1 / n:g}")
    return {"acc": float("nan") if cfg.nan else 1.0}


@dataclass
class DataToyConfig:
    dataset: str = param("mnist")


@experiment(name="test-toy-data", module="97", title="reads the test labels of a registered dataset",
            quick=DataToyConfig(), full=DataToyConfig(), floor={"n": 1})
def toy_data(cfg: DataToyConfig, run):
    from deepcourse.data import load_tensors

    _, y = load_tensors(cfg.dataset, "test", root=run.data_root)
    return {"n": float(len(y))}
