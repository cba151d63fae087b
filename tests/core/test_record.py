"""``--record``: results/NAME.json carries the run's table and copies of its showcase figures."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from deepcourse.core import param
from deepcourse.core.registry import Experiment, Reference, record_result
from deepcourse.viz.report import render_highlights, render_markdown


@dataclass
class _Cfg:
    n: int = param(1, ge=1)


def _exp(showcase=("curve",)):
    return Experiment(name="toy-record", module="99", title="Toy", fn=lambda c, r: {}, quick=_Cfg(), full=_Cfg(),
                      paper=Reference("", {}), floor={}, primary="acc", showcase=tuple(showcase))


def test_record_copies_table_and_showcase_figures(tmp_path):
    out = tmp_path / "runs" / "toy"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "curve.png").write_bytes(b"\x89PNG fake")
    (out / "figures" / "other.png").write_bytes(b"\x89PNG other")
    (out / "table.md").write_text("# Toy table\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    summary = {"experiment": "toy-record", "module": "99", "title": "Toy", "preset": "full", "primary": "acc",
               "metrics": {"acc": 0.5}, "overrides": {"n": 3}, "hardware": {"cpu": "X", "device": "cpu"},
               "git_commit": "abcdef123456", "wall_time_s": 61}
    path = record_result(_exp(), summary, out, root=tmp_path)
    rec = json.loads(path.read_text())
    assert rec["table_md"].startswith("# Toy table")
    assert rec["showcase"] == ["docs/figures/toy-record-curve.png"]  # only the figures the experiment names
    assert (tmp_path / "docs/figures/toy-record-curve.png").read_bytes() == b"\x89PNG fake"
    assert not (tmp_path / "docs/figures/toy-record-other.png").exists()
    md = render_highlights([rec])
    assert "### toy-record (module 99): Toy" in md
    assert "![toy-record: toy-record-curve](docs/figures/toy-record-curve.png)" in md
    assert "**Toy table**" in md and "| 1 | 2 |" in md  # the table's heading is demoted under ours
    assert "full (n=3)" in md and "abcdef1" in md
    assert "full (n=3)" in render_markdown([rec])  # the results table shows a shortened recipe too


def test_record_without_table_or_figures(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    summary = {"experiment": "toy-record", "module": "99", "preset": "full", "metrics": {"acc": 1.0}}
    rec = json.loads(record_result(_exp(showcase=("missing",)), summary, out, root=tmp_path).read_text())
    assert "table_md" not in rec and "showcase" not in rec
    assert render_highlights([rec]).startswith("_No recorded run")


# ------------------------------------------------------------------ only a finished full run is recorded
def _project(tmp_path, monkeypatch):
    """A fake checkout (pyproject.toml + src/deepcourse) holding a recorded result for test-toy."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "src" / "deepcourse").mkdir(parents=True)
    (tmp_path / "results").mkdir()
    rec = tmp_path / "results" / "test-toy.json"
    rec.write_text('{"metrics": {"acc": 0.9864}, "status": "done"}\n')
    monkeypatch.chdir(tmp_path)
    return rec


@pytest.mark.parametrize("override, status, code", [("fail=true", "error", 1), ("missing=true", "skipped", 3)])
def test_record_never_replaces_a_result_with_a_failed_run(tmp_path, monkeypatch, capsys, override, status, code):
    from deepcourse.cli import main
    from deepcourse.core import run_experiment

    from . import _toy  # noqa: F401  registers test-toy

    rec = _project(tmp_path, monkeypatch)
    before = rec.read_bytes()
    s = run_experiment("test-toy", "full", out=tmp_path / "a", record=True, overrides=[override])
    assert s["status"] == status and s["recorded"] is None
    assert "results/test-toy.json left untouched" in s["record_note"]
    assert rec.read_bytes() == before
    assert main(["run", "test-toy", "--full", "--record", "--out", str(tmp_path / "b"), override]) == code
    err = capsys.readouterr().err
    assert f"results/test-toy.json left untouched (the run ended {status}" in err
    assert rec.read_bytes() == before
    assert main(["run", "test-toy", "--full", "--record", "--out", str(tmp_path / "c")]) == 0  # done: recorded
    assert json.loads(rec.read_text())["metrics"]["acc"] == 0.99
