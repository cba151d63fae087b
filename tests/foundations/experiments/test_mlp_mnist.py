from __future__ import annotations


def test_resume_reports_the_same_model(run_tiny, data_root):
    """A finished run resumed from its checkpoint reports the same (restored best) model."""
    tiny = ("subset=300", "hidden=16", "epochs=2")
    first, _, out = run_tiny("mlp-mnist", *tiny, data_root=data_root)
    assert first["status"] in ("passed", "failed"), first.get("reason")
    assert list((out / "checkpoints").glob("*.pt"))
    again, _, _ = run_tiny("mlp-mnist", *tiny, data_root=data_root, resume=True)
    assert again["metrics"] == first["metrics"]


def test_missing_mnist_skips_with_reason(run_tiny, tmp_path):
    summary, _, _ = run_tiny("mlp-mnist", "subset=300", "epochs=1", data_root=tmp_path / "nowhere")
    assert summary["status"] == "skipped" and "mnist" in summary["reason"].lower()
