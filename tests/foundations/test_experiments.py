"""One smoke test per quick experiment of module 0.1: it must run and meet its floor.

Wall times of the quick presets (seed 0) on the shared 2-core development machine, 2026-11-26:
xor 3.6 s, universal-approximation 4.6 s, mlp-mnist 3.7 s, mlp-regression 2.5 s, optimizers 6.6 s,
learning-rate 1.1 s, vanishing-gradient 0.3 s, classification-losses 2.2 s. The floors also
held for seeds 1-3.
"""

from __future__ import annotations

import json

import pytest

from deepcourse.core.registry import all_experiments, run_experiment

EXPERIMENTS = ["xor", "universal-approximation", "mlp-mnist", "mlp-regression", "optimizers", "learning-rate",
               "vanishing-gradient", "classification-losses"]


def test_all_module_experiments_registered():
    names = {e.name for e in all_experiments("0.1")}
    assert set(EXPERIMENTS) <= names


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_quick_experiment_meets_floor(name, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    summary = run_experiment(name, preset="quick", out=tmp_path, progress=False)
    assert summary["status"] == "passed", (summary["status"], summary.get("reason"),
                                            (tmp_path / "error.txt").read_text() if (tmp_path / "error.txt").exists()
                                            else "")
    assert summary["figures"], "every experiment saves at least one figure"
    for fig in summary["figures"]:
        assert (tmp_path / fig).stat().st_size > 1000
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["metrics"] == summary["metrics"]


def test_mlp_mnist_resume_from_checkpoint(tmp_path, monkeypatch):
    """A finished run resumed from its checkpoint reports the same model (restored best weights)."""
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    first = run_experiment("mlp-mnist", preset="quick", out=tmp_path, overrides=["epochs=3"], progress=False)
    assert (tmp_path / "checkpoint.pt").exists()
    again = run_experiment("mlp-mnist", preset="quick", out=tmp_path, overrides=["epochs=3"], resume=True,
                           progress=False)
    assert again["status"] == first["status"]
    assert again["metrics"] == first["metrics"]
