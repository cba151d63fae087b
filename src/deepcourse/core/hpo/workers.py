"""Several processes on one study: each worker asks the shared storage for its next trial, and the
samplers read every worker's results from it. :func:`run_workers` starts them and waits; each runs
:mod:`deepcourse.core.hpo.worker`, which rebuilds the objective from an importable ``"module:factory"``.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from .study import open_study

__all__ = ["load_factory", "worker_command", "worker_env", "run_workers"]


def load_factory(spec: str) -> Callable:
    """The callable named by ``"package.module:function"``."""
    if ":" not in spec:
        raise ValueError(f"objective must be 'module:function' (got {spec!r})")
    mod, fn = spec.split(":", 1)
    return getattr(importlib.import_module(mod), fn)


def worker_command(storage: str, study: str, objective: str, n_trials: int, *, sampler: str = "tpe", seed: int = 0,
                   kwargs: Mapping[str, Any] | None = None, direction: str = "maximize", pruner: str = "median",
                   heartbeat: int = 2) -> list[str]:
    """The command line of one worker process (``python -m deepcourse.core.hpo.worker``)."""
    return [sys.executable, "-m", "deepcourse.core.hpo.worker", "--storage", storage, "--study", study,
            "--objective", objective, "--trials", str(n_trials), "--sampler", sampler, "--seed", str(seed),
            "--direction", direction, "--pruner", pruner, "--kwargs", json.dumps(dict(kwargs or {})),
            "--heartbeat", str(heartbeat)]


def worker_env() -> dict[str, str]:
    """The environment of a worker: ours, with this checkout's ``src`` first on PYTHONPATH."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_workers(n_workers: int, storage: str, study: str, objective: str, n_trials: int, *, sampler: str = "tpe",
                seed: int = 0, kwargs: Mapping[str, Any] | None = None, direction: str = "maximize",
                pruner: str = "median", timeout: float | None = None, heartbeat: int = 2) -> list[int]:
    """Start ``n_workers`` processes on one study and wait; returns their exit codes. ``objective`` is
    ``"module:factory"``; ``factory(**kwargs)`` returns ``(objective(trial) -> float, space)`` so each worker
    builds its own (data, models) and the grid sampler knows the space."""
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1 (got {n_workers})")
    # create the tables and the study here: workers starting together would race to create them
    open_study(study, storage, direction=direction, heartbeat=heartbeat)
    procs = [subprocess.Popen(worker_command(storage, study, objective, n_trials, sampler=sampler,
                                             seed=seed + 10_007 * i, kwargs=kwargs, direction=direction,
                                             pruner=pruner, heartbeat=heartbeat), env=worker_env())
             for i in range(n_workers)]
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            p.kill()
            codes.append(p.wait())
    return codes
