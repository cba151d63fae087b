"""Fake run folders (summary.json as CONTRIBUTING.md describes plus tiny PNG figures) for the report tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deepcourse.viz import line_plot, save_png


def make_summary(experiment: str, module: str, status: str = "passed", **overrides) -> dict:
    summary = {
        "experiment": experiment,
        "module": module,
        "title": f"Title of {experiment}",
        "preset": "quick",
        "primary": "acc",
        "config": {"hidden": 4, "lr": 0.1},
        "metrics": {"acc": 0.98234, "loss": 0.0123456},
        "paper": {"source": "Minsky & Papert 1969", "values": {"acc": 1.0}},
        "floor": {"acc": {"op": ">=", "value": 0.95}, "loss": {"op": "<=", "value": 0.05}},
        "status": status,
        "reason": "",
        "figures": [],
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "versions": {"python": "3.11.2", "torch": "2.14.1"},
        "hardware": {"cpu": "x86_64", "gpu": None, "device": "cpu"},
        "wall_time_s": 3.24,
        "seed": 0,
        "started": "2026-11-26T03:00:00Z",
    }
    summary.update(overrides)
    return summary


def write_run(root: Path, summary: dict, figures: dict[str, int] | None = None) -> Path:
    """A run folder with summary.json and one small PNG per figure name (seeded line plots)."""
    run_dir = root / summary["experiment"] / summary["started"].replace(":", "")
    fig_names = []
    for name, seed in (figures or {}).items():
        rng = np.random.default_rng(seed)
        fig = line_plot(np.arange(10), {"y": rng.random(10)}, xlabel="x", ylabel="y", title=name)
        save_png(fig, run_dir / "figures" / f"{name}.png")
        fig_names.append(f"figures/{name}.png")
    summary = dict(summary, figures=fig_names + list(summary.get("figures", [])))
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return run_dir


@pytest.fixture(name="make_summary")
def make_summary_fixture():
    """The :func:`make_summary` factory (fixtures, not imports, so any pytest import mode works)."""
    return make_summary


@pytest.fixture(name="write_run")
def write_run_fixture():
    """The :func:`write_run` helper."""
    return write_run


@pytest.fixture
def fake_runs(tmp_path) -> Path:
    """A runs/ folder with five runs over modules 10, 0.1, 2 and 1.1 and every status."""
    runs = tmp_path / "runs"
    write_run(runs, make_summary("toy-xor", "0.1"), figures={"decision_boundary": 0})
    write_run(runs, make_summary("mlp-mnist", "0.1", status="failed", metrics={"acc": 0.91}),
              figures={"loss_curves": 1})
    write_run(runs, make_summary("dcgan", "2", status="skipped", reason="MNIST missing: run deepcourse data download mnist",
                                 metrics={}, wall_time_s=0.01))
    write_run(runs, make_summary("resnet", "1.1", status="done", preset="full", floor={},
                                 hardware={"cpu": "x86_64", "gpu": "NVIDIA H100", "device": "cuda"},
                                 wall_time_s=3725.0), figures={"curves": 2})
    write_run(runs, make_summary("autodiff-check", "10", status="error", reason="RuntimeError: boom",
                                 metrics={"acc": None}))
    return runs
