"""Optuna studies: samplers, pruners, SQLite storage, resuming after a kill, and the best-so-far curve.

* Grid and random search (Bergstra & Bengio 2012, "Random Search for Hyper-Parameter Optimization").
* TPE (Bergstra, Bardenet, Bengio & Kegl 2011, "Algorithms for Hyper-Parameter Optimization", sec. 4):
  split the trials at a quantile of the objective into "good" and "bad", fit a Parzen density to each,
  l(x) and g(x), and sample where l(x) / g(x) is largest (the expected improvement, eq. 4-6).
* GP: Bayesian optimisation with a Gaussian-process surrogate and an acquisition function (Optuna's
  ``GPSampler``, after Snoek, Larochelle & Adams 2012).
* The median pruner stops a trial whose intermediate value at step t is worse than the median of the
  other trials' values at t (Golovin et al. 2017, "Google Vizier", sec. 3.2.2).

Storage: a study lives in an SQLite file (:func:`sqlite_url`). A process can die at any point: the trials
it finished are committed; the trial it was running stays RUNNING until :func:`optimize` marks it FAIL. A
dead worker is recognised in two ways: its heartbeat stopped (Optuna's own check, any host), or the trial's
``owner`` attribute names a process on this host that no longer exists, which also covers a kill that
lands before the first heartbeat (:func:`fail_dead_trials`). Re-running continues to the same total number
of finished trials.
"""

from __future__ import annotations

import math
import os
import socket
import warnings
from pathlib import Path
from typing import Callable, Sequence

from .space import Space, grid_points

__all__ = ["SAMPLERS", "require_optuna", "make_sampler", "make_pruner", "sqlite_url", "storage_label", "open_study",
           "finished_trials", "fail_dead_trials", "optimize", "best_so_far"]

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
    """``sqlite:///<absolute path>`` (the folder is created now, the file on first use). The URL is absolute so
    that worker processes started elsewhere open the same file; record :func:`storage_label` instead."""
    p = Path(path).resolve()
    p.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{p}"


def storage_label(url: str, base: str | os.PathLike) -> str:
    """How a run records its storage: an SQLite file inside ``base`` (the run folder) as a path relative to
    it, e.g. ``study.db``, so that a recorded result holds no path of the machine that made it. Any other
    URL is returned unchanged."""
    prefix = "sqlite:///"
    if url.startswith(prefix):
        p, root = Path(url[len(prefix):]), Path(base).resolve()
        if p.is_relative_to(root):
            return p.relative_to(root).as_posix()
    return url


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
