"""Run folders (issue 12 §2, §4, §5): unique names, one live run per folder, torn or corrupt files on
--resume, nothing to resume, strict JSON in summary.json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepcourse.core import ConfigError, run_experiment
from deepcourse.core.registry import default_out, latest_run
from deepcourse.core.run import Run, RunFolderBusyError

from . import _toy  # noqa: F401  registers the toys

SCRIPT = Path(__file__).with_name("_cli_script.py")


def _strict(text: str):
    def refuse(token):
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


# ---------------------------------------------------------------------------------------- unique folders
def test_default_out_is_unique_and_created(tmp_path):
    outs = [default_out("toy", "quick", base=tmp_path) for _ in range(50)]  # well inside one second
    assert len(set(outs)) == 50 and all(p.is_dir() for p in outs)
    assert latest_run("toy", "quick", base=tmp_path) == max(outs)


def test_default_out_unique_across_processes(tmp_path):
    code = ("import sys; from pathlib import Path; from deepcourse.core.registry import default_out; "
            "print(*[default_out('toy', 'quick', base=Path(sys.argv[1])) for _ in range(20)], sep='\\n')")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [line for p in procs for line in p.communicate(timeout=120)[0].split()]
    assert len(outs) == 80 and len(set(outs)) == 80


# ---------------------------------------------------------------------------------------------- the lock
def test_lock_refuses_a_second_live_run_and_is_released(tmp_path):
    import fcntl

    out = tmp_path / "run"
    out.mkdir()
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT)  # another process's lock, as it looks on disk
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, b"4242\n")
    try:
        t0 = time.perf_counter()
        with pytest.raises(RunFolderBusyError, match=r"in use by another run \(pid 4242\)"):
            run_experiment("test-toy", out=out)
        assert time.perf_counter() - t0 < 5  # at once, not after a wait
        assert not (out / "summary.json").exists()
    finally:
        os.close(fd)
    s = run_experiment("test-toy", out=out)  # the holder is gone: the lock is free
    assert s["status"] == "passed" and not (out / ".lock").exists()  # released at the end


def test_stale_lock_of_a_dead_process_does_not_block(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from deepcourse.core.run import Run; "
                               "Run(sys.argv[1], device='cpu'); print('held', flush=True); time.sleep(60)", str(out)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunFolderBusyError, match=f"pid {holder.pid}"):
        Run(out, device="cpu")
    holder.send_signal(signal.SIGKILL)
    holder.wait(30)
    assert (out / ".lock").read_text().strip() == str(holder.pid)  # left behind by the killed process
    assert run_experiment("test-toy", out=out)["status"] == "passed"


def test_two_cli_runs_on_one_out(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, str(SCRIPT), "run", "test-toy-fit", "--out", str(out)]
    first = subprocess.Popen(cmd + ["pause=0.5", "epochs=30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        assert first.stdout.readline().startswith("step")  # the first run is live
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2
        err = second.stderr.strip().splitlines()
        assert err[-1].startswith("deepcourse: error: run folder") and f"pid {first.pid}" in err[-1]
        assert not any("Traceback" in line for line in err)
    finally:
        first.kill()
        first.communicate()


# ------------------------------------------------------------------------------------- resume and files
def test_torn_last_metrics_line_is_dropped_on_resume(tmp_path):
    out = tmp_path / "run"
    assert run_experiment("test-toy-fit", out=out)["status"] == "passed"
    with open(out / "metrics.jsonl", "a") as f:
        f.write('{"step": 25, "lo')  # a write cut by a kill
    s = run_experiment("test-toy-fit", out=out, resume=True)
    assert s["status"] == "passed", s["reason"]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)


def test_other_metrics_parse_errors_name_the_file(tmp_path):
    out = tmp_path / "run"
    run_experiment("test-toy-fit", out=out)
    lines = (out / "metrics.jsonl").read_text().splitlines()
    lines[1] = "garbage"
    (out / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"metrics\.jsonl, line 2"):
        run_experiment("test-toy-fit", out=out, resume=True)


@pytest.mark.parametrize("content", ["", "{\"experiment\": ", "[1, 2]"])
def test_corrupt_config_json_on_resume_names_the_file(tmp_path, content):
    out = tmp_path / "run"
    run_experiment("test-toy", out=out)
    (out / "config.json").write_text(content)
    with pytest.raises(ConfigError, match=r"cannot read .*config\.json") as e:
        run_experiment("test-toy", out=out, resume=True)
    assert "\n" not in str(e.value)
    assert run_experiment("test-toy", out=out)["status"] == "passed"  # the lock was released


def test_resume_with_nothing_to_resume_says_so_and_starts(tmp_path, capsys):
    out = tmp_path / "never-ran"
    s = run_experiment("test-toy", out=out, resume=True)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"deepcourse: nothing to resume in {out} (no config.json); starting a new run there"]
    assert s["status"] == "passed" and (out / "config.json").exists()


def test_resume_without_out_and_no_earlier_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    s = run_experiment("test-toy", resume=True)
    assert "nothing to resume" in capsys.readouterr().err
    assert s["status"] == "passed" and Path(s["out"]).parent == Path("runs") / "test-toy"


# ---------------------------------------------------------------------------------------- strict JSON
def test_summary_is_strict_json_with_null_for_nan(tmp_path):
    s = run_experiment("test-toy-edge", out=tmp_path, overrides={"nan": "true"})
    assert s["status"] == "failed"
    saved = _strict((tmp_path / "summary.json").read_text())  # no bare NaN token
    assert saved["metrics"]["acc"] is None and saved["non_finite"] == {"metrics.acc": "nan"}


def test_seed_and_out_are_checked(tmp_path):
    for seed in (-1, 2**63, 99999999999999999999999):
        with pytest.raises(ConfigError, match="seed must be an integer with 0 <= seed < 2\\*\\*63"):
            run_experiment("test-toy", out=tmp_path / "s", seed=seed)
    with pytest.raises(ConfigError, match="out must name a folder"):
        run_experiment("test-toy", out="")
    assert not (tmp_path / "s").exists()


def test_config_error_inside_the_run_is_bad_input(tmp_path):
    s = run_experiment("test-toy-edge", out=tmp_path, overrides={"val_frac": "0.00001"})
    assert s["status"] == "error" and s["bad_input"] and s["reason"].startswith("val_frac=1e-05 leaves no validation")
