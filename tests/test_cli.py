"""The `deepcourse` command: list, run, bad overrides, missing data, resume, report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepcourse.cli import main

from .core import _toy  # noqa: F401  registers test-toy in this process


def cli(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "deepcourse", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def test_list_and_markdown(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "test-toy" in out and "acc >= 0.8" in out
    assert main(["list", "--markdown", "--module", "0.1"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("| module | experiment |") and "`test-toy`" in md


def test_run_prints_table_and_exit_codes(tmp_path, capsys):
    assert main(["run", "test-toy", "--out", str(tmp_path / "a"), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "0.95" in out
    assert main(["run", "test-toy", "--out", str(tmp_path / "b"), "value=0.1"]) == 1
    assert main(["run", "test-toy", "--out", str(tmp_path / "c"), "missing=true"]) == 0  # skipped is not a failure
    assert "SKIPPED" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["value=-1"], "value must be >= 0 (got -1.0)"),
    (["colour=red"], "unknown config key 'colour'; allowed keys: fail, missing, value"),
    (["value=abc"], "value must be a number (got 'abc')"),
    (["oops"], "overrides look like key=value"),
])
def test_bad_override_exits_2_with_one_line(tmp_path, capsys, args, message):
    assert main(["run", "test-toy", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_unknown_experiment_and_record_quick(tmp_path, capsys):
    assert main(["run", "no-such-thing"]) == 2
    assert "unknown experiment" in capsys.readouterr().err
    assert main(["run", "test-toy", "--record", "--out", str(tmp_path)]) == 2
    assert "--record stores full runs only" in capsys.readouterr().err


def test_show_config(capsys):
    assert main(["run", "test-toy", "--show-config", "value=0.3"]) == 0
    out = capsys.readouterr().out
    assert "value" in out and "0.3" in out and ">= 0" in out


def test_report_html_and_markdown(tmp_path, capsys):
    main(["run", "test-toy", "--out", str(tmp_path / "runs" / "a")])
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert "<table" in html and "test-toy" in html and "data:image/png;base64," in html
    capsys.readouterr()
    assert main(["report", str(tmp_path / "runs"), "--markdown"]) == 0
    assert "test-toy" in capsys.readouterr().out


def test_real_cli_missing_data_is_skipped_with_reason(tmp_path):
    r = cli("run", "mlp-mnist", "--full", "--out", str(tmp_path / "run"), "--data-dir", str(tmp_path / "empty"),
            env={"DEEPCOURSE_DATA": str(tmp_path / "empty")})
    assert r.returncode == 0, r.stderr
    assert "SKIPPED" in r.stdout and "mnist" in r.stdout
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert s["status"] == "skipped" and "deepcourse data download" in s["reason_full"]


def test_real_cli_resume_continues_a_finished_run(tmp_path):
    out = tmp_path / "run"
    r = cli("run", "mlp-mnist", "--out", str(out), "--device", "cpu")
    assert r.returncode == 0, r.stderr
    first = json.loads((out / "summary.json").read_text())
    r = cli("run", "mlp-mnist", "--out", str(out), "--device", "cpu", "--resume")
    assert r.returncode == 0, r.stderr
    again = json.loads((out / "summary.json").read_text())
    assert again["metrics"] == first["metrics"]  # nothing left to train: same model, same numbers
    r = cli("run", "mlp-mnist", "--out", str(out), "--resume", "epochs=3")
    assert r.returncode == 2 and "config or seed differs" in r.stderr


def test_tour_reports_skips_and_failures(tmp_path, capsys):
    report = tmp_path / "report.html"
    code = main(["tour", "--module", "99", "--out", str(tmp_path / "runs"), "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out  # a missing dataset is a skip, not a failure
    assert "test-toy-skip: skipped: dataset 'mnist' not found" in out
    assert "1 passed, 0 failed, 1 skipped" in out and report.exists()
    assert main(["tour", "--module", "98", "--out", str(tmp_path / "runs2"), "--report", str(report)]) == 1
    assert "acc = 0.5 (floor >= 0.8)" in capsys.readouterr().out
