"""The pruning-and-clustering experiment at a tiny size: the sweeps fill their tables, the pruned models
keep the requested sparsity, the shrunk network computes what the masked one does."""

from __future__ import annotations

import json

import pytest

from deepcourse.core.registry import run_experiment

TINY = {"subset": 300, "test_subset": 200, "hidden": (32, 16), "cnn_widths": (4, 8), "epochs": 1,
        "gradual_epochs": 2, "sparsities": (0.8, 0.9), "bits": (2, 4), "speed_width": 64, "latency_repeats": 2,
        "latency_batch": 16}


def test_pruning_and_clustering_tables(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    s = run_experiment("pruning-and-clustering", "quick", out=tmp_path, overrides=TINY, data_root=data_root,
                       progress=False)
    assert s["status"] in ("passed", "failed"), s.get("reason")
    m = s["metrics"]
    assert m["structured_same_function"] == 1.0
    assert m["mlp_measured_sparsity_0.9"] == pytest.approx(0.9, abs=0.01)  # the masks held through fine-tuning
    assert m["gradual_sparsity"] == pytest.approx(0.8, abs=0.01)
    assert m["cluster_ratio_4bit"] > 6 and m["csr_speedup_0.9"] > 0
    assert m["mlp_params_ratio_channels_0.5"] > 1.5
    tables = json.loads((tmp_path / "table.json").read_text())
    assert len(tables) == 3  # pruning, clustering, CSR speed
    methods = [(r["model"], r["method"]) for r in tables[0]["rows"]]
    assert methods.count(("cnn", "unstructured")) == 2 and ("mlp", "gradual") in methods
    assert [r["bits"] for r in tables[1]["rows"]] == [2, 4]
