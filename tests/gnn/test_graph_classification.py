"""The graph-classification driver: protocol splits, and the experiment's table layout (published rows beside
ours) with the WL kernel and a one-epoch GIN."""

from __future__ import annotations

import numpy as np
import pytest

from deepcourse.gnn.graph_classification import protocol_splits


def test_protocol_splits():
    y = np.array([0] * 30 + [1] * 70)
    for tr, va, te in protocol_splits("split", y, 3, seed=0):
        assert (len(tr), len(va), len(te)) == (80, 10, 10)
        assert len(set(tr) | set(va) | set(te)) == 100
    folds = protocol_splits("cv", y, 10, seed=0)
    tests = np.concatenate([te for _, _, te in folds])
    assert sorted(tests.tolist()) == list(range(100))  # every graph is tested exactly once
    assert all(y[te].sum() == 7 for _, _, te in folds)  # stratified
    with pytest.raises(ValueError, match="protocol"):
        protocol_splits("loo", y, 3, seed=0)


def test_table_layout_with_wl_only(run_tiny, data_root):
    summary, tables, _ = run_tiny("gnn-graph-classification", "models=wl,gin", "protocols=split,cv", "repeats=2",
                                  "epochs=1", data_root=data_root)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")  # one epoch: only the layout matters
    assert len(tables) == 2
    assert "80/10/10 random splits (Kondor et al. Table I)" in tables[0]["title"]
    assert "10-fold cross-validation (Xu et al. Table 1)" in tables[1]["title"]
    assert "2 of 2 splits/folds" in tables[0]["title"]  # the cuts are named
    first = tables[0]["rows"]
    assert first[0]["method"] == "WL kernel (published)" and first[0]["MUTAG"] == "84.50"
    assert first[-2]["method"] == "WL subtree + SVM (ours)" and "±" in first[-2]["MUTAG"]
    assert first[-1]["method"] == "GIN-0 (ours)"
    assert 60 < summary["metrics"]["cv_wl_mutag"] <= 100
