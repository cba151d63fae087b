"""Hyper-parameter optimisation with Optuna (Akiba et al. 2019), for any experiment of the course.

* :mod:`.space`: search spaces declared from a dataclass config's ``param`` bounds, suggested configs
  validated by the config's own rules, and grids over the same space.
* :mod:`.study`: the grid, random, TPE and GP samplers, the median pruner, SQLite storage, studies that
  resume after their process is killed, and the best-so-far curve.
* :mod:`.workers` and :mod:`.worker`: several processes sharing one study.

An objective is built by a factory ``factory(**kwargs) -> (objective(trial) -> float, space)`` that worker
processes import by name (``"package.module:factory"``), so each builds its own data and models.
Optuna is an optional dependency (the ``hpo`` extra); it is imported when a study is made.
"""

from .space import Choice, FloatRange, IntRange, Space, grid_points, space_from_config, suggest, suggest_config
from .study import (SAMPLERS, best_so_far, fail_dead_trials, finished_trials, make_pruner, make_sampler, open_study,
                    optimize, require_optuna, sqlite_url, storage_label)
from .workers import load_factory, run_workers, worker_command, worker_env

__all__ = [
    "Choice", "FloatRange", "IntRange", "Space", "grid_points", "space_from_config", "suggest", "suggest_config",
    "SAMPLERS", "best_so_far", "fail_dead_trials", "finished_trials", "make_pruner", "make_sampler", "open_study",
    "optimize", "require_optuna", "sqlite_url", "storage_label",
    "load_factory", "run_workers", "worker_command", "worker_env",
]
