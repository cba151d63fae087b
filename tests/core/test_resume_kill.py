"""--resume after SIGKILL continues to the same weights, bit for bit (CPU)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).with_name("_resume_script.py")


def _run(out, kind, resume, pause="0"):
    return subprocess.run([sys.executable, str(SCRIPT), str(out), kind, "1" if resume else "0", pause],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("kind", ["tensor", "dataloader"])
def test_sigkill_then_resume_matches_uninterrupted(tmp_path, kind):
    ref = _run(tmp_path / "ref", kind, False)
    assert ref.returncode == 0, ref.stderr
    cut = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(cut), kind, "0", "0.05"], stdout=subprocess.PIPE, text=True)
    killed_at = None
    for line in proc.stdout:
        if line.startswith("step") and int(line.split()[1]) >= 17:  # mid-epoch 2 (12 batches an epoch)
            os.kill(proc.pid, signal.SIGKILL)
            killed_at = int(line.split()[1])
            break
    proc.wait(timeout=60)
    assert killed_at is not None and proc.returncode == -signal.SIGKILL
    assert not (cut / "final.pt").exists()
    res = _run(cut, kind, True)
    assert res.returncode == 0, res.stderr
    first = int(res.stdout.split()[1])
    assert 17 <= first <= killed_at + 2  # it continued, it did not start again
    a = torch.load(tmp_path / "ref" / "final.pt", weights_only=True)
    b = torch.load(cut / "final.pt", weights_only=True)
    for k in a:
        assert torch.equal(a[k], b[k]), k
