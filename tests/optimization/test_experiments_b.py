"""Part-B experiments of module 9: the lottery-ticket quick preset meets its floor; the others run end to
end at a tiny size (their full quick presets are checked by ``deepcourse run NAME``); the HPO study resumes
from its SQLite file.

Quick presets, seeds 0-3, 2026-11-26, CPU seconds of the run (wall seconds on the shared 2-core machine at
load 5-13 in brackets): lottery-ticket-mnist about 4-8 (4-26), quantization 3.5-7 (11-16),
pruning-and-clustering 6-10 (27-42), hpo 7-11 (23-29). All four seeds pass every floor.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from deepcourse.core import ConfigError
from deepcourse.core.registry import get, run_experiment


@pytest.fixture(autouse=True)
def _no_tensorboard(monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")


def _ok(summary, out):
    err = out / "error.txt"
    assert summary["status"] in ("passed", "failed"), (summary["status"], summary.get("reason"),
                                                       err.read_text() if err.exists() else "")


def test_lottery_ticket_quick_meets_floor(tmp_path):
    s = run_experiment("lottery-ticket-mnist", "quick", out=tmp_path, progress=False)
    _ok(s, tmp_path)
    assert s["status"] == "passed", s["reason"]
    m = s["metrics"]
    assert m["mean_ticket_minus_control"] > 0 and 0.1 < m["remaining_near_20"] < 0.3
    assert "| 17.4% |" in (tmp_path / "table.md").read_text()
    assert s["figures"] == ["figures/lottery_ticket.png"]


def test_quantization_runs_small(tmp_path):
    over = {"mlp_hidden": (64,), "cnn_widths": (8, 16), "cnn_hidden": 32, "epochs": 2, "latency_repeats": 2,
            "calib_batches": 2, "latency_batch": 16}
    s = run_experiment("quantization", "quick", out=tmp_path, overrides=over, progress=False)
    _ok(s, tmp_path)
    m = s["metrics"]
    for kind in ("mlp", "cnn"):
        assert m[f"{kind}_size_ratio_static"] > 1.5  # tiny models: scales and zero points weigh in
        assert m[f"{kind}_acc_drop_static"] < 0.05
        assert m[f"{kind}_latency_ms_static"] > 0
    table = (tmp_path / "table.md").read_text()
    assert table.count("| cnn |") == 6 and "| mlp | static |" in table


def test_pruning_and_clustering_runs_small(tmp_path):
    over = {"hidden": (32, 32), "cnn_widths": (8, 8), "epochs": 2, "finetune_epochs": 1, "gradual_epochs": 2,
            "sparsities": (0.8, 0.9), "channel_fracs": (0.5,), "bits": (2, 4), "speed_width": 64, "latency_repeats": 2}
    s = run_experiment("pruning-and-clustering", "quick", out=tmp_path, overrides=over, progress=False)
    _ok(s, tmp_path)
    m = s["metrics"]
    assert m["structured_same_function"] == 1.0
    assert m["mlp_measured_sparsity_0.9"] == pytest.approx(0.9, abs=0.01)
    assert m["gradual_sparsity"] == pytest.approx(0.8, abs=0.01)
    assert m["cluster_ratio_4bit"] > 6 and m["csr_speedup_0.9"] > 0
    assert m["mlp_params_ratio_channels_0.5"] > 1.5


def test_lottery_conv_runs_small(tmp_path):
    over = {"iterations": 40, "rounds": 1, "eval_every": 20, "width": 4, "fc_hidden": 16}
    s = run_experiment("lottery-ticket-conv", "quick", out=tmp_path, overrides=over, progress=False)
    _ok(s, tmp_path)
    assert 0.5 < s["metrics"]["sparsest_remaining"] < 1.0


def test_hpo_small_and_resumes_from_sqlite(tmp_path):
    pytest.importorskip("optuna")
    over = {"samplers": ("random", "tpe"), "trials": 3, "epochs": 1, "toy_seeds": 2}
    s = run_experiment("hpo", "quick", out=tmp_path, overrides=over, progress=False)
    _ok(s, tmp_path)
    db = tmp_path / "study.db"
    with sqlite3.connect(db) as con:
        n = con.execute("SELECT count(*) FROM trials").fetchone()[0]
        names = {r[0] for r in con.execute("SELECT study_name FROM studies")}
    assert names == {"random-seed0", "tpe-seed0"} and n >= 6
    again = run_experiment("hpo", "quick", out=tmp_path, overrides=over, resume=True, progress=False)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM trials").fetchone()[0] == n  # budget already met: no new trials
    assert again["metrics"]["tpe_best_val"] == s["metrics"]["tpe_best_val"]
    assert json.loads((tmp_path / "summary.json").read_text())["status"] in ("passed", "failed")
    with sqlite3.connect(db) as con:  # a run without --resume starts fresh studies
        first = con.execute("SELECT min(datetime_start) FROM trials").fetchone()[0]
    run_experiment("hpo", "quick", out=tmp_path, overrides=over, progress=False)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT min(datetime_start) FROM trials").fetchone()[0] > first


def test_bad_overrides_rejected():
    with pytest.raises(ConfigError, match="reset"):
        get("lottery-ticket-mnist").config("quick", {"reset": "zero"})
    with pytest.raises(ConfigError, match="dataset"):
        get("quantization").config("quick", {"dataset": "imagenet"})
