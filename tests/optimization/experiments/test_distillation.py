"""The distillation experiment at a tiny size: every kind of student runs (labels, KD, function matching,
FitNets hints, deep mutual learning) and appears in the table, with the same initialisation per seed."""

from __future__ import annotations

from deepcourse.optimization.distillation import STUDENT_METHODS

TINY = ("teacher_epochs=1", "epochs=1", "fm_epochs=1", "hint_epochs=1", "student_seeds=1", "subset=300",
        "student_subset=60", "test_subset=200", "teacher_width=32", "student_width=8")


def test_every_student_kind_runs_and_is_tabled(run_tiny, data_root):
    summary, tables, out = run_tiny("distillation", *TINY, "students=" + ",".join(STUDENT_METHODS), data_root=data_root)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    rows = tables[0]["rows"]
    assert [r["network"] for r in rows] == ["teacher"] + [f"student ({m})" for m in STUDENT_METHODS]
    m = summary["metrics"]
    for k in ("acc_teacher", "acc_student_hint", "acc_student_online", "acc_online_peer"):
        assert 0.0 <= m[k] <= 1.0
    assert m["hint_minus_labels"] == m["acc_student_hint"] - m["acc_student_labels"]
    assert summary["figures"] == ["figures/student_accuracy.png"]


def test_zero_kd_weight_is_label_training(run_tiny, data_root):
    """kd_alpha = 0 leaves only the cross-entropy term: with the same initialisation and batch order the KD
    student is the labels-only student, so kd_minus_labels is exactly 0 (and the quick floor fails)."""
    summary, _, _ = run_tiny("distillation", *TINY, "students=labels,kd", "kd_alpha=0", data_root=data_root)
    assert summary["metrics"]["kd_minus_labels"] == 0.0
