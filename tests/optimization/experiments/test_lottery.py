"""The lottery-ticket experiments at a tiny size: one table row per round, tickets and controls, a figure."""

from __future__ import annotations

import json

import pytest

from deepcourse.core.registry import run_experiment


@pytest.mark.parametrize("name, over", [
    ("lottery-ticket-mnist", {"iterations": 40, "eval_every": 20, "rounds": 2, "subset": 300, "test_subset": 200}),
    ("lottery-ticket-conv", {"iterations": 20, "eval_every": 10, "rounds": 1, "subset": 200, "test_subset": 100,
                             "width": 2, "fc_hidden": 8}),
])
def test_lottery_table_and_figure(tmp_path, data_root, monkeypatch, name, over):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    s = run_experiment(name, "quick", out=tmp_path, overrides=over, data_root=data_root, progress=False)
    assert s["status"] in ("passed", "failed"), s.get("reason")
    rows = json.loads((tmp_path / "table.json").read_text())[0]["rows"]
    assert len(rows) == over["rounds"] + 1 and rows[0]["weights remaining"] == "100.0%"
    assert rows[0]["control test acc"] == "-" and rows[1]["control test acc"] != "-"
    assert 0 < s["metrics"]["sparsest_remaining"] < 1
    assert s["figures"] == ["figures/lottery_ticket.png"]
