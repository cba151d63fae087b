from __future__ import annotations

import pytest


def test_reproduces_the_notes_and_is_asymmetric(run_tiny):
    summary, _, out = run_tiny("kl-example", raise_errors=True)
    assert summary["status"] == "passed", summary["reason"]
    m = summary["metrics"]
    assert round(m["kl_pq"], 3) == 0.085 and m["kl_qp"] == pytest.approx(0.0975, abs=1e-4)
    assert m["asymmetry"] > 0.01
    assert (out / "figures" / "distributions.png").exists()


def test_other_distributions_report_no_notes_error(run_tiny):
    summary, _, _ = run_tiny("kl-example", "n=4", "p=0.5", raise_errors=True)
    m = summary["metrics"]
    assert m["abs_err_pq"] == 0.0 and m["cross_entropy_identity_err"] < 1e-12 and m["kl_pq"] > 0
