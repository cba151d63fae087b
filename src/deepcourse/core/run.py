"""``Run``: what an experiment gets from the platform.

One object per run: the output folder, the device, seeded generators, a logger that
writes ``metrics.jsonl`` and TensorBoard events, progress bars, figures and the
checkpoint path. Under ``torchrun`` only rank 0 writes files.
"""

from __future__ import annotations

import json
import math
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

__all__ = ["Run", "NonFiniteError", "RunFolderBusyError", "environment", "read_metrics"]


class NonFiniteError(FloatingPointError):
    """A loss or metric became NaN or infinite; the message names the step and the last good checkpoint."""


class RunFolderBusyError(RuntimeError):
    """Another live process holds the run folder (its ``.lock`` file is locked)."""


# ------------------------------------------------------------------------------------------ run folder lock
# One live run per folder: rank 0 holds an exclusive ``flock`` on ``OUT/.lock`` (the file holds its pid, for
# the message). The kernel drops the lock when the process dies, even by SIGKILL, so a lock file left by a
# dead process never blocks: the next run takes it over. Not available on Windows (no fcntl): there run
# folders are still unique by name, but two runs given the same --out are not stopped.
_LOCK_NAME = ".lock"
_HELD_LOCKS: dict[str, int] = {}  # resolved folder -> fd of its lock file, held by this process


def _acquire_lock(folder: Path) -> None:
    key = str(folder.resolve())
    if key in _HELD_LOCKS:  # this process holds it already (a second Run on the same folder)
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    path = folder / _LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                holder = os.read(fd, 32).decode(errors="replace").strip()
            except OSError:
                holder = ""
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise RunFolderBusyError(f"run folder {folder} is in use by another run{who}; "
                                     "wait for it to finish, or pass another --out") from None
        try:  # the holder may have removed the file between our open and our lock: lock the new one
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _HELD_LOCKS[key] = fd


def _release_lock(folder: Path) -> None:
    fd = _HELD_LOCKS.pop(str(folder.resolve()), None)
    if fd is None:
        return
    try:
        (folder / _LOCK_NAME).unlink()  # removed while still locked, then unlocked by close
    except OSError:
        pass
    os.close(fd)


def read_metrics(path: Path) -> list[tuple[str, dict]]:
    """The records of a ``metrics.jsonl`` as ``(line, record)`` pairs. A torn last line (a write cut by a
    kill) is dropped; any other line that is not a JSON object raises ``ValueError`` naming the file and
    the line number."""
    lines = Path(path).read_text().split("\n")
    out = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            bad = None if isinstance(rec, dict) else "not a JSON object"
        except ValueError as e:
            bad = str(e)
        if bad is not None:
            if not any(rest.strip() for rest in lines[i + 1:]):
                break  # the last line, torn
            raise ValueError(f"{path}, line {i + 1}: {bad}; fix or delete that line (or start a new run folder)")
        out.append((line, rec))
    return out


def _strict_json(obj: Any, where: str, nonfinite: dict[str, str]) -> Any:
    """``obj`` with every nan/inf float replaced by None (its path and value noted in ``nonfinite``)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        nonfinite[where] = str(obj)
        return None
    if isinstance(obj, dict):
        return {k: _strict_json(v, f"{where}.{k}" if where else str(k), nonfinite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict_json(v, f"{where}[{i}]", nonfinite) for i, v in enumerate(obj)]
    return obj


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
        self._tables_written = 0  # the first run.table() of this run replaces table.md; later ones append
        seed_everything(self.seed)  # same init on every rank; data sharding differs by rank
        self.rng = np.random.default_rng(self.seed)
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            _acquire_lock(self.out)  # RunFolderBusyError if another live run holds the folder
            (self.out / "figures").mkdir(exist_ok=True)
            if not self.resume and (self.out / "metrics.jsonl").exists():
                (self.out / "metrics.jsonl").unlink()
            if self.resume:
                self._repair_metrics()

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
            from .config import ConfigError

            try:
                old = json.loads(path.read_text())
                if not isinstance(old, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, UnicodeDecodeError) as e:
                why = "empty file" if not path.read_bytes().strip() else e
                raise ConfigError(f"--resume: cannot read {path} ({why}); "
                                  "this folder cannot be resumed: start a new run folder") from None
            if old.get("config") != cfg or old.get("seed") != self.seed:
                raise ConfigError(
                    f"--resume: the config or seed differs from the one saved in {path}; "
                    "resume with the same overrides, or start a new run folder"
                )
        path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")

    def write_summary(self, summary: dict) -> None:
        if not self.is_main:
            return
        # strict JSON: a nan/inf value is written as null and listed under "non_finite" ({"metrics.acc": "nan"})
        nonfinite: dict[str, str] = {}
        clean = _strict_json(summary, "", nonfinite)
        if nonfinite:
            clean["non_finite"] = nonfinite
        tmp = self.out / ".summary.json.tmp"
        tmp.write_text(json.dumps(clean, indent=2, sort_keys=True, default=str, allow_nan=False) + "\n")
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
        for line, rec in read_metrics(path):
            mine = not prefix or any(k.startswith(prefix) for k in rec)
            if not (mine and rec.get("step", 0) > after_step):
                keep.append(line)
        path.write_text("".join(line + "\n" for line in keep))

    def history(self) -> list[dict]:
        path = self.out / "metrics.jsonl"
        if not path.exists():
            return []
        return [rec for _, rec in read_metrics(path)]

    def _repair_metrics(self) -> None:
        """On resume: drop a torn last line of metrics.jsonl, so new lines start on a line of their own."""
        path = self.out / "metrics.jsonl"
        if not path.exists():
            return
        text = path.read_text()
        fixed = "".join(line + "\n" for line, _ in read_metrics(path))
        if fixed != text:
            path.write_text(fixed)

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

    # ---------------------------------------------------------------- seeds and tables
    def seed_for(self, tag: str) -> int:
        """A seed derived from the run's seed and ``tag``: the same pair always gives the same seed, and
        different tags give independent streams (``run.seed_for("teacher")``, ``run.seed_for("student")``),
        so adding a model to an experiment does not change the initialisation of the others."""
        if not isinstance(tag, str) or not tag:
            raise ValueError(f"seed_for needs a non-empty string tag (got {tag!r})")
        import hashlib

        digest = hashlib.sha256(f"{self.seed}:{tag}".encode()).digest()
        return int.from_bytes(digest[:8], "little") % (2**63 - 1)

    def manual_seed(self, tag: str) -> int:
        """Seed torch's global generator with :meth:`seed_for` ``(tag)`` and return that seed."""
        seed = self.seed_for(tag)
        torch.manual_seed(seed)
        return seed

    def generator(self, tag: str) -> torch.Generator:
        """A CPU ``torch.Generator`` seeded with :meth:`seed_for` ``(tag)`` (leaves the global RNG alone)."""
        return torch.Generator().manual_seed(self.seed_for(tag))

    def table(self, rows: list[dict], title: str, *, floatfmt: str = ".4g") -> str:
        """Render ``rows`` (dicts with the same keys; the first row's keys order the columns) as a Markdown
        table under a ``### title`` heading, append it to ``table.md`` and ``{"title", "rows"}`` to
        ``table.json`` (rank 0 only), print it under ``deepcourse run``, and return the Markdown.

        ``--record`` copies ``table.md`` into ``results/NAME.json``, and the README shows it."""
        from .tables import jsonable, markdown_table

        text = f"### {title}\n\n{markdown_table(rows, floatfmt=floatfmt)}\n"
        if self.is_main:
            md, js = self.out / "table.md", self.out / "table.json"
            tables = [] if self._tables_written == 0 else json.loads(js.read_text())
            tables.append({"title": title, "rows": jsonable(rows)})
            prefix = md.read_text() + "\n" if self._tables_written and md.exists() else ""
            _atomic_write(md, prefix + text)
            _atomic_write(js, json.dumps(tables, indent=2, allow_nan=False) + "\n")
            self._tables_written += 1
            if self.verbose:
                print(text)
        return text

    def prepare_model(self, model: torch.nn.Module) -> torch.nn.Module:
        """Move to the run's device; wrap in DistributedDataParallel under torchrun."""
        model = model.to(self.device)
        return dist_utils.wrap_ddp(model, self.device)

    def close(self) -> None:
        if self._writer:
            self._writer.close()
        self._writer = None
        if self.is_main:
            _release_lock(self.out)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


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
