"""The mixup experiments at a tiny size: their tables, and that alpha -> 0 makes the two arms identical."""

from __future__ import annotations

import pytest

from deepcourse.core import ConfigError


def test_mixup_uci_table_lists_each_table_with_the_paper_numbers(run_tiny, data_root):
    summary, tables, _ = run_tiny("mixup-uci", "datasets=htru2,iris,wine", "subset=200", "epochs=1", "seeds=1",
                                  data_root=data_root)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    rows = {r["table"]: r for r in tables[0]["rows"]}
    assert set(rows) == {"htru2", "iris", "wine"}
    assert rows["htru2"]["train rows"] == 180 and rows["iris"]["train rows"] == 108  # subset, val 10 %
    assert rows["iris"]["paper ERM / mixup %"] == "21.3 / 17.3" and rows["wine"]["paper ERM / mixup %"] == "— / —"
    m = summary["metrics"]
    assert m["mixup_minus_erm"] == pytest.approx(m["mean_err_mixup"] - m["mean_err_erm"])


def test_mixup_uci_rejects_an_unknown_table(run_tiny):
    with pytest.raises(ConfigError, match="arcene"):
        run_tiny("mixup-uci", "datasets=iris,arcene")


def test_mixup_cifar10_reports_error_nll_and_confidence(run_tiny, data_root):
    summary, tables, _ = run_tiny("mixup-cifar10", "subset=200", "test_subset=100", "epochs=1", "width=16",
                                  data_root=data_root)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    assert [r["training"] for r in tables[0]["rows"]] == ["erm", "mixup"]
    m = summary["metrics"]
    assert m["nll_gain"] == pytest.approx(m["nll_erm"] - m["nll_mixup"])
    assert m["confidence_drop"] == pytest.approx(m["confidence_erm"] - m["confidence_mixup"])
    assert 0 < m["confidence_mixup"] <= 1 and summary["figures"] == ["figures/val_accuracy.png"]
