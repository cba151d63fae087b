"""The hpo experiment at a tiny size: its studies live in the run folder, a --resume run continues them
(the budget already met: no new trials), a fresh run starts over, and the table records the storage
relative to the run folder."""

from __future__ import annotations

import sqlite3

import pytest

from deepcourse.core.registry import run_experiment

pytest.importorskip("optuna")

TINY = {"samplers": ("random", "tpe"), "trials": 3, "epochs": 1, "toy_seeds": 2, "subset": 200, "test_subset": 200}


def _trials(db):
    with sqlite3.connect(db) as con:
        n = con.execute("SELECT count(*) FROM trials").fetchone()[0]
        names = {r[0] for r in con.execute("SELECT study_name FROM studies")}
        first = con.execute("SELECT min(datetime_start) FROM trials").fetchone()[0]
    return n, names, first


def test_hpo_resumes_from_its_sqlite_file(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    s = run_experiment("hpo", "quick", out=tmp_path, overrides=TINY, data_root=data_root, progress=False)
    assert s["status"] in ("passed", "failed"), s.get("reason")
    n, names, first = _trials(tmp_path / "study.db")
    assert names == {"random-seed0-0", "tpe-seed0-0"} and n >= 6
    table = (tmp_path / "table.md").read_text()
    assert "storage study.db " in table and str(tmp_path) not in table  # no machine path in the record
    assert "| random |" in table and "| grid |" in table  # the sampler table and the toy's
    again = run_experiment("hpo", "quick", out=tmp_path, overrides=TINY, data_root=data_root, resume=True,
                           progress=False)
    assert _trials(tmp_path / "study.db")[0] == n  # the budget was met: no new trials
    assert again["metrics"]["tpe_best_val"] == s["metrics"]["tpe_best_val"]
    run_experiment("hpo", "quick", out=tmp_path, overrides=TINY, data_root=data_root, progress=False)
    assert _trials(tmp_path / "study.db")[2] > first  # without --resume the studies start over
    assert s["figures"] == ["figures/best_so_far.png", "figures/grid_vs_random.png"]
