"""Reading run summaries and formatting their values for the report."""

from __future__ import annotations

import json

import pytest

from deepcourse.viz.summaries import (
    MISSING,
    format_duration,
    format_floor,
    format_number,
    load_runs,
    module_sort_key,
)


# -------------------------------------------------------------------------------------------- loading

def test_load_runs_from_runs_folder(fake_runs):
    runs = load_runs(fake_runs)
    assert sorted(r.experiment for r in runs) == ["autodiff-check", "dcgan", "mlp-mnist", "resnet", "toy-xor"]
    xor = next(r for r in runs if r.experiment == "toy-xor")
    assert xor.root == fake_runs / "toy-xor" / "2026-11-26T030000Z"
    assert all(p.exists() for p in xor.figure_paths())


def test_load_runs_from_results_folder_and_run_dirs(tmp_path, fake_runs, make_summary):
    results = tmp_path / "results"
    results.mkdir()
    (results / "toy-xor.json").write_text(json.dumps(make_summary("toy-xor", "0.1", preset="full")))
    (results / "mlp-mnist.json").write_text(json.dumps(make_summary("mlp-mnist", "0.1", preset="full")))
    runs = load_runs(results)
    assert [r.experiment for r in runs] == ["mlp-mnist", "toy-xor"]  # sorted by file name
    # a run folder given directly, a summary file and the same run twice: read once each
    run_dir = fake_runs / "toy-xor" / "2026-11-26T030000Z"
    both = load_runs([run_dir, run_dir / "summary.json", results / "toy-xor.json"])
    assert len(both) == 2


def test_load_runs_skips_corrupt_json_with_warning(tmp_path, make_summary):
    results = tmp_path / "results"
    results.mkdir()
    (results / "good.json").write_text(json.dumps(make_summary("good", "2")))
    (results / "broken.json").write_text('{"experiment": "broken", ')
    (results / "other.json").write_text(json.dumps({"not": "a summary"}))
    with pytest.warns(UserWarning) as record:
        runs = load_runs(results)
    assert [r.experiment for r in runs] == ["good"]
    messages = " ".join(str(w.message) for w in record)
    assert "broken.json" in messages and "not valid JSON" in messages
    assert "other.json" in messages and "not a run summary" in messages


def test_load_runs_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_runs(tmp_path / "nope")


def test_load_runs_latest(tmp_path, make_summary, write_run):
    runs_dir = tmp_path / "runs"
    write_run(runs_dir, make_summary("toy-xor", "0.1", started="2026-11-26T01:00:00Z", metrics={"acc": 0.5}))
    write_run(runs_dir, make_summary("toy-xor", "0.1", started="2026-11-26T02:00:00Z", metrics={"acc": 1.0}))
    write_run(runs_dir, make_summary("toy-xor", "0.1", preset="full", started="2026-11-26T00:00:00Z"))
    assert len(load_runs(runs_dir)) == 3
    latest = load_runs(runs_dir, latest=True)
    assert sorted((r.data["preset"], r.metric("acc")) for r in latest) == [("full", 0.98234), ("quick", 1.0)]


# ----------------------------------------------------------------------------------------- formatting

def test_module_sort_key_is_numeric_by_parts():
    modules = ["10", "2", "1.1", "0.1", "9", "1.10", "1.2", "extra", 5]
    assert sorted(modules, key=module_sort_key) == ["0.1", "1.1", "1.2", "1.10", "2", 5, "9", "10", "extra"]


@pytest.mark.parametrize(
    "value, text",
    [
        (0.98234, "0.9823"), (1.0, "1"), (12.3456, "12.35"), (60000, "60000"), (123456.7, "123457"),
        (1.2e-05, "1.200e-05"), (-0.5, "-0.5"), (0.0123456, "0.01235"), (None, MISSING),
        (float("nan"), MISSING), (float("inf"), "inf"), ("n/a", "n/a"), (True, "true"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


def test_format_duration_and_floor():
    assert format_duration(3.24) == "3.2 s"
    assert format_duration(42.4) == "42 s"
    assert format_duration(125) == "2 min 5 s"
    assert format_duration(3725) == "1 h 2 min"
    assert format_duration(None) == MISSING
    assert format_floor({"op": ">=", "value": 0.95}) == "\u2265 0.95"
    assert format_floor({"op": "<=", "value": 0.05}) == "\u2264 0.05"
    assert format_floor(0.9) == "\u2265 0.9"
    assert format_floor(None) == MISSING
