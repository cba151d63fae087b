"""Hyper-parameter optimisation with Optuna (Akiba et al. 2019): search spaces declared from our dataclass
configs, four samplers, the median pruner, SQLite storage, resuming after a kill, and several workers.

* Grid vs random search (Bergstra & Bengio 2012, "Random Search for Hyper-Parameter Optimization",
  Figure 1): with a budget of N trials and one parameter that matters, a grid tries only N^(1/d) distinct
  values of it while random search tries N; :func:`grid_vs_random` measures this on a toy function.
* TPE (Bergstra, Bardenet, Bengio & Kegl 2011, "Algorithms for Hyper-Parameter Optimization", sec. 4):
  split the trials at a quantile of the objective into "good" and "bad", fit a Parzen density to each,
  l(x) and g(x), and sample where l(x) / g(x) is largest (the expected improvement, eq. 4-6).
* GP: Bayesian optimisation with a Gaussian-process surrogate and an acquisition function (Optuna's
  ``GPSampler``, after Snoek, Larochelle & Adams 2012).
* The median pruner stops a trial whose intermediate value at step t is worse than the median of the
  other trials' values at t (Golovin et al. 2017, "Google Vizier", sec. 3.2.2).

Storage: every study lives in an SQLite file by default (``sqlite:///<run dir>/study.db``). A process can
die at any point: the trials it finished are committed; the trial it was running stays RUNNING until
:func:`optimize` marks it FAIL. A dead worker is recognised in two ways: its heartbeat stopped (Optuna's
own check, any host), or the trial's ``owner`` attribute names a process on this host that no longer
exists, which also covers a kill that lands before the first heartbeat (:func:`fail_dead_trials`).
Re-running continues to the same total
number of finished trials. Several processes can share one study: each asks the storage for the next
trial, and the samplers read every worker's results from it (:func:`run_workers`).

Optuna is an optional dependency (the ``hpo`` extra); this module imports it lazily.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import math
import os
import socket
import subprocess
import sys
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

__all__ = ["FloatRange", "IntRange", "Choice", "space_from_config", "suggest", "suggest_config", "grid_points",
           "make_sampler", "make_pruner", "sqlite_url", "open_study", "optimize", "finished_trials", "run_workers",
           "best_so_far", "grid_vs_random", "fail_dead_trials", "require_optuna", "SAMPLERS", "worker_command", "worker_env", "main"]

SAMPLERS = ("grid", "random", "tpe", "gp")


def require_optuna():
    """Import optuna, or fail with the install command."""
    try:
        import optuna
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("hyper-parameter optimisation needs optuna: pip install 'deepcourse[hpo]' "
                          "(or pip install optuna)") from e
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # heartbeats and the GP sampler are marked experimental; we rely on them knowingly
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


# --------------------------------------------------------------------------------- search space
@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    log: bool = False

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"FloatRange: low must be < high (got {self.low}, {self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"FloatRange: a log range needs low > 0 (got {self.low})")


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    log: bool = False

    def __post_init__(self):
        if not self.low <= self.high:
            raise ValueError(f"IntRange: low must be <= high (got {self.low}, {self.high})")
        if self.log and self.low < 1:
            raise ValueError(f"IntRange: a log range needs low >= 1 (got {self.low})")


@dataclass(frozen=True)
class Choice:
    choices: tuple

    def __post_init__(self):
        if not self.choices:
            raise ValueError("Choice: choices must not be empty")


Space = dict[str, "FloatRange | IntRange | Choice"]


def space_from_config(config: Any, fields: Mapping[str, Any]) -> Space:
    """The search space over some fields of a dataclass config (class or instance).

    ``fields`` maps a field name to a range (:class:`FloatRange`, :class:`IntRange`, :class:`Choice`), to
    ``"log"`` (a log range between the field's ``param`` bounds), or to ``None`` (the ``param`` metadata:
    ``choices`` give a :class:`Choice`, ``ge``/``le`` bounds a range of the field's type). Every declared
    range must lie inside the field's own bounds, so each sampled config passes validation.
    """
    cls = config if isinstance(config, type) else type(config)
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"config must be a dataclass (got {cls.__name__})")
    known = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    space: Space = {}
    for name, spec in fields.items():
        if name not in known:
            raise ValueError(f"{name!r} is not a field of {cls.__name__}; fields: {', '.join(known)}")
        meta = known[name].metadata
        tp = hints.get(name)
        if spec is None or spec == "log":
            if meta.get("choices"):
                spec = Choice(tuple(meta["choices"]))
            else:
                lo = meta.get("ge") if meta.get("ge") is not None else meta.get("gt")
                hi = meta.get("le") if meta.get("le") is not None else meta.get("lt")
                if lo is None or hi is None:
                    raise ValueError(f"field {name!r} has no choices and no two bounds in its param(); "
                                     "give a range explicitly")
                if tp is bool:
                    spec = Choice((False, True))
                elif tp is int:
                    spec = IntRange(int(lo), int(hi), log=spec == "log")
                else:
                    spec = FloatRange(float(lo), float(hi), log=spec == "log")
        if not isinstance(spec, (FloatRange, IntRange, Choice)):
            raise TypeError(f"range for {name!r} must be FloatRange, IntRange, Choice, 'log' or None (got {spec!r})")
        if isinstance(spec, IntRange) and tp is not int:
            raise TypeError(f"field {name!r} is {getattr(tp, '__name__', tp)}, not int; use FloatRange or Choice")
        if isinstance(spec, FloatRange) and tp not in (float, int):
            raise TypeError(f"field {name!r} is {getattr(tp, '__name__', tp)}, not a number; use Choice")
        _check_inside(name, spec, meta)
        space[name] = spec
    return space


def _check_inside(name: str, spec, meta) -> None:
    if isinstance(spec, Choice):
        allowed = meta.get("choices")
        bad = [c for c in spec.choices if allowed and c not in allowed]
        if bad:
            raise ValueError(f"choices {bad} for {name!r} are not allowed by its param(); allowed: {allowed}")
        return
    for bound, op, ok in (("ge", ">=", lambda v, b: v >= b), ("gt", ">", lambda v, b: v > b),
                          ("le", "<=", lambda v, b: v <= b), ("lt", "<", lambda v, b: v < b)):
        b = meta.get(bound)
        if b is None:
            continue
        edge = spec.low if op.startswith(">") else spec.high
        if not ok(edge, b):
            raise ValueError(f"range [{spec.low}, {spec.high}] for {name!r} breaks its bound {op} {b}")


def suggest(trial, space: Space) -> dict[str, Any]:
    """Ask an Optuna trial for one value per dimension."""
    out = {}
    for name, spec in space.items():
        if isinstance(spec, FloatRange):
            out[name] = trial.suggest_float(name, spec.low, spec.high, log=spec.log)
        elif isinstance(spec, IntRange):
            out[name] = trial.suggest_int(name, spec.low, spec.high, log=spec.log)
        else:
            out[name] = trial.suggest_categorical(name, list(spec.choices))
    return out


def suggest_config(trial, base: Any, space: Space) -> Any:
    """``base`` with the sampled values substituted, validated by the config's own rules."""
    from deepcourse.core import validate

    cfg = dataclasses.replace(base, **suggest(trial, space))
    validate(cfg)
    return cfg


def grid_points(space: Space, per_dim: int | Mapping[str, int]) -> dict[str, list]:
    """A grid for :class:`optuna.samplers.GridSampler`: ``per_dim`` evenly spaced values per range (log-spaced
    for log ranges, rounded and de-duplicated for ints), every value of a Choice."""
    grid = {}
    for name, spec in space.items():
        k = per_dim[name] if isinstance(per_dim, Mapping) else per_dim
        if k < 1:
            raise ValueError(f"per_dim for {name!r} must be >= 1 (got {k})")
        if isinstance(spec, Choice):
            grid[name] = list(spec.choices)
            continue
        lo, hi = float(spec.low), float(spec.high)
        if k == 1:
            ts = [0.5]
        else:
            ts = [i / (k - 1) for i in range(k)]
        if spec.log:
            vals = [math.exp(math.log(lo) + t * (math.log(hi) - math.log(lo))) for t in ts]
        else:
            vals = [lo + t * (hi - lo) for t in ts]
        vals = [min(max(v, lo), hi) for v in vals]  # exp(log(x)) can land a rounding error outside
        if isinstance(spec, IntRange):
            vals = sorted({int(round(v)) for v in vals})
        grid[name] = vals
    return grid


# ------------------------------------------------------------------------------------ samplers
def make_sampler(name: str, *, seed: int | None = 0, space: Space | None = None, grid_per_dim: int = 3,
                 n_startup_trials: int = 5):
    """``grid`` (needs ``space``), ``random``, ``tpe`` or ``gp``. ``n_startup_trials``: random trials before
    TPE/GP start modelling."""
    optuna = require_optuna()
    if name == "grid":
        if space is None:
            raise ValueError("the grid sampler needs the search space")
        return optuna.samplers.GridSampler(grid_points(space, grid_per_dim), seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup_trials)
    raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)} (got {name!r})")


def make_pruner(name: str = "median", *, n_startup_trials: int = 3, n_warmup_steps: int = 1):
    """``median`` (stop below the median of earlier trials at the same step) or ``none``."""
    optuna = require_optuna()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials, n_warmup_steps=n_warmup_steps)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruner must be 'median' or 'none' (got {name!r})")


# ------------------------------------------------------------------------------------- storage
def sqlite_url(path: str | os.PathLike) -> str:
    """``sqlite:///<absolute path>`` (the file and its folder are created on first use)."""
    p = Path(path).resolve()
    p.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{p}"


def _storage(url: str, heartbeat: int | None):
    optuna = require_optuna()
    if url.startswith("sqlite"):
        # several processes write one SQLite file: wait for the lock instead of failing at once
        kw = {"connect_args": {"timeout": 60}}
        return optuna.storages.RDBStorage(url, engine_kwargs=kw, heartbeat_interval=heartbeat,
                                          grace_period=2 * heartbeat if heartbeat else None)
    return url


def open_study(name: str, storage: str, *, direction: str = "maximize", sampler=None, pruner=None,
               heartbeat: int | None = 2):
    """Create the study, or load it when ``storage`` already holds one of that name (resume).

    ``heartbeat``: seconds between a running trial's heartbeats; a trial silent for twice that long belongs
    to a dead process and is marked FAIL by :func:`optimize`."""
    optuna = require_optuna()
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be maximize or minimize (got {direction!r})")
    return optuna.create_study(study_name=name, storage=_storage(storage, heartbeat), direction=direction,
                               sampler=sampler, pruner=pruner, load_if_exists=True)


def finished_trials(study) -> list:
    """Trials that completed or were pruned (both count towards the budget)."""
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False) if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]

_OWNER = "owner"


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def fail_dead_trials(study, *, orphan_after_s: float = 60.0) -> list[int]:
    """Mark FAIL the RUNNING trials whose worker is dead, including those killed before their first
    heartbeat (which Optuna's ``fail_stale_trials`` cannot see). A trial is dead when its ``owner``
    attribute (``host:pid``, set by :func:`optimize` as the trial's first action) names this host and a pid
    that no longer exists, or when it has no owner and started more than ``orphan_after_s`` seconds ago
    (the worker died between creating the trial and tagging it). Trials of other hosts are left to the
    heartbeat check. Returns the numbers of the trials failed."""
    import datetime as _dt

    from optuna.trial import TrialState

    host, failed = socket.gethostname(), []
    now = _dt.datetime.now()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = t.user_attrs.get(_OWNER)
        if owner is None:
            started = t.datetime_start
            dead = started is not None and (now - started).total_seconds() > orphan_after_s
        else:
            h, _, pid = str(owner).rpartition(":")
            dead = h == host and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid))
        if dead and study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
            failed.append(t.number)
    return failed


def optimize(study, objective: Callable, n_trials: int, *, timeout: float | None = None) -> int:
    """Run trials until the study holds ``n_trials`` finished ones in total (whoever ran them): a resumed
    or shared study stops at the same budget. Stale RUNNING trials of dead workers are failed first.
    Returns the number of trials this call ran."""
    optuna = require_optuna()
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1 (got {n_trials})")
    optuna.storages.fail_stale_trials(study)
    fail_dead_trials(study)
    before = len(study.get_trials(deepcopy=False))
    remaining = n_trials - len(finished_trials(study))
    if remaining <= 0:
        return 0
    cb = MaxTrialsCallback(n_trials, states=(TrialState.COMPLETE, TrialState.PRUNED))

    def owned(trial):
        trial.set_user_attr(_OWNER, _owner())  # first thing: a kill after this is always recognisable
        return objective(trial)

    study.optimize(owned, n_trials=remaining, timeout=timeout, callbacks=[cb], catch=())
    return len(study.get_trials(deepcopy=False)) - before


def best_so_far(values: Sequence[float], maximize: bool = True) -> list[float]:
    """Running best of a sequence of trial values (NaN for pruned/failed entries is skipped)."""
    out, best = [], None
    for v in values:
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            best = v if best is None else (max(best, v) if maximize else min(best, v))
        out.append(float("nan") if best is None else best)
    return out


# ------------------------------------------------------------------------------------- workers
def _load_callable(spec: str) -> Callable:
    if ":" not in spec:
        raise ValueError(f"objective must be 'module:function' (got {spec!r})")
    mod, fn = spec.split(":", 1)
    return getattr(importlib.import_module(mod), fn)


def worker_command(storage: str, study: str, objective: str, n_trials: int, *, sampler: str = "tpe", seed: int = 0,
                   kwargs: Mapping[str, Any] | None = None, direction: str = "maximize", pruner: str = "median",
                   heartbeat: int = 2) -> list[str]:
    """The command line of one worker process (``python -m deepcourse.optimization.hpo``)."""
    return [sys.executable, "-m", "deepcourse.optimization.hpo", "--storage", storage, "--study", study,
            "--objective", objective, "--trials", str(n_trials), "--sampler", sampler, "--seed", str(seed),
            "--direction", direction, "--pruner", pruner, "--kwargs", json.dumps(dict(kwargs or {})),
            "--heartbeat", str(heartbeat)]


def worker_env() -> dict[str, str]:
    """The environment of a worker: ours, with this checkout's ``src`` first on PYTHONPATH."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
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


def main(argv: Sequence[str] | None = None) -> int:
    """One worker: open (or create) the study and run trials until it holds ``--trials`` finished ones."""
    p = argparse.ArgumentParser(prog="python -m deepcourse.optimization.hpo", description=main.__doc__)
    p.add_argument("--storage", required=True, help="e.g. sqlite:////tmp/study.db")
    p.add_argument("--study", required=True)
    p.add_argument("--objective", required=True, help="module:factory; factory(**kwargs) -> (objective, space)")
    p.add_argument("--trials", type=int, required=True, help="total finished trials the study should reach")
    p.add_argument("--sampler", default="tpe", choices=SAMPLERS)
    p.add_argument("--pruner", default="median", choices=("median", "none"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--direction", default="maximize", choices=("maximize", "minimize"))
    p.add_argument("--kwargs", default="{}", help="JSON keyword arguments of the factory")
    p.add_argument("--heartbeat", type=int, default=2, help="seconds between heartbeats of a running trial")
    a = p.parse_args(argv)
    objective, space = _load_callable(a.objective)(**json.loads(a.kwargs))
    study = open_study(a.study, a.storage, direction=a.direction, pruner=make_pruner(a.pruner),
                       heartbeat=a.heartbeat)
    # a worker joining (or resuming) a study must not replay the random draws of the first one
    study.sampler = make_sampler(a.sampler, seed=a.seed + len(study.get_trials(deepcopy=False)), space=space)
    optimize(study, objective, a.trials)
    return 0


# ------------------------------------------------------------------------- grid vs random toy
def _toy(x: float, y: float) -> float:
    """Bergstra & Bengio (2012) Figure 1: f(x, y) = g(x) + h(y) with g important (a narrow bump) and h
    nearly flat. Maximum near x = 0.63, nearly independent of y."""
    return math.exp(-((x - 0.63) ** 2) / (2 * 0.05 ** 2)) + 0.05 * math.sin(3 * y)


def grid_vs_random(n_trials: int = 9, seeds: Sequence[int] = range(20)) -> dict[str, float]:
    """Best value of the toy function found by a sqrt(n) x sqrt(n) grid vs n random points, and how many
    distinct values of the important parameter each tried (the grid: sqrt(n); random: n)."""
    optuna = require_optuna()
    side = int(round(math.sqrt(n_trials)))
    if side * side != n_trials:
        raise ValueError(f"n_trials must be a square (got {n_trials})")
    space = {"x": FloatRange(0.0, 1.0), "y": FloatRange(0.0, 1.0)}

    def objective(trial):
        v = suggest(trial, space)
        return _toy(v["x"], v["y"])

    res = {"grid": [], "random": []}
    distinct = {"grid": [], "random": []}
    for s in seeds:
        for name in ("grid", "random"):
            # the grid is shifted by a random offset per seed so that "grid" is not one lucky/unlucky layout
            if name == "grid":
                off = (s * 0.618034) % (1.0 / side)
                grid = {"x": [off + i / side for i in range(side)], "y": [off + i / side for i in range(side)]}
                sampler = optuna.samplers.GridSampler(grid, seed=s)
            else:
                sampler = optuna.samplers.RandomSampler(seed=s)
            study = optuna.create_study(direction="maximize", sampler=sampler)
            study.optimize(objective, n_trials=n_trials)
            res[name].append(study.best_value)
            distinct[name].append(len({round(t.params["x"], 9) for t in study.trials}))
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    return {"grid_best_mean": mean(res["grid"]), "random_best_mean": mean(res["random"]),
            "grid_distinct_x": mean(distinct["grid"]), "random_distinct_x": mean(distinct["random"]),
            "random_beats_grid_frac": mean([float(r > g) for r, g in zip(res["random"], res["grid"])])}


# ---------------------------------------------------------------------- toy objective for tests
def toy_objective_factory(sleep: float = 0.0, fail_after: int | None = None):
    """A cheap objective on two floats for tests and the worker demo: (objective, space)."""
    import time

    space = {"x": FloatRange(-3.0, 3.0), "y": FloatRange(-3.0, 3.0)}

    def objective(trial):
        v = suggest(trial, space)
        trial.set_user_attr("pid", os.getpid())
        for step in range(3):
            time.sleep(sleep / 3)
            trial.report(-(v["x"] - 1) ** 2 - (v["y"] + 0.5) ** 2 - (2 - step), step)
        return -(v["x"] - 1) ** 2 - (v["y"] + 0.5) ** 2

    return objective, space


if __name__ == "__main__":
    sys.exit(main())
