"""DDP through torchrun with 2 CPU processes (gloo) matches single-process training."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).with_name("_ddp_script.py")


def test_ddp_two_cpu_processes_match_single_process(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "single")], capture_output=True, text=True,
                            timeout=300, env=env)
    assert single.returncode == 0, single.stderr
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          str(SCRIPT), str(tmp_path / "ddp")], capture_output=True, text=True, timeout=300, env=env)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    a = torch.load(tmp_path / "single" / "final.pt", weights_only=True)
    b = torch.load(tmp_path / "ddp" / "final.pt", weights_only=True)
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-5, rtol=1e-4), (k, (a[k] - b[k]).abs().max())
    assert (tmp_path / "single" / "batch_rank0.txt").read_text() == "[16]"
    for r in (0, 1):  # each rank saw its half of every global batch
        assert (tmp_path / "ddp" / f"batch_rank{r}.txt").read_text() == "[8]"
    assert not torch.equal(a["0.weight"], torch.nn.Linear(4, 16).weight)
