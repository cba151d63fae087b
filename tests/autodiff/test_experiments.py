"""Every quick autodiff experiment runs through the registry and meets its floor."""
from __future__ import annotations

import pytest

from deepcourse.core.registry import run_experiment

QUICK = ["ad-notes-example", "ad-modes", "delta-rule", "backprop-xor", "backprop-digits", "optimizers-from-scratch",
         "hopfield-restore", "hopfield-capacity"]


@pytest.mark.parametrize("name", QUICK)
def test_quick_experiment_passes(name, tmp_path):
    summary = run_experiment(name, preset="quick", out=tmp_path)
    assert summary["status"] == "passed", (summary.get("reason"), summary["metrics"])
