from __future__ import annotations

from pathlib import Path


def test_xor_saves_boundaries_and_curves(run_tiny):
    summary, _, out = run_tiny("xor", "steps=20")
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    assert sorted(Path(f).stem for f in summary["figures"]) == ["decision_boundary_mlp", "decision_boundary_single",
                                                               "loss_curves"]
    assert all((out / f).stat().st_size > 1000 for f in summary["figures"])
    assert summary["metrics"]["acc_single"] <= 0.75  # no single unit separates XOR, trained or not
