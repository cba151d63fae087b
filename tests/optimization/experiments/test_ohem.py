"""The ohem experiment at a tiny size: both arms run from the same start, the table, and the ablation
(candidates = keep makes OHEM uniform sampling, so the gains are exactly 0)."""

from __future__ import annotations

import torch

from deepcourse.data import load_splits
from deepcourse.optimization.experiments.ohem import thin_classes

TINY = ("subset=400", "test_subset=200", "width=16", "steps_epochs=1", "seeds=1")


def test_table_and_metrics(run_tiny, data_root):
    summary, tables, _ = run_tiny("ohem", *TINY, data_root=data_root)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    m = summary["metrics"]
    assert [r["sampling"] for r in tables[0]["rows"]] == ["uniform", "ohem"]
    assert m["rare_gain"] == m["rare_acc_ohem"] - m["rare_acc_uniform"]
    assert abs(m["rare_share_uniform"] - m["train_rare_prevalence"]) < 1e-9  # uniform backpropagates everything
    assert summary["figures"] == ["figures/rare_class_recall.png"]


def test_candidates_equal_to_keep_is_uniform_sampling(run_tiny, data_root):
    summary, _, _ = run_tiny("ohem", *TINY, "candidates=32", data_root=data_root)
    m = summary["metrics"]
    assert m["rare_gain"] == 0.0 and m["rare_share_ratio"] == 1.0 and m["acc_ohem"] == m["acc_uniform"]


def test_thin_classes_keeps_a_fixed_share_of_the_rare_classes(data_root):
    s = load_splits("fashion-mnist", None, subset=1000, root=data_root)
    t = thin_classes(s, (2, 4), 0.1)
    before, after = torch.bincount(s.y_train, minlength=10), torch.bincount(t.y_train, minlength=10)
    assert after[2] == round(0.1 * int(before[2])) and after[4] == round(0.1 * int(before[4]))
    assert torch.equal(after[[0, 1, 3, 5, 6, 7, 8, 9]], before[[0, 1, 3, 5, 6, 7, 8, 9]])
    assert torch.equal(t.y_test, s.y_test) and torch.equal(t.y_val, s.y_val)
    assert torch.equal(thin_classes(s, (2, 4), 0.1).x_train, t.x_train)  # a fixed choice
