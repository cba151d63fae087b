"""The quantization experiment at a tiny size: one table row per model and variant, int8 copies smaller and
nearly as accurate, a figure."""

from __future__ import annotations

import json

from deepcourse.core.registry import run_experiment

TINY = {"subset": 300, "test_subset": 200, "mlp_hidden": (64,), "cnn_widths": (4, 8), "cnn_hidden": 16, "epochs": 1,
        "latency_repeats": 2, "calib_batches": 2, "latency_batch": 16}


def test_quantization_table_and_figure(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    s = run_experiment("quantization", "quick", out=tmp_path, overrides=TINY, data_root=data_root, progress=False)
    assert s["status"] in ("passed", "failed"), s.get("reason")
    m = s["metrics"]
    for kind in ("mlp", "cnn"):
        assert m[f"{kind}_size_ratio_static"] > 1.5  # tiny models: scales and zero points weigh in
        assert m[f"{kind}_acc_drop_static"] < 0.1
        assert m[f"{kind}_latency_ms_static"] > 0
    rows = json.loads((tmp_path / "table.json").read_text())[0]["rows"]
    assert [(r["model"], r["variant"]) for r in rows] == [(k, v) for k in ("mlp", "cnn")
                                                          for v in ("fp32", "dynamic", "static", "qat", "bf16")]
    assert s["figures"] == ["figures/quantization.png"]
