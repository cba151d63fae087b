"""The SVD rank sweep at a tiny size: one table row per factorised rank, costs falling with the rank."""

from __future__ import annotations


def test_rank_sweep_table_and_figures(run_tiny, data_root):
    summary, tables, _ = run_tiny("svd-compression", "subset=300", "test_subset=200", "epochs=1", "hidden=64",
                                  "ranks=4,8,16,64", "latency_batch=32", data_root=data_root)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    rows = tables[0]["rows"]
    assert [r["rank"] for r in rows] == ["dense", 4, 8, 16]  # rank 64 saves nothing on 64-wide layers: dropped
    assert rows[1]["params"] < rows[2]["params"] < rows[3]["params"] < rows[0]["params"]
    assert summary["metrics"]["params_dense"] == rows[0]["params"]
    assert sorted(summary["figures"]) == ["figures/accuracy_vs_rank.png", "figures/cost_vs_rank.png"]
