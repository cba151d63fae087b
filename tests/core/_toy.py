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
