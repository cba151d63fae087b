"""Hyper-parameter optimisation (Bergstra & Bengio 2012; Bergstra et al. 2011; Akiba et al. 2019): grid,
random, TPE and GP search over an MLP's learning rate, width, depth, dropout and weight decay with the
median pruner, in studies stored in the run folder (a killed run resumes), optionally shared by workers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from deepcourse.core import Reference, Run, experiment, param
from deepcourse.core.hpo import (SAMPLERS, best_so_far, finished_trials, make_pruner, make_sampler, open_study,
                                 optimize, require_optuna, run_workers, sqlite_url, storage_label)

from ..tuning import best_so_far_figure, grid_vs_random, grid_vs_random_figure, mlp_objective_factory


@dataclass
class HPOConfig:
    dataset: str = param("fashion-mnist", choices=("fashion-mnist", "mnist"))
    subset: int | None = param(1000, ge=100, help="training images per trial (fixed subset; None: all)")
    test_subset: int | None = param(1000, ge=100, help="test images (None: the whole test split)")
    samplers: tuple[str, ...] = param(("grid", "random", "tpe"), choices=SAMPLERS,
                                      help="grid, random, tpe, gp (the GP sampler costs seconds per trial)")
    trials: int = param(8, ge=2, help="finished trials per study")
    seeds: int = param(1, ge=1, help="studies per sampler (curves are averaged)")
    epochs: int = param(3, ge=1, help="epochs per trial (one pruner step each)")
    batch_size: int = param(64, ge=1)
    startup_trials: int = param(3, ge=1, help="random trials before TPE/GP model the objective")
    grid_per_dim: int = param(3, ge=2)
    pruner: str = param("median", choices=("median", "none"))
    workers: int = param(0, ge=0, help=">= 2: also run one TPE study shared by this many worker processes")
    toy_seeds: int = param(20, ge=1, help="repetitions of the grid-vs-random illustration")


@experiment(
    name="hpo", module="9", title="Hyper-parameter optimisation: grid vs random vs TPE vs GP (Optuna)",
    paper=Reference("Bergstra & Bengio 2012 (random beats grid when few parameters matter); Bergstra et al. 2011 "
                    "(TPE); Akiba et al. 2019 (Optuna)", {}),
    quick=HPOConfig(),
    full=HPOConfig(subset=10_000, test_subset=None, samplers=SAMPLERS, trials=30, seeds=2, epochs=4, batch_size=128,
                   startup_trials=8, workers=2),
    # seeds 0-4, threads 1 and 2: best - median trial 0.0675..0.1625, TPE's best validation accuracy 0.705..0.745
    # (800 training images, 3 epochs); the toy is deterministic: random - grid 0.243, 9 distinct x. With the
    # sampled values ignored (every trial trains the default config) best - median is 0.0125..0.035.
    floor={"best_minus_median": 0.05, "tpe_best_val": 0.6, "random_minus_grid_toy": 0.05,
           "random_distinct_x_toy": 9.0},
    primary="tpe_best_val", threads=1,
)
def hpo(cfg: HPOConfig, run: Run) -> dict[str, float]:
    """Tune an MLP with each sampler and the median pruner (SQLite storage in the run folder: a killed run
    resumes with --resume); plot best-so-far vs trials; the grid-vs-random toy with one important and one
    unimportant parameter."""
    optuna = require_optuna()
    db = run.out / "study.db"
    if not run.resume and db.exists():
        db.unlink()  # a fresh run starts fresh studies; --resume continues the ones on disk
    storage = sqlite_url(db)  # absolute, for the workers; the table records it relative to the run folder
    kw = dict(dataset=cfg.dataset, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=run.seed_for("trials") % 2**31,
              data_root=str(run.data_root) if run.data_root else None, subset=cfg.subset,
              test_subset=cfg.test_subset, threads=torch.get_num_threads())
    objective, space = mlp_objective_factory(**kw)
    m, curves, rows, values = {}, {}, [], []
    for name in cfg.samplers:
        studies = []
        for s in range(cfg.seeds):
            study = open_study(f"{name}-seed{run.seed}-{s}", storage, pruner=make_pruner(cfg.pruner))
            seed = run.seed_for(f"{name}{s}") % 2**31 + len(study.trials)  # a resumed study draws new points
            study.sampler = make_sampler(name, seed=seed, space=space, grid_per_dim=cfg.grid_per_dim,
                                         n_startup_trials=cfg.startup_trials)
            optimize(study, objective, cfg.trials)
            studies.append(finished_trials(study))
        complete = [[t for t in done if t.state == optuna.trial.TrialState.COMPLETE] for done in studies]
        curves[name] = [best_so_far([t.value for t in done])[:cfg.trials] for done in studies]
        best = [max(c, key=lambda t: t.value) for c in complete]
        values += [t.value for c in complete for t in c]
        rows.append({"sampler": name, "best val acc": np.mean([t.value for t in best]),
                     "test acc of best": np.mean([t.user_attrs["test_acc"] for t in best]),
                     "median trial val": np.mean([np.median([t.value for t in c]) for c in complete]),
                     "pruned": np.mean([1 - len(c) / len(d) for c, d in zip(complete, studies)])})
        m.update({f"{name}_{k}": float(rows[-1][col]) for k, col in (("best_val", "best val acc"), (
            "best_test", "test acc of best"), ("median_val", "median trial val"), ("pruned_frac", "pruned"))})
    m["median_trial_val"] = float(np.median(values))
    m["best_minus_median"] = max(m[f"{n}_best_val"] for n in cfg.samplers) - m["median_trial_val"]
    if cfg.workers >= 2:
        codes = run_workers(cfg.workers, storage, "tpe-shared", f"{mlp_objective_factory.__module__}:"
                            "mlp_objective_factory", cfg.trials, sampler="tpe", seed=run.seed, kwargs=kw,
                            pruner=cfg.pruner)
        done = finished_trials(optuna.load_study(study_name="tpe-shared", storage=storage))
        m.update(shared_workers_ok=float(all(c == 0 for c in codes)), shared_trials=float(len(done)),
                 shared_distinct_pids=float(len({t.user_attrs.get("pid") for t in done} - {None})),
                 shared_best_val=max(t.value for t in done if t.value is not None))
    toy = grid_vs_random(9, range(cfg.toy_seeds))
    m.update(grid_best_toy=toy["grid_best_mean"], random_best_toy=toy["random_best_mean"],
             random_minus_grid_toy=toy["random_best_mean"] - toy["grid_best_mean"],
             grid_distinct_x_toy=toy["grid_distinct_x"], random_distinct_x_toy=toy["random_distinct_x"])
    run.table(rows, f"HPO on {cfg.dataset}: {cfg.trials} trials x {cfg.seeds} study(ies) per sampler, pruner "
                    f"{cfg.pruner}; storage {storage_label(storage, run.out)} (SQLite, in the run folder)")
    run.table([{"search": k, "best value (mean)": toy[f"{k}_best_mean"], "distinct x tried": toy[f"{k}_distinct_x"]}
               for k in ("grid", "random")],
              f"Grid vs random, 9 trials on a narrow bump in x ({cfg.toy_seeds} repeats)")
    run.save_figure("best_so_far", best_so_far_figure(curves, cfg.trials))
    run.save_figure("grid_vs_random", grid_vs_random_figure())
    return m
