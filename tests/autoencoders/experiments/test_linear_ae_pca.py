from __future__ import annotations


def test_too_few_steps_fail_the_angle_floor(run_tiny, data_root):
    # 5 Adam steps: the decoder has not reached the principal subspace yet
    summary, _, out = run_tiny("linear-ae-pca", "steps=5", "subset=500", data_root=data_root, raise_errors=True)
    assert summary["status"] == "failed" and "max_angle_deg" in summary["reason"]
    assert (out / "figures" / "bases.png").exists()
