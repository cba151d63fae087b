"""The graph-classification driver: protocol splits, and the experiment's table layout (published rows beside
ours) with the WL kernel and a one-epoch GIN."""

from __future__ import annotations

import numpy as np
import pytest

from deepcourse.gnn.graph_classification import protocol_splits, wl_models


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
    assert "WL on all graphs, 2 of 2 splits/folds" in tables[0]["title"]  # the cuts are named
    assert "neural models on MUTAG: 2 of 2 splits/folds" in tables[0]["title"]
    first = tables[0]["rows"]
    assert first[0]["method"] == "WL kernel (published)" and first[0]["MUTAG"] == "84.50"
    assert first[-2]["method"] == "WL subtree + SVM (ours)" and "±" in first[-2]["MUTAG"]
    assert first[-1]["method"] == "GIN-0 (ours)"
    assert 60 < summary["metrics"]["cv_wl_mutag"] <= 100


def test_wl_models_are_cached_per_graph_list():
    pytest.importorskip("torch_geometric")
    import torch
    from torch_geometric.data import Data

    e = torch.tensor([[0, 1], [1, 0]])
    graphs = [Data(x=torch.eye(2), edge_index=e, num_nodes=2) for _ in range(3)]
    cache: dict = {}
    first = wl_models(graphs, 2, cache)
    assert sorted(first) == [0, 1, 2] and wl_models(graphs, 2, cache) is first
    np.testing.assert_allclose(np.diag(first[2].kernel), 1.0)  # normalised
    other = list(graphs)
    assert wl_models(other, 2, cache) is not first and len(cache) == 1  # one data set kept at a time
