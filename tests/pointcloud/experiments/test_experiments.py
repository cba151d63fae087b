"""The module 7 experiments (src/deepcourse/pointcloud/experiments/): presets on their own data, table rows and the
completion renders, with tiny overrides. The quick floors are checked by the platform test."""

from __future__ import annotations

from deepcourse.core.registry import get

NAMES = ("pointnet-mnist", "pointnet-shapes", "pointnet-order-invariance", "pointnet-robustness", "pointnet-segmentation",
         "pointr-completion")


def test_registered_with_floors_and_paper_scale_full_presets():
    for name in NAMES:
        exp = get(name)
        assert exp.module == "7" and exp.floor
    assert get("pointnet-mnist").config("full").points == 512 and get("pointnet-mnist").config("full").subset is None
    assert get("pointr-completion").config("full").gt_points == 8192
    assert set(get("pointr-completion").config("quick").novel).isdisjoint(get("pointr-completion").config("quick").seen)


def test_order_invariance_table(run_tiny):
    s, tables, _ = run_tiny("pointnet-order-invariance", "per_class=3", "test_per_class=2", "points=16", "epochs=1",
                            "width=0.125", raise_errors=True)
    rows = tables[0]["rows"]
    assert [r["set function"] for r in rows] == ["MLP (unsorted input)", "MLP (sorted input)", "LSTM", "Attention sum",
                                                "Average pooling", "Max pooling"]
    assert rows[-1]["ModelNet40 % (paper)"] == 87.1
    m = s["metrics"]
    assert abs(m["max_minus_unsorted"] - (m["acc_max"] - m["acc_mlp-unsorted"])) < 1e-9 and 1 <= m["max_rank"] <= 6


def test_completion_rows_and_renders(run_tiny):
    s, tables, _ = run_tiny("pointr-completion", "per_class=2", "test_per_class=1", "gt_points=32", "in_points=16",
                            "proxies=4", "queries=4", "per_query=4", "dim=16", "epochs=1", "batch=4",
                            "models=pointr,foldingnet,pcn", "novel=mug", raise_errors=True)
    rows = tables[0]["rows"]
    assert [r["model"] for r in rows] == ["partial input (no model)", "PoinTr-style", "FoldingNet", "PCN-style"]
    assert {"CD-L1", "CD-L2", "F@0.01", "CD-L1 novel"} <= set(rows[0])
    m = s["metrics"]
    assert abs(m["pointr_gain"] - (1 - m["cd_l1_pointr"] / m["cd_l1_input"])) < 1e-9
    assert "figures/completions.png" in s["figures"]
