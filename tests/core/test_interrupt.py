"""Ctrl-C (SIGINT) and SIGTERM (issue 12 §4): summary.json says "interrupted", one line names the last
checkpoint and the exact --resume command, the exit code is 130, and that command finishes the run."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("_cli_script.py")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_writes_summary_and_prints_the_resume_command(tmp_path, sig):
    out = tmp_path / "run"
    # 32 steps of 0.2 s: the signal lands mid-run even when this process reads the pipe late on a loaded
    # machine (with 0.05 s steps the child could finish before the parent had read "step 5")
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "run", "test-toy-fit", "--out", str(out), "--seed", "3",
                             "pause=0.2", "epochs=4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a job started in the background (`cmd &`, nohup, some CI runners) inherits SIGINT
                            # ignored, and Python then installs no Ctrl-C handler: restore the default in the child
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stdout:
        if line.startswith("step") and int(line.split()[1]) >= 5:
            proc.send_signal(sig)
            break
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    name = "SIGINT" if sig == signal.SIGINT else "SIGTERM"
    ckpt = out / "checkpoint.pt"
    assert last.startswith(f"deepcourse: interrupted by {name}; last checkpoint {ckpt}; continue with: ")
    s = json.loads((out / "summary.json").read_text())
    assert s["status"] == "interrupted" and name in s["reason"]
    cmd = last.split("continue with: ", 1)[1]
    assert cmd == s["resume_command"]
    argv = shlex.split(cmd)
    assert argv[:3] == ["deepcourse", "run", "test-toy-fit"] and "--resume" in argv and "--seed" in argv
    assert not (out / ".lock").exists()
    res = subprocess.run([sys.executable, str(SCRIPT), *argv[1:]], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    first = int(res.stdout.split()[1])
    assert first >= 5  # it continued from the last checkpoint (step 4 or later), it did not start again
    assert json.loads((out / "summary.json").read_text())["status"] == "passed"
