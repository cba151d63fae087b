"""``Run``: what an experiment gets from the platform.

One object per run: the output folder, the device, seeded generators, a logger that
writes ``metrics.jsonl`` and TensorBoard events, progress bars, figures and the
checkpoint path. Under ``torchrun`` only rank 0 writes files.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from .utils import resolve_device, seed_everything
from . import distributed as dist_utils

__all__ = ["Run", "NonFiniteError", "environment"]


class NonFiniteError(FloatingPointError):
    """A loss or metric became NaN or infinite; the message names the step and the last good checkpoint."""


class Run:
    def __init__(
        self,
        out: str | Path,
        device: str | torch.device = "auto",
        seed: int = 0,
        preset: str = "quick",
        data_root: str | Path | None = None,
        resume: bool = False,
        progress: bool | None = None,
        verbose: bool = False,
    ):
        self.out = Path(out)
        self.verbose = verbose  # True under `deepcourse run`: experiments may print their tables
        self.device = resolve_device(device)
        self.seed = int(seed)
        self.preset = preset
        self.data_root = Path(data_root) if data_root is not None else None
        self.resume = bool(resume)
        self.progress_enabled = progress
        self.rank = dist_utils.rank()
        self.is_main = self.rank == 0
        self.figures: list[str] = []
        self._writer = None
        seed_everything(self.seed)  # same init on every rank; data sharding differs by rank
        self.rng = np.random.default_rng(self.seed)
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "figures").mkdir(exist_ok=True)
            if not self.resume and (self.out / "metrics.jsonl").exists():
                (self.out / "metrics.jsonl").unlink()

    # ---------------------------------------------------------------- files
    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    def write_config(self, cfg: dict, name: str) -> None:
        if not self.is_main:
            return
        path = self.out / "config.json"
        payload = {"experiment": name, "preset": self.preset, "seed": self.seed, "config": cfg}
        if self.resume and path.exists():
            old = json.loads(path.read_text())
            if old.get("config") != cfg or old.get("seed") != self.seed:
                from .config import ConfigError

                raise ConfigError(
                    f"--resume: the config or seed differs from the one saved in {path}; "
                    "resume with the same overrides, or start a new run folder"
                )
        path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")

    def write_summary(self, summary: dict) -> None:
        if not self.is_main:
            return
        tmp = self.out / ".summary.json.tmp"
        tmp.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
        tmp.replace(self.out / "summary.json")

    # ---------------------------------------------------------------- logging
    def log(self, step: int, **metrics: Any) -> None:
        """Append ``{"step": step, **metrics}`` to metrics.jsonl and TensorBoard."""
        clean = {}
        for k, v in metrics.items():
            if isinstance(v, torch.Tensor):
                v = v.detach().item()
            clean[k] = float(v)
        if not self.is_main:
            return
        with open(self.out / "metrics.jsonl", "a") as f:
            f.write(json.dumps({"step": int(step), **clean}) + "\n")
        writer = self._tensorboard()
        if writer is not None:
            for k, v in clean.items():
                writer.add_scalar(k, v, int(step))

    def _tensorboard(self):
        if self._writer is None and os.environ.get("DEEPCOURSE_TENSORBOARD", "1") != "0":
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is a dependency, but a broken install must not stop a run
                self._writer = False
                return None
            self._writer = SummaryWriter(log_dir=str(self.out / "tb"))
        return self._writer or None

    def truncate_metrics(self, after_step: int, prefix: str = "") -> None:
        """On resume, drop metric lines logged after the checkpoint's step (they are logged again).
        With ``prefix``, only lines of that model's metrics (keys starting with it) are dropped."""
        path = self.out / "metrics.jsonl"
        if not self.is_main or not path.exists():
            return
        keep = []
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            mine = not prefix or any(k.startswith(prefix) for k in rec)
            if not (mine and rec.get("step", 0) > after_step):
                keep.append(line)
        path.write_text("".join(line + "\n" for line in keep))

    def history(self) -> list[dict]:
        path = self.out / "metrics.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def progress(self, iterable: Iterable | None = None, total: int | None = None, desc: str | None = None, **kw):
        """A tqdm progress bar (shown on a terminal, hidden in logs and on non-zero ranks)."""
        from tqdm.auto import tqdm

        disable = (not self.is_main) or (None if self.progress_enabled is None else not self.progress_enabled)
        if os.environ.get("DEEPCOURSE_PROGRESS") == "0":
            disable = True
        return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False, dynamic_ncols=True, **kw)

    def save_figure(self, name: str, fig) -> Path:
        """Save a matplotlib figure as figures/<name>.png and close it."""
        import matplotlib.pyplot as plt

        path = self.out / "figures" / f"{name}.png"
        if self.is_main:
            fig.savefig(path, dpi=100, bbox_inches="tight")
            rel = str(path.relative_to(self.out))
            if rel not in self.figures:
                self.figures.append(rel)
        plt.close(fig)
        return path

    def prepare_model(self, model: torch.nn.Module) -> torch.nn.Module:
        """Move to the run's device; wrap in DistributedDataParallel under torchrun."""
        model = model.to(self.device)
        return dist_utils.wrap_ddp(model, self.device)

    def close(self) -> None:
        if self._writer:
            self._writer.close()
        self._writer = None


def _git_state() -> tuple[str | None, list[str]]:
    """HEAD's sha (``-dirty`` when tracked files differ from it) and the tracked files that differ, so a
    recorded result says whether the experiment's own code was what the commit holds."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None, []
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True,
                               text=True, timeout=5)
        files = [line[3:] for line in dirty.stdout.splitlines() if line.strip()]
        return sha.stdout.strip() + ("-dirty" if files else ""), files
    except (OSError, subprocess.SubprocessError):
        return None, []


def environment(device: torch.device) -> dict:
    """Git commit, package versions and hardware, for summary.json."""
    import deepcourse

    versions = {"python": sys.version.split()[0], "deepcourse": deepcourse.__version__, "torch": torch.__version__, "numpy": np.__version__}
    try:
        import torchvision

        versions["torchvision"] = torchvision.__version__
    except Exception:  # torchvision is optional for most experiments
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    hardware = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": gpu,
        "device": str(device),
        "world_size": dist_utils.world_size(),
        "platform": platform.platform(),
    }
    commit, dirty = _git_state()
    env = {"git_commit": commit, "versions": versions, "hardware": hardware}
    if dirty:
        env["git_dirty_files"] = dirty[:50]
    return env
