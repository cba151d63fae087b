"""Typed dataclass configs and ``key=value`` overrides.

A config is a plain ``@dataclass`` whose fields are declared with :func:`param`, which
records the constraints a value must satisfy (bounds, choices). Overrides given on the
command line as strings are parsed to the field's declared type and validated, and every
failure raises :class:`ConfigError` with one line naming the field, the value and what is
allowed, e.g. ``lr must be > 0 (got -1)``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import MISSING, field
from typing import Any

__all__ = ["ConfigError", "param", "apply_overrides", "validate", "config_to_dict", "parse_value"]


class ConfigError(ValueError):
    """A config key is unknown, or a value has the wrong type or is out of range."""


def param(
    default: Any = MISSING,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    choices: tuple | list | None = None,
    help: str = "",
    finite: bool = True,
) -> Any:
    """A dataclass field with validation metadata.

    ``gt``/``ge``/``lt``/``le`` bound numeric values (for tuples and lists, every item);
    ``choices`` lists the allowed values. Mutable defaults (lists, dicts) are copied per
    instance. Float values (and float items) must be finite: ``nan`` and ``inf`` are refused
    unless the field says ``finite=False``.
    """
    meta = {"gt": gt, "ge": ge, "lt": lt, "le": le, "choices": tuple(choices) if choices else None, "help": help,
            "finite": finite}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


def _resolve_type(cls: type, f: dataclasses.Field) -> Any:
    hints = typing.get_type_hints(cls)
    return hints.get(f.name, f.type)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def parse_value(text: str, tp: Any, name: str) -> Any:
    """Parse the command-line string ``text`` to type ``tp`` (bool, int, float, str,
    Optional[...], tuple[...]/list[...] written as ``1,2,3``)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if text.lower() in ("none", "null", "") and len(non_none) < len(args):
            return None
        errors = []
        for a in non_none:
            try:
                return parse_value(text, a, name)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(f"{name} must be one of types {', '.join(_type_name(a) for a in non_none)} (got {text!r})")
    if origin in (tuple, list):
        parts = [p for p in text.replace("(", "").replace(")", "").split(",") if p.strip() != ""]
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            item_types = [args[0]] * len(parts)
        elif origin is tuple and args:
            if len(parts) != len(args):
                raise ConfigError(f"{name} needs {len(args)} comma-separated values (got {text!r})")
            item_types = list(args)
        else:
            item_types = [args[0] if args else str] * len(parts)
        values = [parse_value(p.strip(), t, name) for p, t in zip(parts, item_types)]
        return tuple(values) if origin is tuple else values
    if tp is bool:
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false (got {text!r})")
    if tp is int:
        try:
            f = float(text)
        except ValueError:
            raise ConfigError(f"{name} must be an integer (got {text!r})") from None
        if not f.is_integer():
            raise ConfigError(f"{name} must be an integer (got {text!r})")
        return int(f)
    if tp is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{name} must be a number (got {text!r})") from None
    if tp is str or tp is Any:
        return text
    if typing.get_origin(tp) is typing.Literal:
        for a in typing.get_args(tp):
            if str(a) == text:
                return a
        raise ConfigError(f"{name} must be one of {', '.join(map(str, typing.get_args(tp)))} (got {text!r})")
    raise ConfigError(f"{name} has type {_type_name(tp)}, which cannot be set from the command line")


def _check_bounds(name: str, value: Any, meta: dict) -> None:
    items = value if isinstance(value, (tuple, list)) else [value]
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        # a tuple/list field: every item must be one of the choices (``methods=a,b`` with choices a|b|c)
        if not isinstance(value, (tuple, list)):
            raise ConfigError(f"{name} must be one of {', '.join(map(str, choices))} (got {value!r})")
        bad = [v for v in value if v not in choices]
        if bad:
            raise ConfigError(f"{name}: {', '.join(map(repr, bad))} not among {', '.join(map(str, choices))}")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if meta.get("finite", True) and isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"{name} must be a finite number (got {value!r})")
        for key, op, ok in (
            ("gt", ">", lambda a, b: a > b),
            ("ge", ">=", lambda a, b: a >= b),
            ("lt", "<", lambda a, b: a < b),
            ("le", "<=", lambda a, b: a <= b),
        ):
            bound = meta.get(key)
            if bound is not None and not ok(v, bound):
                raise ConfigError(f"{name} must be {op} {bound} (got {value!r})")


def _check_type(name: str, value: Any, tp: Any) -> None:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(tp):
            return
        for a in typing.get_args(tp):
            if a is type(None):
                continue
            try:
                _check_type(name, value, a)
                return
            except ConfigError:
                pass
        raise ConfigError(f"{name} must be {_type_name(tp)} (got {value!r})")
    if origin in (tuple, list):
        if not isinstance(value, (tuple, list)):
            raise ConfigError(f"{name} must be a {origin.__name__} (got {value!r})")
        return
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return
    if tp in (int, str, bool) and not (isinstance(value, tp) and not (tp is int and isinstance(value, bool))):
        raise ConfigError(f"{name} must be {tp.__name__} (got {value!r})")


def validate(cfg: Any) -> Any:
    """Check every field of the dataclass ``cfg`` against its type and constraints."""
    if not dataclasses.is_dataclass(cfg):
        raise TypeError(f"config must be a dataclass instance, got {type(cfg).__name__}")
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        _check_type(f.name, value, _resolve_type(type(cfg), f))
        _check_bounds(f.name, value, dict(f.metadata))
    post = getattr(cfg, "check", None)
    if callable(post):  # cross-field checks: a config may define check() raising ConfigError
        post()
    return cfg


def apply_overrides(cfg: Any, overrides: dict[str, str] | list[str]) -> Any:
    """Return a copy of ``cfg`` with ``key=value`` overrides applied and validated."""
    if isinstance(overrides, list):
        pairs = {}
        for item in overrides:
            if "=" not in item:
                raise ConfigError(f"override {item!r} must look like key=value")
            k, v = item.split("=", 1)
            k = k.strip()
            if k in pairs:
                raise ConfigError(f"{k} is given twice ({k}={pairs[k]}, {k}={v}); give each key once")
            pairs[k] = v
        overrides = pairs
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    changes = {}
    for key, text in overrides.items():
        if key not in fields:
            raise ConfigError(f"unknown config key {key!r}; allowed keys: {', '.join(sorted(fields))}")
        tp = _resolve_type(type(cfg), fields[key])
        changes[key] = parse_value(text, tp, key) if isinstance(text, str) else text
    return validate(dataclasses.replace(cfg, **changes))


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-safe dict of the config's fields."""
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def describe(cfg_cls_or_obj: Any) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, help/constraints) rows, for ``deepcourse run NAME --help``."""
    rows = []
    obj = cfg_cls_or_obj
    cls = obj if isinstance(obj, type) else type(obj)
    for f in dataclasses.fields(cls):
        meta = dict(f.metadata)
        cons = [f"{op} {meta[k]}" for k, op in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")) if meta.get(k) is not None]
        if meta.get("choices"):
            cons.append("one of " + "|".join(map(str, meta["choices"])))
        if meta.get("finite") is False:
            cons.append("nan/inf allowed")
        value = getattr(obj, f.name) if not isinstance(obj, type) else f.default
        text = meta.get("help", "") + (f" ({', '.join(cons)})" if cons else "")
        rows.append((f.name, _type_name(_resolve_type(cls, f)), value, text.strip()))
    return rows
