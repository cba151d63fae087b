"""Module 9 experiments. The registry imports this module; it imports the two halves of the toolbox's
experiments (``experiments_a``: distillation, mean teacher, mixup, SWA, SVD; ``experiments_b``:
quantisation, pruning, clustering, lottery ticket, HPO). A half that does not exist yet is skipped."""

from __future__ import annotations

import importlib

for _name in ("experiments_a", "experiments_b"):
    try:
        importlib.import_module(f"{__package__}.{_name}")
    except ModuleNotFoundError as _e:
        if _e.name != f"{__package__}.{_name}":
            raise
