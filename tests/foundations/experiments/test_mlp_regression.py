from __future__ import annotations

import torch

from deepcourse.foundations.experiments.mlp_regression import RegressionConfig, outlier_data, true_f


def test_outliers_are_one_sided_and_seeded():
    cfg = RegressionConfig(n=2000, outlier_frac=0.2, outlier_shift=5.0, noise=0.1)
    x, y, bad = outlier_data(cfg, seed=3)
    assert x.shape == y.shape == (2000, 1) and bad.shape == (2000,)
    assert abs(bad.float().mean().item() - 0.2) < 0.03
    resid = (y - true_f(x))[:, 0]
    assert resid[bad].min() >= 5.0 and resid[~bad].abs().max() < 1.0  # outliers only above f
    x2, y2, _ = outlier_data(cfg, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)


def test_table_has_one_row_per_loss(run_tiny):
    summary, tables, _ = run_tiny("mlp-regression", "steps=5", "n=50")
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    assert [r["loss"] for r in tables[0]["rows"]] == ["l2", "l1", "huber"]
