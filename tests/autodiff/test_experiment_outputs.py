"""The autodiff experiments' tables and files on tiny overrides (tests/test_experiments.py checks the floors)."""
from __future__ import annotations

import json

from deepcourse.core.registry import run_experiment


def test_notes_example_writes_stages_and_a_table_of_modes(tmp_path):
    summary = run_experiment("ad-notes-example", out=tmp_path, progress=False)
    assert summary["metrics"]["stages_match_notes"] == 1.0
    assert "4. reverse mode" in (tmp_path / "stages.txt").read_text()
    (table,) = json.loads((tmp_path / "table.json").read_text())
    assert [r["mode"] for r in table["rows"]][-1] == "closed form" and len(table["rows"]) == 5


def test_optimizers_option_is_a_tuple_and_fills_the_table(tmp_path):
    summary = run_experiment("optimizers-from-scratch", out=tmp_path, progress=False,
                             overrides=["optimizers=gd,adam", "steps=3", "n=100", "hidden=8"])
    assert summary["config"]["optimizers"] == ["gd", "adam"]
    (table,) = json.loads((tmp_path / "table.json").read_text())
    assert [r["optimizer"] for r in table["rows"]] == ["gd", "adam"]
    assert set(summary["metrics"]) >= {"gd_final_loss", "adam_final_loss", "worst_loss_ratio"}


def test_capacity_table_has_one_row_per_load(tmp_path):
    run_experiment("hopfield-capacity", out=tmp_path, progress=False, overrides=["n=40", "loads=4", "trials=1"])
    (table,) = json.loads((tmp_path / "table.json").read_text())
    assert [r["patterns"] for r in table["rows"]] == [3, 6, 9, 12]
