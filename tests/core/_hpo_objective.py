"""A cheap HPO objective for the tests: worker processes import it by name (not part of the package)."""

from __future__ import annotations

import os
import time

from deepcourse.core.hpo import FloatRange, suggest


def toy_objective_factory(sleep: float = 0.0):
    """``(objective, space)``: minus a quadratic bowl in two floats, reported over three steps (each
    ``sleep / 3`` seconds long) so that the pruner and a kill in the middle of a trial can be tested."""
    space = {"x": FloatRange(-3.0, 3.0), "y": FloatRange(-3.0, 3.0)}

    def objective(trial):
        v = suggest(trial, space)
        trial.set_user_attr("pid", os.getpid())
        for step in range(3):
            time.sleep(sleep / 3)
            trial.report(-(v["x"] - 1) ** 2 - (v["y"] + 0.5) ** 2 - (2 - step), step)
        return -(v["x"] - 1) ** 2 - (v["y"] + 0.5) ** 2

    return objective, space
