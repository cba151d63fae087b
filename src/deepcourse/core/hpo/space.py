"""Search spaces for hyper-parameter optimisation, declared from the bounds of a dataclass config.

:func:`space_from_config` turns some fields of a config (their ``param`` metadata: ``choices``, ``ge``/``le``)
into ranges; :func:`suggest_config` asks an Optuna trial for a value per range and returns the validated
config; :func:`grid_points` lays a grid over the same space for the grid sampler.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["FloatRange", "IntRange", "Choice", "Space", "space_from_config", "suggest", "suggest_config",
           "grid_points"]


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
    from deepcourse.core.config import validate

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
