from __future__ import annotations

from pathlib import Path


def test_short_net_logs_one_norm_per_layer(run_tiny):
    summary, _, _ = run_tiny("vanishing-gradient", "layers=3", "inits=1", "batch=16")
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    assert [Path(f).stem for f in summary["figures"]] == ["grad_norms"]
    m = summary["metrics"]
    assert m["ratio_sigmoid"] > 0 and m["ratio_relu"] > 0
