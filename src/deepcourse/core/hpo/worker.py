"""One HPO worker process: ``python -m deepcourse.core.hpo.worker --storage URL --study NAME --objective
module:factory --trials N``. It opens (or creates) the study and runs trials until the study holds ``N``
finished ones, whoever ran them; :func:`deepcourse.core.hpo.run_workers` starts several."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from .study import SAMPLERS, make_pruner, make_sampler, open_study, optimize
from .workers import load_factory

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """One worker: open (or create) the study and run trials until it holds ``--trials`` finished ones."""
    p = argparse.ArgumentParser(prog="python -m deepcourse.core.hpo.worker", description=main.__doc__)
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
    objective, space = load_factory(a.objective)(**json.loads(a.kwargs))
    study = open_study(a.study, a.storage, direction=a.direction, pruner=make_pruner(a.pruner),
                       heartbeat=a.heartbeat)
    # a worker joining (or resuming) a study must not replay the random draws of the first one
    study.sampler = make_sampler(a.sampler, seed=a.seed + len(study.get_trials(deepcopy=False)), space=space)
    optimize(study, objective, a.trials)
    return 0


if __name__ == "__main__":
    sys.exit(main())
