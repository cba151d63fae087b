"""The ``deepcourse`` command.

    deepcourse list [--module N] [--markdown]
    deepcourse run NAME [--quick|--full] [--device D] [--out DIR] [--seed S] [--threads N] [--resume] [--record] [key=value ...]
    deepcourse tour [--module N] [--jobs J] [--slow] [--no-fetch]
    deepcourse report [RUNS ...] [--markdown] [--readme README.md]
    deepcourse data list|where|check|download [NAME]
    deepcourse models [PATTERN]
    deepcourse autodiff show FILE:FUNC

Exit codes (``deepcourse run``; the other commands use 0, 1 and 2 alike):

    0    done (full run) or passed (quick run, floor met); any other command succeeded
    1    failed (missed its floor) or error (the experiment raised, a loss became nan/inf, a data file is
         corrupt); ``--record`` given but nothing recorded; ``data check`` found a missing or corrupt file
    2    bad input: unknown experiment, config key or value (e.g. nan/inf, a key given twice), bad --seed or
         --out, a --resume whose config differs or cannot be read, a run folder held by another live run
    3    skipped: a dataset is missing, nothing ran (the message lists the paths searched and the
         ``deepcourse data download NAME`` command); ``deepcourse tour`` counts it as a skip
    130  interrupted by Ctrl-C (SIGINT) or SIGTERM: summary.json says "interrupted", and one line names
         the last checkpoint and the exact ``--resume`` command
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _fmt(x, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def _floor_text(exp) -> str:
    return ", ".join(f"{k} {b}" for k, b in exp.floor.items())


def experiments_markdown(module: str | None = None) -> str:
    from deepcourse.core.registry import all_experiments

    lines = ["| module | experiment | title | quick floor | paper |", "|---|---|---|---|---|"]
    for e in all_experiments(module):
        paper = e.paper.source + (" (" + ", ".join(f"{k} {v:g}" for k, v in e.paper.values.items()) + ")" if e.paper.values else "")
        lines.append(f"| {e.module} | `{e.name}` | {e.title} | {_floor_text(e) or '—'} | {paper or '—'} |")
    return "\n".join(lines)


def cmd_list(args) -> int:
    from deepcourse.core.registry import all_experiments

    if args.markdown:
        print(experiments_markdown(args.module))
        return 0
    rows = [[e.module, e.name + (" (slow)" if e.slow else ""), e.title, _floor_text(e), e.source]
            for e in all_experiments(args.module)]
    print(_table(rows, ["module", "name", "title", "quick floor", "source"]))
    return 0


def _parse_overrides(items: list[str]) -> dict[str, str]:
    from deepcourse.core.config import ConfigError

    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"unexpected argument {item!r}: overrides look like key=value")
        k, v = item.split("=", 1)
        k = k.strip()
        if k in out:
            raise ConfigError(f"{k} is given twice ({k}={out[k]}, {k}={v}); give each key once")
        out[k] = v
    return out


def cmd_run(args) -> int:
    from deepcourse.core import distributed
    from deepcourse.core.config import describe
    from deepcourse.core.registry import get, run_experiment

    exp = get(args.name)
    preset = "full" if args.full else "quick"
    overrides = _parse_overrides(args.overrides)
    if args.show_config:
        cfg = exp.config(preset, overrides)
        rows = [[n, t, repr(v), h] for n, t, v, h in describe(cfg)]
        print(f"{exp.name} ({preset}): {exp.title}\n")
        print(_table(rows, ["key", "type", "value", "help"]))
        return 0
    seed = _seed(args.seed)
    if args.out is not None and not args.out.strip():
        raise _usage("--out must name a folder (got an empty string)")
    if args.record and preset != "full":
        raise _usage("--record stores full runs only: add --full")
    distributed.init_from_env(args.device)
    summary = run_experiment(
        args.name, preset, out=args.out, device=args.device, seed=seed, overrides=overrides,
        resume=args.resume, record=args.record, data_root=args.data_dir, raise_errors=args.debug, verbose=True,
        threads=_threads(args.threads),
    )
    if distributed.rank() != 0:
        distributed.cleanup()
        return 0
    _print_summary(summary)
    distributed.cleanup()
    code = EXIT_CODES.get(summary["status"], 1)
    if summary.get("bad_input"):  # the experiment itself refused a config value (e.g. val_frac too small)
        print(f"deepcourse: error: {summary['reason']}", file=sys.stderr)
        code = 2
    if args.record and not summary.get("recorded"):
        print(f"deepcourse: {summary.get('record_note') or '--record: nothing recorded'}", file=sys.stderr)
        code = code or 1
    return code


EXIT_CODES = {"passed": 0, "done": 0, "failed": 1, "error": 1, "skipped": 3, "interrupted": 130}


def _threads(text) -> int | None:
    """``--threads``: torch intra-op threads for the run (default: the experiment's own default)."""
    if text is None:
        return None
    try:
        n = int(str(text).strip())
    except ValueError:
        n = 0
    if n < 1:
        raise _usage(f"--threads must be an integer >= 1 (got {text!r})")
    return n


def _seed(text) -> int:
    """``--seed``: an integer in [0, 2**63)."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        seed = None
    if seed is None or not 0 <= seed < 2**63:
        raise _usage(f"--seed must be an integer with 0 <= seed < 2**63 (got {text!r})")
    return seed


def _print_summary(s: dict) -> None:
    print(f"\n{s['experiment']} [{s['preset']}] {s['status'].upper()} in {s['wall_time_s']:.1f} s -> {s.get('out')}")
    if s.get("reason_full"):  # missing data: the paths searched and the download command; corrupt: the digests
        print("  " + s["reason_full"].replace("\n", "\n  "))
    elif s.get("reason"):
        print(f"  {s['reason']}")
    paper = s.get("paper", {}).get("values", {})
    floor = s.get("floor", {}) if s.get("preset") == "quick" else {}  # floors judge quick runs only
    rows = []
    for k, v in s.get("metrics", {}).items():
        fl = floor.get(k)
        rows.append([k, _fmt(v), _fmt(paper.get(k)), f"{fl['op']} {fl['value']:g}" if fl else ""])
    if rows:
        print(_table(rows, ["metric", "ours", "paper", "floor"]))


def _fetch_missing_data(data_root: str | None) -> None:
    """Before a tour: download the registered datasets that are missing, when the network is reachable
    (each file checked by sha256). Offline, say so once and go on: their experiments are skipped."""
    from deepcourse import data

    missing = [n for n in data.list_datasets() if not data.all_ok(data.check(n, data_root, full=False))]
    if not missing:
        return
    urls = [u for n in missing for f in data.get_spec(n).files for u in f.urls[:1]]
    if not urls or not _reachable(urls[0]):
        print(f"offline: not fetching {', '.join(missing)}; their experiments will be skipped "
              "(fetch later with `deepcourse data download NAME`)")
        return
    for n in missing:
        try:
            data.download(n, data_root)
            print(f"fetched {n} (sha256 verified)")
        except data.DataError as e:
            print(f"could not fetch {n}: {str(e).splitlines()[0]}")


def _reachable(url: str, timeout: float = 3.0) -> bool:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.hostname:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)),
                                      timeout=timeout):
            return True
    except OSError:
        return False


def _tour_one(name: str, out: str, device: str, data_root: str | None, threads: int | None) -> dict:
    from deepcourse.core.registry import run_experiment

    return run_experiment(name, "quick", out=out, device=device, data_root=data_root, progress=False, threads=threads)


def cmd_tour(args) -> int:
    from deepcourse.core.registry import all_experiments

    exps = [e for e in all_experiments(args.module) if args.slow or not e.slow]
    if not exps:
        print(f"no experiments for module {args.module!r}", file=sys.stderr)
        return 2
    jobs = _threads(args.jobs)
    if not args.no_fetch:
        _fetch_missing_data(args.data_dir)
    base = Path(args.out) / f"tour-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    summaries, rows = [], []
    t0 = time.perf_counter()
    # jobs > 1: that many experiments at once, one torch thread each (on 2 cores, 2 jobs of 1 thread finish
    # the tour sooner than 1 job of 2 threads: most quick models are too small to use two threads well)
    threads = 1 if jobs > 1 else None
    results: dict[str, dict] = {}
    if jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = {pool.submit(_tour_one, e.name, str(base / e.name), args.device, args.data_dir, threads): e
                       for e in exps}
            for done, fut in enumerate(as_completed(futures), 1):
                e = futures[fut]
                s = fut.result()
                results[e.name] = s
                print(f"[{done}/{len(exps)}] {e.name}: {s['status']} ({s['wall_time_s']:.1f} s)", flush=True)
    else:
        for i, e in enumerate(exps, 1):
            print(f"[{i}/{len(exps)}] {e.name} ...", end=" ", flush=True)
            s = results[e.name] = _tour_one(e.name, str(base / e.name), args.device, args.data_dir, threads)
            print(f"{s['status']} ({s['wall_time_s']:.1f} s)")
    for exp in exps:
        s = results[exp.name]
        s["run_dir"] = str(base / exp.name)
        summaries.append(s)
        m = s["primary"]
        fl = s["floor"].get(m)
        rows.append([exp.module, exp.name, m, _fmt(s["metrics"].get(m)), _fmt(s["paper"]["values"].get(m)),
                     f"{fl['op']} {fl['value']:g}" if fl else "", s["status"], f"{s['wall_time_s']:.1f}"])
    print()
    print(_table(rows, ["module", "experiment", "metric", "ours", "paper", "floor", "status", "time (s)"]))
    bad = [s for s in summaries if s["status"] in ("failed", "error")]
    skipped = [s for s in summaries if s["status"] == "skipped"]
    for s in bad + skipped:
        print(f"  {s['experiment']}: {s['status']}: {s.get('reason', '')}")
    report = None
    try:
        from deepcourse.viz.report import render_html

        report = render_html([Path(s["run_dir"]) for s in summaries], Path(args.report))
    except ImportError as e:  # the report package is part of the platform; say so loudly if missing
        print(f"report not written: {e}", file=sys.stderr)
    print(f"\n{len(summaries) - len(bad) - len(skipped)} passed, {len(bad)} failed, {len(skipped)} skipped "
          f"in {time.perf_counter() - t0:.0f} s" + (f"; report: {report}" if report else ""))
    return 1 if bad else 0


def cmd_report(args) -> int:
    from deepcourse.viz.report import load_runs, render_highlights, render_html, render_markdown

    paths = [Path(p) for p in (args.runs or ["results"])]
    runs = load_runs(paths)
    if args.markdown or args.readme:
        md = render_markdown(runs)
        if args.readme:
            update_readme(Path(args.readme), results=md, highlights=render_highlights(runs))
            print(f"updated {args.readme}")
        else:
            print(md)
        return 0
    out = render_html(runs, Path(args.out))
    print(f"wrote {out} ({len(runs)} runs)")
    return 0


def update_readme(path: Path, results: str | None = None, highlights: str | None = None) -> None:
    """Replace the generated blocks of the README (between the marker comments)."""
    text = path.read_text()
    blocks = {"experiments": experiments_markdown()}
    if results is not None:
        blocks["results"] = results
    if highlights is not None:
        blocks["highlights"] = highlights
    for key, body in blocks.items():
        start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
        if start not in text or end not in text:
            raise SystemExit(f"{path} has no {start} ... {end} block")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{body}\n{end}{tail}"
    path.write_text(text)


def cmd_data(args) -> int:
    from deepcourse import data

    root = data.data_root(args.data_dir)
    if args.action == "list":
        print(data.format_list(root))
        return 0
    names = [args.name] if args.name else [d for d in data.list_datasets()]
    if args.action == "where":
        for n in names:
            print(f"{n}: {data.where(n, root)}")
        return 0
    if args.action == "check":
        bad, fix = 0, []
        for n in names:
            for file, status in data.check(n, root):  # re-hashes every file: no cache is trusted here
                bad += status != "ok"
                print(f"{n}: {file}: {status}")
                if status != "ok" and n not in fix:
                    fix.append(n)
        if bad:
            cmds = "; ".join(f"deepcourse data download {n}" for n in fix)
            print(f"{bad} file(s) not ok; to re-fetch them: {cmds}", file=sys.stderr)
        return 1 if bad else 0  # any missing or corrupt file, with or without NAME
    if args.action == "download":
        if not args.name:
            raise _usage("data download needs a dataset NAME (see `deepcourse data list`)")
        data.download(args.name, root)
        print(f"{args.name}: downloaded and verified under {data.where(args.name, root)}")
        return 0
    return 2


def cmd_models(args) -> int:
    import torch

    from deepcourse.core.models import count_parameters, create_model, get_model_entry, list_models

    rows = []
    for name in list_models(args.pattern):
        entry = get_model_entry(name)
        m = create_model(name, small=True)
        rows.append([name, entry.module.replace("deepcourse.", ""), f"{count_parameters(m):,}"])
    print(_table(rows, ["model", "package", "params (small)"]))
    del torch
    return 0


def cmd_autodiff(args) -> int:
    """``autodiff show TARGET``: a target that cannot be loaded or transformed is bad input (one line, exit 2)."""
    from deepcourse.autodiff.source import SourceTransformError, TargetError, show

    try:
        text = show(args.target)
    except (TargetError, SourceTransformError) as e:
        print(f"deepcourse: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    print(text)
    return 0


class _UsageError(Exception):
    pass


def _usage(msg: str) -> _UsageError:
    return _UsageError(msg)


def build_parser() -> argparse.ArgumentParser:
    doc = __doc__ or ""  # the exit-code table of this module's docstring (absent under python -OO)
    exit_codes = "Exit codes" + doc.split("Exit codes", 1)[1] if "Exit codes" in doc else None
    p = argparse.ArgumentParser(prog="deepcourse", description="A graduate deep-learning course, executable.",
                                epilog=exit_codes, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="list the experiments")
    s.add_argument("--module", help="course module, e.g. 0.1 or 2")
    s.add_argument("--markdown", action="store_true", help="print a Markdown table (for the README)")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("run", help="run one experiment", epilog=exit_codes,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("name")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="seconds on a CPU, offline data (default)")
    g.add_argument("--full", action="store_true", help="the paper's recipe")
    s.add_argument("--device", default="auto", help="cpu | cuda | cuda:N | mps | auto (default)")
    s.add_argument("--out", help="run folder (default runs/NAME/PRESET-TIMESTAMP)")
    s.add_argument("--seed", default="0", help="integer seed, 0 <= S < 2**63 (default 0)")
    s.add_argument("--threads", help="torch intra-op threads (default: the experiment's own, else torch's)")
    s.add_argument("--resume", action="store_true",
                   help="continue the run in --out (default: the latest run of NAME); if there is nothing to "
                        "resume (no config.json there), say so in one line and start a new run there")
    s.add_argument("--record", action="store_true",
                   help="store the summary in results/NAME.json (full runs); the file is replaced only when the "
                        "run finishes (status done), else it is left untouched and the exit code is non-zero")
    s.add_argument("--data-dir", help="dataset root (default $DEEPCOURSE_DATA, then ~/.cache/deepcourse)")
    s.add_argument("--show-config", action="store_true", help="print the config's keys, values and limits")
    s.add_argument("--debug", action="store_true", help="let exceptions propagate with their traceback")
    s.add_argument("overrides", nargs="*", metavar="key=value")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("tour", help="run every quick experiment, print the table, write the report")
    s.add_argument("--module")
    s.add_argument("--device", default="cpu")
    s.add_argument("--jobs", default="2", help="experiments run at once, one thread each when > 1 (default 2)")
    s.add_argument("--slow", action="store_true", help="include experiments marked slow")
    s.add_argument("--no-fetch", action="store_true", help="do not try to download missing datasets first")
    s.add_argument("--out", default="runs")
    s.add_argument("--report", default="report/index.html")
    s.add_argument("--data-dir")
    s.set_defaults(func=cmd_tour)

    s = sub.add_parser("report", help="render runs as HTML (default) or Markdown")
    s.add_argument("runs", nargs="*", help="run folders, runs/ or results/ (default results/)")
    s.add_argument("--markdown", action="store_true")
    s.add_argument("--readme", help="rewrite the generated tables of this README")
    s.add_argument("--out", default="report/index.html")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("data", help="datasets: list, where, check, download",
                       description="check re-hashes every file (sha256) and exits 1 if any file is missing or "
                                   "corrupt; list only looks at file sizes")
    s.add_argument("action", choices=["list", "where", "check", "download"])
    s.add_argument("name", nargs="?")
    s.add_argument("--data-dir")
    s.set_defaults(func=cmd_data)

    s = sub.add_parser("models", help="list registered models with their parameter counts")
    s.add_argument("pattern", nargs="?")
    s.set_defaults(func=cmd_models)

    s = sub.add_parser("autodiff", help="source-to-source autodiff")
    s.add_argument("action", choices=["show"])
    s.add_argument("target", help="FILE.py:FUNC or package.module:FUNC")
    s.set_defaults(func=cmd_autodiff)
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # key=value overrides may come after options: `run NAME --out DIR lr=0.1`
        if args.command != "run" or any(e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = list(args.overrides) + extra
    from deepcourse.core.checkpoint import CheckpointError
    from deepcourse.core.config import ConfigError
    from deepcourse.core.registry import RunInterrupted
    from deepcourse.core.run import RunFolderBusyError

    previous = _sigterm_as_interrupt()
    try:
        return args.func(args)
    except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM: one line, no traceback
        print(f"deepcourse: {e}" if isinstance(e, RunInterrupted) else "deepcourse: interrupted", file=sys.stderr)
        return 130
    except (ConfigError, _UsageError, RunFolderBusyError) as e:
        print(f"deepcourse: error: {e}", file=sys.stderr)
        return 2
    except KeyError as e:  # unknown experiment / model / dataset
        print(f"deepcourse: error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    except (CheckpointError, FileNotFoundError, ValueError, OSError) as e:  # data errors print as complete messages
        print(f"deepcourse: error: {e}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            import signal

            signal.signal(signal.SIGTERM, previous)


def _sigterm_as_interrupt():
    """Make SIGTERM (a job scheduler's stop) behave like Ctrl-C: it raises KeyboardInterrupt("SIGTERM"), so a
    run writes summary.json with status "interrupted". Returns the previous handler (None off the main thread)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise KeyboardInterrupt("SIGTERM")

    return signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
