"""The experiment registry: ``@experiment`` and the runner that turns one into a recorded run.

Each headline result of the course is a function ``fn(cfg, run) -> dict[str, float]``
registered with two presets: ``quick`` (seconds on a laptop CPU, offline data, its
``floor`` asserted by the tests) and ``full`` (the paper's recipe). The runner resolves
the config, seeds everything, calls the function, checks the floor and writes
``summary.json`` beside the run's metrics, checkpoints and figures.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import math
import pkgutil
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .config import ConfigError, apply_overrides, config_to_dict, validate

__all__ = [
    "Reference",
    "Bound",
    "at_least",
    "at_most",
    "Experiment",
    "experiment",
    "get",
    "all_experiments",
    "discover",
    "run_experiment",
    "module_key",
    "RunInterrupted",
    "resume_command",
]


@dataclass(frozen=True)
class Reference:
    """Where the paper's (or the notes') numbers come from, and the numbers themselves.

    ``values``: the paper's numbers for OUR metrics (same quantity, same data, same protocol): the README
    sets them beside ours. ``context``: other numbers of the paper worth showing, labelled for what they
    are (e.g. ``{"FCN score, Cityscapes labels->photo (Table 1)": 0.52}``); they never stand beside ours
    in the results table, only in the experiment's own table (``run.table``) and its summary."""

    source: str
    values: dict[str, float] = field(default_factory=dict)
    context: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Bound:
    """A floor on one metric: ``op`` is ``">="`` (higher is better) or ``"<="``."""

    op: str
    value: float

    def holds(self, x: float) -> bool:
        if x is None or not math.isfinite(x):
            return False
        return x >= self.value if self.op == ">=" else x <= self.value

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


def at_least(value: float) -> Bound:
    return Bound(">=", float(value))


def at_most(value: float) -> Bound:
    return Bound("<=", float(value))


@dataclass
class Experiment:
    name: str
    module: str
    title: str
    fn: Callable[[Any, Any], dict]
    quick: Any
    full: Any
    paper: Reference
    floor: dict[str, Bound]
    primary: str
    description: str = ""
    showcase: tuple[str, ...] = ()
    threads: int | None = None  # default torch intra-op threads for this experiment (``--threads`` overrides)
    slow: bool = False  # quick preset cannot fit ~20 s: the tour and the normal suite skip it
    source: str = ""  # the file that defines it, relative to the package (``deepcourse list`` shows it)

    def config(self, preset: str = "quick", overrides: dict | list | None = None) -> Any:
        if preset not in ("quick", "full"):
            raise ConfigError(f"preset must be quick or full (got {preset!r})")
        cfg = copy.deepcopy(self.quick if preset == "quick" else self.full)
        return apply_overrides(cfg, overrides or {})


_REGISTRY: dict[str, Experiment] = {}


def module_key(module: str) -> tuple:
    """Sort key for course modules: "0.1" < "1.1" < "2" < "10"."""
    return tuple(int(p) if p.isdigit() else p for p in str(module).split("."))


def experiment(
    *,
    name: str,
    module: str | int | float,
    title: str,
    quick: Any,
    full: Any,
    paper: Reference | None = None,
    floor: dict[str, float | Bound] | None = None,
    primary: str | None = None,
    showcase: tuple[str, ...] | list[str] = (),
    threads: int | None = None,
    slow: bool = False,
) -> Callable:
    """Register ``fn(cfg, run) -> dict[str, float]`` as an experiment (see CONTRIBUTING.md).

    ``showcase``: names of figures (``run.save_figure(name, ...)``) that the README shows; ``--record``
    copies them from the full run into ``docs/figures/`` next to the results file.
    ``threads``: the torch intra-op thread count the run uses unless ``deepcourse run --threads N`` says
    otherwise (tiny models run faster on one thread). A runtime setting, never part of the config.
    ``slow``: the quick preset cannot fit the ~20 s budget; the tour and the normal test suite skip it
    (``make test-slow`` still runs it)."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"experiment {name!r}: threads must be an int >= 1 or None (got {threads!r})")
    for label, cfg in (("quick", quick), ("full", full)):
        if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
            raise TypeError(f"experiment {name!r}: {label} must be a dataclass config instance")
        validate(cfg)
    if type(quick) is not type(full):
        raise TypeError(f"experiment {name!r}: quick and full must be the same config class")
    bounds = {k: v if isinstance(v, Bound) else at_least(v) for k, v in (floor or {}).items()}
    primary = primary or (next(iter(bounds)) if bounds else None)
    if primary is None:
        raise ValueError(f"experiment {name!r}: give a floor or a primary metric")

    def register(fn: Callable) -> Callable:
        if name in _REGISTRY and _REGISTRY[name].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"experiment {name!r} is registered twice")
        _REGISTRY[name] = Experiment(
            name=name,
            module=str(module),
            title=title,
            fn=fn,
            quick=quick,
            full=full,
            paper=paper or Reference("", {}),
            floor=bounds,
            primary=primary,
            description=(fn.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
            showcase=tuple(showcase),
            threads=threads,
            slow=bool(slow),
            source=_source_of(fn),
        )
        return fn

    return register


def record_result(exp: Experiment, summary: dict, out: Path, root: Path | None = None) -> Path:
    """Write ``results/NAME.json`` for a finished full run: the summary, the run folder, the run's
    ``table.md`` (if it wrote one) and copies of its showcase figures under ``docs/figures/``."""
    import shutil

    root = Path(root) if root is not None else project_root()
    dest = root / "results"
    dest.mkdir(exist_ok=True)
    rec = dict(summary, run_dir=str(out))
    table = Path(out) / "table.md"
    if table.is_file():
        rec["table_md"] = table.read_text()
    shown = []
    for fig in exp.showcase:
        src = Path(out) / "figures" / f"{fig}.png"
        if src.is_file():
            target = root / "docs" / "figures" / f"{exp.name}-{fig}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            shown.append(target.relative_to(root).as_posix())
    if shown:
        rec["showcase"] = shown
    tmp = dest / f".{exp.name}.json.tmp"
    tmp.write_text(json.dumps(rec, indent=2, sort_keys=True) + "\n")
    tmp.replace(dest / f"{exp.name}.json")
    return dest / f"{exp.name}.json"


def _source_of(fn: Callable) -> str:
    """``gan/experiments/dcgan.py`` for a function defined in ``deepcourse.gan.experiments.dcgan``."""
    import inspect

    try:
        path = Path(inspect.getsourcefile(fn) or "")
    except TypeError:
        return ""
    parts = path.parts
    if "deepcourse" in parts:
        i = len(parts) - 1 - parts[::-1].index("deepcourse")
        return Path(*parts[i + 1:]).as_posix()
    return path.name


_DISCOVERED = False
DISCOVERY_ERRORS: dict[str, str] = {}  # experiments modules that failed to import (a test asserts none)


def discover() -> None:
    """Import every module of the ``deepcourse.<topic>.experiments`` package of each topic (one file per
    paper or claim). A module that fails to import is recorded in ``DISCOVERY_ERRORS`` and warned about;
    the other topics still load."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    import deepcourse

    def load(name: str) -> Any:
        try:
            return importlib.import_module(name)
        except Exception as e:  # one broken topic must not take the whole command down
            DISCOVERY_ERRORS[name] = f"{type(e).__name__}: {e}"
            warnings.warn(f"could not import {name}: {type(e).__name__}: {e}", RuntimeWarning, stacklevel=3)
            return None

    for info in pkgutil.iter_modules(deepcourse.__path__):
        if not info.ispkg or info.name in ("core", "data", "metrics", "viz"):
            continue
        name = f"deepcourse.{info.name}.experiments"
        try:
            found = importlib.util.find_spec(name) is not None
        except Exception as e:  # the topic package itself fails to import
            DISCOVERY_ERRORS[name] = f"{type(e).__name__}: {e}"
            warnings.warn(f"could not import {name}: {type(e).__name__}: {e}", RuntimeWarning, stacklevel=2)
            continue
        if not found:
            continue
        pkg = load(name)
        for sub in pkgutil.iter_modules(getattr(pkg, "__path__", None) or []):
            if not sub.name.startswith("_"):
                load(f"{name}.{sub.name}")
    _DISCOVERED = True


def get(name: str) -> Experiment:
    discover()
    if name not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `deepcourse list`"
        raise KeyError(f"unknown experiment {name!r}{hint}")
    return _REGISTRY[name]


def all_experiments(module: str | None = None) -> list[Experiment]:
    discover()
    exps = [e for e in _REGISTRY.values() if module is None or e.module == str(module) or e.module.split(".")[0] == str(module)]
    return sorted(exps, key=lambda e: (module_key(e.module), e.name))


def _finite_metrics(name: str, metrics: Any) -> dict[str, float]:
    if not isinstance(metrics, dict):
        raise TypeError(f"experiment {name!r} must return a dict of metrics, got {type(metrics).__name__}")
    out = {}
    for k, v in metrics.items():
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            raise TypeError(f"experiment {name!r}: metric {k!r} is not a number ({v!r})") from None
    return out


def project_root() -> Path:
    """The checkout holding pyproject.toml (for ``results/``), else the working directory."""
    for base in (Path.cwd(), *Path.cwd().parents):
        if (base / "pyproject.toml").exists() and (base / "src" / "deepcourse").exists():
            return base
    here = Path(__file__).resolve()
    for base in here.parents:
        if (base / "pyproject.toml").exists():
            return base
    return Path.cwd()


def default_out(name: str, preset: str, base: Path = Path("runs")) -> Path:
    """A new run folder ``runs/NAME/PRESET-YYYYmmdd-HHMMSS-ffffff`` (microseconds), *created here* with
    exclusive creation: two runs started at the same moment never share one (a ``-N`` suffix is added on
    a clash)."""
    folder = Path(base) / name
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    stamp = f"{preset}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{int(now % 1 * 1e6):06d}"
    for i in range(10_000):
        cand = folder / (stamp if i == 0 else f"{stamp}-{i}")
        try:
            cand.mkdir()
        except FileExistsError:
            continue
        return cand
    raise FileExistsError(f"cannot create a new run folder under {folder}")  # pragma: no cover


def latest_run(name: str, preset: str, base: Path = Path("runs")) -> Path | None:
    folder = base / name
    if not folder.exists():
        return None
    cands = sorted(p for p in folder.glob(f"{preset}-*") if p.is_dir())
    return cands[-1] if cands else None


def run_experiment(name: str, preset: str = "quick", *, threads: int | None = None, **kwargs: Any) -> dict:
    """Run one experiment and return its summary (also written to ``out/summary.json``).

    ``threads``: torch intra-op threads for this run (default: the experiment's ``threads``, else torch's
    own default); the count is restored afterwards and recorded in ``summary["hardware"]["torch_threads"]``.
    The other keywords are those of :func:`_run_one` (out, device, seed, overrides, resume, record,
    data_root, raise_errors, progress, verbose).
    """
    from .utils import num_threads

    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ConfigError(f"--threads must be an integer >= 1 (got {threads!r})")
    exp = get(name)
    with num_threads(threads or exp.threads):
        return _run_one(name, preset, **kwargs)


def _run_one(
    name: str,
    preset: str = "quick",
    *,
    out: str | Path | None = None,
    device: str = "auto",
    seed: int = 0,
    overrides: dict | list | None = None,
    resume: bool = False,
    record: bool = False,
    data_root: str | Path | None = None,
    raise_errors: bool = False,
    progress: bool | None = None,
    verbose: bool = False,
) -> dict:
    """Run one experiment and return its summary (also written to ``out/summary.json``).

    Status: ``passed``/``failed`` against the floor for a quick run, ``done`` for a full
    run, ``skipped`` when a dataset is missing, ``error`` when the code raised (the
    traceback goes to ``out/error.txt``; with ``raise_errors`` the exception propagates).
    """
    from deepcourse.data import DataError, DataMissingError  # data is a platform package, not a topic

    from .run import NonFiniteError, Run, environment

    exp = get(name)
    cfg = exp.config(preset, overrides)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConfigError(f"seed must be an integer with 0 <= seed < 2**63 (got {seed!r})")
    if record and preset != "full":
        raise ConfigError("--record stores full runs only; add --full")
    if out is not None and not str(out).strip():
        raise ConfigError("out must name a folder (got an empty string)")
    if out is None:
        found = latest_run(name, preset) if resume else None
        out = found or default_out(name, preset)
    out = Path(out)
    if resume and not (out / "config.json").exists():
        # chosen behaviour: say so in one line and start a new run there (a requeued job may always pass --resume)
        print(f"deepcourse: nothing to resume in {out} (no config.json); starting a new run there", file=sys.stderr)
        resume = False
    run = Run(out=out, device=device, seed=seed, preset=preset, data_root=data_root, resume=resume, progress=progress,
              verbose=verbose)
    cfg_dict = config_to_dict(cfg)
    try:
        run.write_config(cfg_dict, name)
    except BaseException:
        run.close()  # releases the folder's lock
        raise
    summary: dict[str, Any] = {
        "experiment": name,
        "module": exp.module,
        "title": exp.title,
        "preset": preset,
        "primary": exp.primary,
        "config": cfg_dict,
        "overrides": overrides if isinstance(overrides, dict) else list(overrides or []),
        "metrics": {},
        "paper": {"source": exp.paper.source, "values": dict(exp.paper.values), "context": dict(exp.paper.context)},
        # floors judge quick runs only: a full summary records none (dec-fashion's quick floor is no target at 70k)
        "floor": {k: {"op": b.op, "value": b.value} for k, b in exp.floor.items()} if preset == "quick" else {},
        "seed": seed,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    env = environment(run.device)  # taken at the start: the commit whose code this run executes
    t0 = time.perf_counter()
    try:
        metrics = _finite_metrics(name, exp.fn(cfg, run))
        summary["metrics"] = metrics
        if preset == "quick":
            missing = [k for k in exp.floor if k not in metrics]
            if missing:
                raise KeyError(f"experiment {name!r} did not return floor metric(s) {missing}")
            misses = [f"{k} = {metrics[k]:.4g} (floor {b})" for k, b in exp.floor.items() if not b.holds(metrics[k])]
            summary["status"] = "failed" if misses else "passed"
            summary["reason"] = "; ".join(misses)
        else:
            summary["status"] = "done"
            summary["reason"] = ""
    except DataMissingError as e:
        summary["status"], summary["reason"] = "skipped", str(e).splitlines()[0] if str(e) else repr(e)
        summary["reason_full"] = str(e)  # the paths searched and `deepcourse data download NAME`
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM turned into one by the CLI
        summary["wall_time_s"] = round(time.perf_counter() - t0, 3)
        raise _interrupted(e, summary, env, run, name, preset, out, seed, overrides, data_root) from None
    except SystemExit:
        run.close()
        raise
    except Exception as e:  # recorded, so a tour goes on; re-raised on request
        (run.out / "error.txt").write_text(traceback.format_exc()) if run.is_main else None
        summary["status"] = "error"
        summary["reason"] = f"{type(e).__name__}: {e}".splitlines()[0]
        if isinstance(e, NonFiniteError):
            summary["reason"] = str(e)
        if isinstance(e, DataError):  # corrupt file: expected and actual sha256, and the fix
            summary["reason_full"] = str(e)
        if isinstance(e, ConfigError):  # the experiment refused a config value it could only check with data
            summary["reason"], summary["bad_input"] = str(e), True
        if raise_errors:
            run.close()
            raise
    finally:
        summary["wall_time_s"] = round(time.perf_counter() - t0, 3)
    summary["figures"] = run.figures
    summary.update(env)
    run.write_summary(summary)
    run.close()
    if record and run.is_main:
        # only a finished full run replaces results/NAME.json; anything else leaves it as it was
        if summary["status"] == "done":
            summary["recorded"] = str(record_result(exp, summary, out))
        else:
            summary["recorded"] = None
            summary["record_note"] = (f"--record: results/{name}.json left untouched (the run ended "
                                      f"{summary['status']}; only a finished full run is recorded)")
    summary["out"] = str(out)
    return summary


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM after writing ``summary.json`` (status ``interrupted``).
    ``str()`` is the one line to print: the signal, the last checkpoint and the exact ``--resume`` command;
    ``summary`` is the summary written."""

    def __init__(self, message: str, summary: dict) -> None:
        super().__init__(message)
        self.summary = summary

    def __str__(self) -> str:
        return self.args[0]


def resume_command(name: str, preset: str, out: Path, seed: int, overrides: Any, data_root: Any = None) -> str:
    """The ``deepcourse run ... --resume`` command line that continues a run (same preset, seed, overrides)."""
    import shlex

    args = ["deepcourse", "run", name] + (["--full"] if preset == "full" else []) + ["--out", str(out), "--resume"]
    if seed:
        args += ["--seed", str(seed)]
    if data_root is not None:
        args += ["--data-dir", str(data_root)]
    items = overrides.items() if isinstance(overrides, dict) else [tuple(o.split("=", 1)) for o in overrides or []]
    args += [f"{k}={v}" for k, v in items]
    return " ".join(shlex.quote(a) for a in args)


def _interrupted(e: KeyboardInterrupt, summary: dict, env: dict, run: Any, name: str, preset: str, out: Path,
                 seed: int, overrides: Any, data_root: Any) -> RunInterrupted:
    """Write summary.json with status ``interrupted``, release the folder, and build the exception to raise."""
    signame = e.args[0] if e.args and isinstance(e.args[0], str) and e.args[0].startswith("SIG") else "SIGINT"
    ckpts = [p for p in Path(out).rglob("*.pt") if p.is_file() and not p.name.startswith(".")]
    last = max(ckpts, key=lambda p: p.stat().st_mtime_ns) if ckpts else None
    where = f"last checkpoint {last}" if last else "no checkpoint was written yet (a resume starts from the beginning)"
    cmd = resume_command(name, preset, out, seed, overrides, data_root)
    summary.update(status="interrupted", reason=f"interrupted by {signame}; {where}", resume_command=cmd,
                   figures=run.figures, **env)
    try:
        run.write_summary(summary)
    finally:
        run.close()
    summary["out"] = str(out)
    return RunInterrupted(f"interrupted by {signame}; {where}; continue with: {cmd}", summary)
