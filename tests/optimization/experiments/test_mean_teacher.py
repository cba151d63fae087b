"""The Mean Teacher experiment at a tiny size: the notes' table (methods x numbers of labels)."""

from __future__ import annotations


def test_mean_teacher_writes_the_notes_table(run_tiny, data_root):
    summary, tables, out = run_tiny("mean-teacher", "steps=20", "labels=20,50", "subset=500", "test_subset=200",
                                    data_root=data_root)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    m = summary["metrics"]
    rows = {r["method"]: r for r in tables[0]["rows"]}
    assert list(rows) == ["Supervised-only", "Pi-model", "Mean Teacher", "Mean Teacher (student weights)"]
    assert rows["Mean Teacher"]["20 labels"] == f"{m['err_mean-teacher_20']:.2f} ± {m['err_mean-teacher_20_std']:.2f}"
    assert m["mt_gain_fewest"] == m["mt_gain_20"]
    assert summary["figures"] == ["figures/error_by_labels.png"]


def test_mean_teacher_trains_only_the_methods_asked_for(run_tiny, data_root):
    summary, tables, _ = run_tiny("mean-teacher", "steps=10", "labels=20", "subset=300", "test_subset=100",
                                  "methods=supervised,mean-teacher", "model=mt-convnet", "width=4",
                                  data_root=data_root)
    m = summary["metrics"]
    assert summary["status"] == "error" and "pi_gain_fewest" in summary["reason"]  # the quick floor judges Pi too
    assert [r["method"] for r in tables[0]["rows"]] == ["Supervised-only", "Mean Teacher",
                                                         "Mean Teacher (student weights)"]
    assert "err_pi_20" not in m and "pi_gain_fewest" not in m
    assert m["mt_gain_fewest"] == m["err_supervised_20"] - m["err_mean-teacher_20"]
