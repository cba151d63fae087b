from __future__ import annotations


def test_table_and_divergence_flag(run_tiny):
    summary, tables, _ = run_tiny("learning-rate", "epochs=1", "lr_large=1000")
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    rows = {r["setting"]: r for r in tables[0]["rows"]}
    assert list(rows) == ["too small", "constant", "peak constant", "too large", "scheduled"]
    assert rows["too large"]["diverged"] and summary["metrics"]["too_large_diverged"] == 1.0
    assert abs(summary["metrics"]["loss_too_large"] - 2.302585) < 1e-5  # reported at a uniform guess, log 10
