from __future__ import annotations


def test_without_noise_the_input_floor_fails(run_tiny):
    # no salt-and-pepper: the "noisy" inputs are clean, so the floor on the input accuracy must fail
    summary, _, _ = run_tiny("hopfield-denoise", "sp_density=0", "trials=2", raise_errors=True)
    assert summary["status"] == "failed" and "acc_before_salt_and_pepper" in summary["reason"]


def test_correlated_digit_bitmaps_run(run_tiny):
    summary, _, out = run_tiny("hopfield-denoise", "patterns=digits", "trials=2", raise_errors=True)
    m = summary["metrics"]
    assert 0.0 <= m["acc_after_gaussian"] <= 1.0 and m["max_pattern_overlap"] > 0.25  # digits overlap more
    assert (out / "figures" / "restoration.png").exists()
