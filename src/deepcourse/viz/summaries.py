"""Run summaries for the report: reading ``summary.json`` files and formatting their values.

Input is the ``summary.json`` each run writes (schema in CONTRIBUTING.md). :func:`load_runs` reads
them from run folders, from a ``runs/`` tree (any depth) or from a ``results/`` folder holding
``<experiment>.json`` summaries. The ``format_*`` helpers print numbers, durations and floors the same
way in the HTML page, the README table and the CLI; a value a run did not produce prints as an em dash.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MISSING",
    "STATUSES",
    "RunSummary",
    "load_runs",
    "coerce_runs",
    "group_by_module",
    "module_sort_key",
    "format_number",
    "format_duration",
    "format_floor",
    "hardware_text",
    "short_commit",
]

MISSING = "\u2014"  # em dash for values a run did not produce
STATUSES = ("passed", "failed", "error", "skipped", "done")


@dataclass
class RunSummary:
    """One run's ``summary.json`` contents plus where it came from.

    ``root`` is the folder that the summary's relative ``figures`` paths are resolved against (the run
    folder); ``None`` for summaries given as dicts, whose relative figures resolve against the
    current directory.
    """

    data: dict[str, Any]
    root: Path | None = None
    source: Path | None = None

    @property
    def experiment(self) -> str:
        return str(self.data.get("experiment", MISSING))

    @property
    def module(self) -> str:
        module = self.data.get("module")
        return MISSING if module is None else str(module)

    @property
    def status(self) -> str:
        return str(self.data.get("status") or "unknown")

    @property
    def primary(self) -> str | None:
        primary = self.data.get("primary")
        if primary:
            return str(primary)
        metrics = self.data.get("metrics") or {}
        return str(next(iter(metrics))) if isinstance(metrics, Mapping) and metrics else None

    def metric(self, name: str | None) -> Any:
        metrics = self.data.get("metrics") or {}
        return metrics.get(name) if name is not None and isinstance(metrics, Mapping) else None

    def paper_value(self, name: str | None) -> Any:
        """The paper's number for our metric ``name``: from the experiment's current ``Reference.values``
        when it is registered (the one place that decides which paper numbers are comparable), else from
        the recorded summary."""
        values = _registered_paper_values(self.experiment)
        if values is None:
            paper = self.data.get("paper") or {}
            values = paper.get("values") if isinstance(paper, Mapping) else None
        return values.get(name) if name is not None and isinstance(values, Mapping) else None

    def floor(self, name: str | None) -> Any:
        floors = self.data.get("floor") or {}
        return floors.get(name) if name is not None and isinstance(floors, Mapping) else None

    def figure_paths(self) -> list[Path]:
        figures = self.data.get("figures") or []
        if not isinstance(figures, list):
            return []
        out = []
        for fig in figures:
            p = Path(str(fig))
            if not p.is_absolute() and self.root is not None:
                p = self.root / p
            out.append(p)
        return out


# ----------------------------------------------------------------------------------------- loading

def _read_summary(path: Path) -> RunSummary | None:
    """Parse one summary file; warn and return None when it is not a usable summary."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        warnings.warn(f"skipping {path}: not valid JSON ({err})", stacklevel=3)
        return None
    except OSError as err:
        warnings.warn(f"skipping {path}: cannot be read ({err})", stacklevel=3)
        return None
    if not isinstance(data, dict) or "experiment" not in data:
        warnings.warn(f"skipping {path}: not a run summary (no 'experiment' key)", stacklevel=3)
        return None
    root = path.parent
    run_dir = data.get("run_dir")
    if path.name != "summary.json" and run_dir and Path(run_dir).is_dir():
        root = Path(run_dir)  # a results/<name>.json record: its figures live in the run folder, if still here
    return RunSummary(data=data, root=root, source=path)


def _started(run: RunSummary) -> str:
    return str(run.data.get("started") or "")


def load_runs(paths: str | Path | Iterable[str | Path], latest: bool = False) -> list[RunSummary]:
    """Read run summaries from files and folders, in a deterministic order.

    Each path may be:
      - a ``summary.json`` or ``<experiment>.json`` file;
      - a run folder holding ``summary.json``;
      - a ``runs/`` folder: every ``summary.json`` below it, at any depth;
      - a ``results/`` folder: every ``*.json`` directly inside it that is a summary.
    Files that are not valid JSON, or JSON without an ``experiment`` key, are skipped with a
    warning. A path that does not exist raises ``FileNotFoundError``.
    ``latest=True`` keeps only the newest run (by ``started``) of each (experiment, preset).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            if (p / "summary.json").is_file():
                files.append(p / "summary.json")
                continue
            nested = sorted(p.rglob("summary.json"))
            direct = sorted(f for f in p.glob("*.json") if f.is_file())
            files.extend(direct + nested)
        else:
            raise FileNotFoundError(
                f"runs path {str(p)!r} does not exist: pass run folders, a runs/ folder, a results/ "
                "folder or summary .json files"
            )
    runs: list[RunSummary] = []
    seen: set[Path] = set()
    for f in files:
        key = f.resolve()
        if key in seen:
            continue
        seen.add(key)
        run = _read_summary(f)
        if run is not None:
            runs.append(run)
    if latest:
        best: dict[tuple[str, str], RunSummary] = {}
        for run in runs:
            k = (run.experiment, str(run.data.get("preset")))
            if k not in best or _started(run) >= _started(best[k]):
                best[k] = run
        keep = {id(r) for r in best.values()}
        runs = [r for r in runs if id(r) in keep]
    return runs


def coerce_runs(runs: Any) -> list[RunSummary]:
    """Accept RunSummary objects, summary dicts, paths, or a mix; paths go through load_runs."""
    if isinstance(runs, (str, Path, Mapping, RunSummary)):
        runs = [runs]
    try:
        items = list(runs)
    except TypeError as err:
        raise TypeError(
            f"runs must be a list of run folders, summary paths or summary dicts, got {type(runs).__name__}"
        ) from err
    out: list[RunSummary] = []
    for item in items:
        if isinstance(item, RunSummary):
            out.append(item)
        elif isinstance(item, Mapping):
            if "experiment" not in item:
                raise ValueError(f"summary dict has no 'experiment' key: keys are {sorted(item)}")
            out.append(RunSummary(data=dict(item)))
        elif isinstance(item, (str, Path)):
            out.extend(load_runs([item]))
        else:
            raise TypeError(
                f"each run must be a path, a summary dict or a RunSummary, got {type(item).__name__}"
            )
    return out


# -------------------------------------------------------------------------------------- formatting

def module_sort_key(module: Any) -> tuple:
    """Sort key ordering course modules numerically by parts: "0.1" < "1.1" < "2" < "9" < "10".

    Non-numeric module names sort after all numeric ones, alphabetically.
    """
    text = str(module).strip()
    if re.fullmatch(r"\d+(\.\d+)*", text):
        return (0, tuple(int(part) for part in text.split(".")), "")
    return (1, (), text)


def format_number(value: Any) -> str:
    """About 4 significant digits, no scientific notation for everyday magnitudes, em dash if missing.

    ``0.98234 -> "0.9823"``, ``1.0 -> "1"``, ``12.3456 -> "12.35"``, ``60000 -> "60000"``,
    ``123456.7 -> "123457"``, ``1.2e-05 -> "1.200e-05"``; ``None``/NaN -> "—"; strings pass through.
    """
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value if value else MISSING
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return MISSING
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    a = abs(v)
    if v == int(v) and a < 1e15:
        return str(int(v))
    if 1e-3 <= a < 1e4:
        return f"{v:.4g}"
    if 1e4 <= a < 1e12:
        return f"{v:.0f}"
    return f"{v:.3e}"


def format_duration(seconds: Any) -> str:
    """``3.24 -> "3.2 s"``, ``125 -> "2 min 5 s"``, ``3725 -> "1 h 2 min"``; em dash if missing."""
    if seconds is None:
        return MISSING
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return MISSING
    if math.isnan(s) or s < 0:
        return MISSING
    if s < 10:
        return f"{s:.1f} s"
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        m, rest = divmod(int(round(s)), 60)
        return f"{m} min {rest} s"
    h, rest = divmod(int(round(s)), 3600)
    return f"{h} h {rest // 60} min"


def format_floor(floor: Any) -> str:
    """``{"op": ">=", "value": 0.95}`` -> "≥ 0.95"; a plain number means "at least"."""
    if floor is None:
        return MISSING
    if isinstance(floor, Mapping):
        op = str(floor.get("op", ">="))
        symbol = {">=": "\u2265", "<=": "\u2264", ">": ">", "<": "<", "==": "="}.get(op, op)
        return f"{symbol} {format_number(floor.get('value'))}"
    return f"\u2265 {format_number(floor)}"


def hardware_text(hw: Any) -> str:
    if not isinstance(hw, Mapping):
        return MISSING if hw in (None, "") else str(hw)
    gpu, cpu, device = hw.get("gpu"), hw.get("cpu"), hw.get("device")
    name = gpu or cpu
    if name and device:
        return f"{name} ({device})"
    return str(name or device or MISSING)


def short_commit(commit: Any) -> str:
    if not commit:
        return MISSING
    text = str(commit)
    dirty = text.endswith("-dirty") or text.endswith("+dirty")
    core = text[:-6] if dirty else text
    short = core[:7] if re.fullmatch(r"[0-9a-fA-F]{8,}", core) else core
    return short + ("-dirty" if dirty else "")


def group_by_module(runs: list[RunSummary]) -> list[tuple[str, list[RunSummary]]]:
    """Modules in course order; runs keep their input order within a module (e.g. registry order)."""
    groups: dict[str, list[RunSummary]] = {}
    for run in runs:
        groups.setdefault(run.module, []).append(run)
    return sorted(groups.items(), key=lambda kv: module_sort_key(kv[0]))


def _registered_paper_values(name: Any) -> Mapping[str, Any] | None:
    """``Reference.values`` of the registered experiment ``name``, or None if there is none."""
    from deepcourse.core.registry import discover, get

    if not isinstance(name, str):
        return None
    discover()
    try:
        return dict(get(name).paper.values)
    except KeyError:
        return None
