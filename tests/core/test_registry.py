from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from deepcourse.core import ConfigError, experiment, get, run_experiment
from deepcourse.core.registry import Bound, module_key


from ._toy import ToyConfig  # noqa: F401  registers test-toy


def test_quick_run_passes_and_writes_everything(tmp_path):
    s = run_experiment("test-toy", out=tmp_path, device="cpu")
    assert s["status"] == "passed" and s["metrics"] == {"acc": 0.9, "err": pytest.approx(0.1)}
    for f in ("config.json", "metrics.jsonl", "summary.json", "figures/line.png"):
        assert (tmp_path / f).exists(), f
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["paper"]["values"] == {"acc": 0.95}
    assert saved["floor"]["err"] == {"op": "<=", "value": 0.5}
    assert saved["versions"]["torch"] and saved["hardware"]["device"] == "cpu"
    assert "wall_time_s" in saved and saved["figures"] == ["figures/line.png"]
    assert list((tmp_path / "tb").iterdir())  # TensorBoard events


def test_floor_miss_error_skip_and_full(tmp_path):
    assert run_experiment("test-toy", out=tmp_path / "a", overrides={"value": "0.7"})["status"] == "failed"
    err = run_experiment("test-toy", out=tmp_path / "b", overrides={"fail": "true"})
    assert err["status"] == "error" and "RuntimeError: boom" in err["reason"]
    assert "boom" in (tmp_path / "b" / "error.txt").read_text()
    skip = run_experiment("test-toy", out=tmp_path / "c", overrides={"missing": "1"})
    assert skip["status"] == "skipped" and "mnist" in skip["reason"]
    full = run_experiment("test-toy", "full", out=tmp_path / "d")
    assert full["status"] == "done" and full["metrics"]["acc"] == 0.99
    with pytest.raises(RuntimeError):
        run_experiment("test-toy", out=tmp_path / "e", overrides={"fail": "true"}, raise_errors=True)


def test_bad_input_is_reported_clearly(tmp_path):
    with pytest.raises(ConfigError, match="value must be >= 0"):
        run_experiment("test-toy", out=tmp_path, overrides={"value": "-1"})
    with pytest.raises(KeyError, match="unknown experiment 'test-toys'; did you mean test-toy"):
        get("test-toys")
    with pytest.raises(ConfigError, match="--record stores full runs only"):
        run_experiment("test-toy", out=tmp_path / "r", record=True)


def test_record_writes_results(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "src" / "deepcourse").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    run_experiment("test-toy", "full", out=tmp_path / "run", record=True)
    rec = json.loads((tmp_path / "results" / "test-toy.json").read_text())
    assert rec["metrics"]["acc"] == 0.99 and rec["preset"] == "full" and rec["run_dir"].endswith("run")


def test_registration_errors_and_helpers():
    with pytest.raises(TypeError, match="must be a dataclass config instance"):
        experiment(name="x", module=1, title="x", quick=ToyConfig, full=ToyConfig(), floor={"a": 1})
    with pytest.raises(ConfigError):
        experiment(name="x", module=1, title="x", quick=ToyConfig(value=-1), full=ToyConfig(), floor={"a": 1})
    assert Bound(">=", 1).holds(1.0) and not Bound("<=", 1).holds(float("nan"))
    assert sorted(["10", "2", "0.1", "1.1"], key=module_key) == ["0.1", "1.1", "2", "10"]


def test_every_experiments_module_imports():
    from deepcourse.core.registry import DISCOVERY_ERRORS, all_experiments

    all_experiments()
    assert not DISCOVERY_ERRORS, DISCOVERY_ERRORS
