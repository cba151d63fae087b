from __future__ import annotations


def test_table_lists_every_width(run_tiny):
    summary, tables, _ = run_tiny("universal-approximation", "max_units=4", "points=20", "steps=10", "restarts=1")
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    assert [row["N"] for row in tables[0]["rows"]] == [1, 2, 4]
    m = summary["metrics"]
    assert m["max_err_at_max_units"] == m["max_err_4"] and -1 <= m["rank_corr"] <= 1
