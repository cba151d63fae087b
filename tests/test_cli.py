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
    assert main(["run", "test-toy", "--out", str(tmp_path / "c"), "missing=true"]) == 3  # skipped: nothing ran
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
    assert r.returncode == 3, r.stderr  # skipped: data missing
    assert "SKIPPED" in r.stdout and "mnist" in r.stdout
    assert "Searched:" in r.stdout and str(tmp_path / "empty" / "mnist") in r.stdout
    assert "deepcourse data download mnist" in r.stdout
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


# ------------------------------------------------------------------------------------ issue 12: exit codes
def test_help_states_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for code in ("0    done", "1    failed", "2    bad input", "3    skipped", "130  interrupted"):
        assert code in out


@pytest.mark.parametrize("args, message", [
    (["--seed", "-1"], "--seed must be an integer with 0 <= seed < 2**63 (got '-1')"),
    (["--seed", "99999999999999999999999"], "--seed must be an integer with 0 <= seed < 2**63"),
    (["--seed", "abc"], "--seed must be an integer"),
    (["value=0.5", "value=0.6"], "value is given twice (value=0.5, value=0.6)"),
    (["value=inf"], "value must be a finite number (got inf)"),
    (["value=nan"], "value must be a finite number (got nan)"),
])
def test_bad_seed_duplicate_and_nonfinite_exit_2(tmp_path, capsys, args, message):
    assert main(["run", "test-toy", "--out", str(tmp_path / "r"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_empty_out_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "test-toy", "--out", ""]) == 2
    assert "--out must name a folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing written into the current directory


def test_config_error_found_inside_the_run_exits_2(tmp_path, capsys):
    assert main(["run", "test-toy-edge", "--out", str(tmp_path), "val_frac=0.00001"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("deepcourse: error: val_frac=1e-05 leaves no validation item")


def test_run_on_missing_data_prints_paths_and_download_command(tmp_path, capsys):
    empty = tmp_path / "empty"
    assert main(["run", "test-toy-data", "--out", str(tmp_path / "r"), "--data-dir", str(empty)]) == 3
    out = capsys.readouterr().out
    assert "SKIPPED" in out and "Searched:" in out and str(empty / "mnist" / "t10k-labels-idx1-ubyte.gz") in out
    assert "deepcourse data download mnist" in out


def _corrupt_mnist_copy(tmp_path: Path, data_root: Path) -> tuple[Path, Path]:
    import shutil

    root = tmp_path / "data"
    shutil.copytree(data_root / "mnist", root / "mnist")
    bad = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    st = bad.stat()
    raw = bytearray(bad.read_bytes())
    raw[-1] ^= 0xFF  # same size, one byte flipped, mtime put back
    bad.write_bytes(bytes(raw))
    os.utime(bad, ns=(st.st_atime_ns, st.st_mtime_ns))
    return root, bad


def test_run_on_corrupt_data_prints_digests_and_fix(tmp_path, capsys, data_root):
    import hashlib

    root, bad = _corrupt_mnist_copy(tmp_path, data_root)
    assert main(["run", "test-toy-data", "--out", str(tmp_path / "r"), "--data-dir", str(root)]) == 1
    out = capsys.readouterr().out
    actual = hashlib.sha256(bad.read_bytes()).hexdigest()
    assert "ERROR" in out and str(bad) in out and "sha256 mismatch" in out
    assert "expected sha256:" in out and f"actual sha256:   {actual}" in out
    assert "deepcourse data download mnist" in out


def test_data_check_exits_1_on_any_bad_file(tmp_path, capsys, data_root):
    import shutil

    root, bad = _corrupt_mnist_copy(tmp_path, data_root)
    for name in ("fashion-mnist", "usps", "cifar10-jpeg", "coil20"):
        if (data_root / name).exists():
            (root / name).symlink_to(data_root / name)
    assert main(["data", "check", "mnist", "--data-dir", str(root)]) == 1
    assert main(["data", "check", "--data-dir", str(root)]) == 1  # no NAME: every dataset, same rule
    out = capsys.readouterr().out
    assert f"mnist: {bad}: sha256 mismatch" in out
    shutil.copyfile(data_root / "mnist" / bad.name, bad)
    assert main(["data", "check", "mnist", "--data-dir", str(root)]) == 0
