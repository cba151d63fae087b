"""The SGD / SGDR / SWA comparison at a tiny size: the table, the averaged models and the schedules."""

from __future__ import annotations


def test_swa_table_and_members(run_tiny, data_root):
    summary, tables, _ = run_tiny("swa-sgdr", "subset=256", "test_subset=200", "epochs=4", "t0=1", "width=16",
                                  "swa_start=0.5", data_root=data_root)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    m = summary["metrics"]
    assert m["swa_models_averaged"] == 2  # the last 2 of 4 epochs, averaged once per epoch
    assert len(tables[0]["rows"]) == 6
    assert m["swa_minus_members"] == m["acc_swa"] - m["acc_swa_members"]
    assert summary["figures"] == ["figures/learning_rates.png"]
