from __future__ import annotations

from deepcourse.foundations.gradient_descent import OPTIMIZERS


def test_table_ranks_every_optimizer(run_tiny):
    summary, tables, _ = run_tiny("optimizers", "steps=3", "hidden=8")
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    rows = tables[0]["rows"]
    assert sorted(r["optimizer"] for r in rows) == sorted(OPTIMIZERS)
    losses = [r["final loss"] for r in rows]
    assert losses == sorted(losses)
