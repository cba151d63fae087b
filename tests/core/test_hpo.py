"""deepcourse.core.hpo: search spaces from dataclass configs, a study resumed after its process is SIGKILLed,
two worker processes sharing one SQLite study, storage recorded relative to the run folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from deepcourse.core import param  # noqa: E402
from deepcourse.core.hpo import (Choice, FloatRange, IntRange, best_so_far, fail_dead_trials,  # noqa: E402
                                 finished_trials, grid_points, make_sampler, open_study, optimize, run_workers,
                                 space_from_config, sqlite_url, storage_label, suggest_config, worker_command,
                                 worker_env)

from ._hpo_objective import toy_objective_factory  # noqa: E402

TOY = "tests.core._hpo_objective:toy_objective_factory"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _workers_import_tests(monkeypatch):
    """Worker processes import the toy objective from this tests package."""
    old = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(REPO) + (os.pathsep + old if old else ""))


@dataclass
class Cfg:
    lr: float = param(1e-3, gt=0, le=1.0)
    width: int = param(32, ge=8, le=256)
    act: str = param("relu", choices=("relu", "tanh"))
    wd: float = param(0.0, ge=0.0, le=0.1)
    epochs: int = param(3, ge=1)


def test_space_from_config():
    space = space_from_config(Cfg, {"lr": FloatRange(1e-4, 1e-1, log=True), "width": "log", "act": None, "wd": None})
    assert space["width"] == IntRange(8, 256, log=True)
    assert space["act"] == Choice(("relu", "tanh"))
    assert space["wd"] == FloatRange(0.0, 0.1)
    with pytest.raises(ValueError, match="not a field"):
        space_from_config(Cfg, {"momentum": None})
    with pytest.raises(ValueError, match="breaks its bound"):
        space_from_config(Cfg, {"lr": FloatRange(1e-3, 2.0)})
    with pytest.raises(ValueError, match="no two bounds"):
        space_from_config(Cfg, {"epochs": None})
    with pytest.raises(TypeError, match="not int"):
        space_from_config(Cfg, {"lr": IntRange(1, 2)})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    cfg = suggest_config(study.ask(), Cfg(), space)
    assert isinstance(cfg, Cfg) and 8 <= cfg.width <= 256 and cfg.epochs == 3
    grid = grid_points(space, 3)
    assert grid["width"] == [8, 45, 256] and grid["act"] == ["relu", "tanh"]
    assert max(grid["lr"]) <= 1e-1 and min(grid["lr"]) >= 1e-4


def test_samplers_and_best_so_far():
    space = {"x": FloatRange(0, 1)}
    for name in ("grid", "random", "tpe", "gp"):
        make_sampler(name, seed=0, space=space)
    with pytest.raises(ValueError, match="sampler"):
        make_sampler("cma")
    assert best_so_far([0.1, float("nan"), 0.3, 0.2]) == [0.1, 0.1, 0.3, 0.3]


def _finished(db) -> int:
    """Finished trials, read with sqlite3 so that polling never races the worker creating the tables."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute("SELECT count(*) FROM trials WHERE state IN ('COMPLETE', 'PRUNED')").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_resume_after_sigkill(tmp_path):
    url = sqlite_url(tmp_path / "study.db")
    kw = '{"sleep": 1.0}'  # long trials: the kill lands well after the trial's first heartbeat
    cmd = worker_command(url, "s", TOY, 50, sampler="random", seed=0, heartbeat=1)
    cmd[cmd.index("--kwargs") + 1] = kw
    proc = subprocess.Popen(cmd, env=worker_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while _finished(tmp_path / "study.db") < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(0.5)  # land in the middle of a trial, after its first heartbeat was written
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = {t.number: t.value for t in finished_trials(optuna.load_study(study_name="s", storage=url))}
    assert 3 <= len(before) < 50
    time.sleep(3.0)  # the killed trial's heartbeat (1 s) goes stale after the 2 s grace period
    study = open_study("s", url, heartbeat=1)
    study.sampler = make_sampler("random", seed=1 + len(study.trials))
    objective, _ = toy_objective_factory()
    ran = optimize(study, objective, len(before) + 4)
    done = finished_trials(study)
    assert len(done) == len(before) + 4 and ran == 4
    assert {t.number: t.value for t in done if t.number in before} == before  # earlier results kept
    states = [t.state for t in study.trials]
    assert optuna.trial.TrialState.RUNNING not in states  # the killed trial was failed, not left hanging
    new = [t.number for t in done if t.number not in before]
    assert min(new) > max(before)  # numbering continues
    assert len({tuple(t.params.values()) for t in done}) == len(done)  # the resumed sampler does not replay


def test_two_workers_share_a_study(tmp_path):
    url = sqlite_url(tmp_path / "shared.db")
    codes = run_workers(2, url, "shared", TOY, 8, sampler="tpe", seed=0, kwargs={"sleep": 0.15}, timeout=120)
    assert codes == [0, 0]
    study = optuna.load_study(study_name="shared", storage=url)
    done = finished_trials(study)
    assert 8 <= len(done) <= 9  # each worker stops once the study holds 8; one may finish a last trial
    assert len({t.user_attrs["pid"] for t in done}) == 2  # both processes contributed
    assert sorted(t.number for t in study.trials) == list(range(len(study.trials)))


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_trials_killed_before_their_first_heartbeat_are_failed(tmp_path):
    """A kill can land after a trial is created and before its heartbeat is written: Optuna's stale check
    cannot see such a trial, so ownership (host:pid) and age decide."""
    url = sqlite_url(tmp_path / "early.db")
    study = open_study("early", url, heartbeat=60)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid now names no process
    t_dead = study.ask()
    t_dead.set_user_attr("owner", f"{socket.gethostname()}:{dead.pid}")
    t_live = study.ask()
    t_live.set_user_attr("owner", f"{socket.gethostname()}:{os.getpid()}")
    t_other = study.ask()
    t_other.set_user_attr("owner", f"another-host:{dead.pid}")  # left to the heartbeat check
    t_orphan = study.ask()  # no owner yet: failed only once it is old
    assert fail_dead_trials(study, orphan_after_s=3600) == [t_dead.number]
    assert fail_dead_trials(study, orphan_after_s=0) == [t_orphan.number]
    states = {t.number: t.state.name for t in study.get_trials()}
    assert states == {t_dead.number: "FAIL", t_live.number: "RUNNING", t_other.number: "RUNNING",
                      t_orphan.number: "FAIL"}
    # optimize() tags its own trials, so they are never taken for orphans
    objective, _ = toy_objective_factory()
    optimize(study, objective, 2)
    assert all("owner" in t.user_attrs for t in finished_trials(study))


def test_storage_is_recorded_relative_to_the_run_folder(tmp_path):
    url = sqlite_url(tmp_path / "run" / "study.db")
    assert url.startswith("sqlite:////")  # absolute, so that workers started elsewhere find the file
    assert storage_label(url, tmp_path / "run") == "study.db"
    assert storage_label(url, tmp_path) == "run/study.db"
    assert storage_label(url, tmp_path / "elsewhere") == url
