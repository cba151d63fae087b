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
