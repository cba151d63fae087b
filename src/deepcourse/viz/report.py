"""The results report: one self-contained HTML page and the README's Markdown table.

:func:`render_html` groups runs by course module (ordered "0.1", "1.1", "2", ..., "10", numerically by
parts), shows ours vs the paper vs the quick floor with a coloured status, and inlines every figure as
a base64 PNG, so the page can be mailed or archived as one file. :func:`render_markdown` gives the
README table. Runs come from :func:`deepcourse.viz.summaries.load_runs` (run folders, ``runs/`` or
``results/``) or as summary dicts. A number is shown only if the summary holds it; anything missing
prints as an em dash.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deepcourse.viz.summaries import (
    MISSING,
    STATUSES,
    RunSummary,
    coerce_runs,
    format_duration,
    format_floor,
    format_number,
    group_by_module,
    hardware_text,
    load_runs,
    module_sort_key,
    short_commit,
)

__all__ = [
    "render_html",
    "render_markdown",
    # re-exported from summaries for convenience
    "MISSING",
    "RunSummary",
    "format_duration",
    "format_floor",
    "format_number",
    "load_runs",
    "module_sort_key",
]

_STATUS_COLOURS = {  # (background, text)
    "passed": ("#d4f4dd", "#145c2c"),
    "failed": ("#fbd5d5", "#8a1c1c"),
    "error": ("#f9c6a8", "#7a2e00"),
    "skipped": ("#e6e6e6", "#444444"),
    "done": ("#d6e6fb", "#173f7a"),
}
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
         ".svg": "image/svg+xml", ".webp": "image/webp"}


# ---------------------------------------------------------------------------------------- markdown

def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(runs: Any) -> str:
    """The README results table, one row per run, modules in course order.

    Columns: module, experiment, metric (the primary one), ours, paper, preset, hardware, commit.
    """
    items = coerce_runs(runs)
    header = ["Module", "Experiment", "Metric", "Ours", "Paper", "Preset", "Hardware", "Commit"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---"] + ["---:"] * 2 + ["---"] * 3) + "|"]
    for module, group in group_by_module(items):
        for run in group:
            metric = run.primary
            row = [
                module,
                run.experiment,
                metric or MISSING,
                format_number(run.metric(metric)),
                format_number(run.paper_value(metric)),
                _preset_text(run.data),
                hardware_text(run.data.get("hardware")),
                _commit_text(run.data),
            ]
            lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    if any(_unlisted_dirty(r.data) for r in items):
        lines.append("")
        lines.append("&dagger; recorded from a working tree with uncommitted changes whose files the run did not list: "
                     "the code that produced this number is not exactly the commit shown.")
    return "\n".join(lines) + "\n"


def _unlisted_dirty(data: dict) -> bool:
    return "dirty" in str(data.get("git_commit") or "") and not data.get("git_dirty_files")


def _commit_text(data: dict) -> str:
    """The short commit; ``-dirty`` runs list their changed files in the summary, else they get a dagger."""
    return short_commit(data.get("git_commit")) + (" &dagger;" if _unlisted_dirty(data) else "")


def _preset_text(data: dict) -> str:
    """``full``, or ``full (k=v, ...)`` when the run changed the preset: a shortened recipe shows."""
    preset = data.get("preset") or MISSING
    ov = data.get("overrides") or {}
    if isinstance(ov, dict):  # the thread count is a runtime setting, not a change to the recipe
        ov = {k: v for k, v in ov.items() if k != "threads"}
    if isinstance(ov, dict) and ov:
        return f"{preset} ({', '.join(f'{k}={v}' for k, v in ov.items())})"
    if isinstance(ov, (list, tuple)) and ov:
        return f"{preset} ({', '.join(map(str, ov))})"
    return preset


def _demote(md: str) -> str:
    """A run's ``table.md`` under a README sub-heading: its own headings become bold lines."""
    out = []
    for line in md.strip().splitlines():
        stripped = line.lstrip("#")
        out.append(f"**{stripped.strip()}**" if line.startswith("#") and stripped.startswith(" ") else line)
    return "\n".join(out)


def render_highlights(runs: Any) -> str:
    """The README's per-experiment sections for recorded runs that carry a table (``table.md``) or
    showcase figures (``docs/figures/``): figure first, then the table, then where the run came from."""
    parts = []
    for module, group in group_by_module(coerce_runs(runs)):
        for run in group:
            table, figs = run.data.get("table_md"), run.data.get("showcase") or []
            if not table and not figs:
                continue
            title = run.data.get("title") or ""
            parts.append(f"### {run.experiment} (module {module}){': ' + title if title else ''}\n")
            for f in figs:
                parts.append(f"![{run.experiment}: {Path(f).stem}]({f})\n")
            if table:
                parts.append(_demote(table) + "\n")
            parts.append(f"<sub>{_preset_text(run.data)} run on {hardware_text(run.data.get('hardware'))}, "
                         f"{format_duration(run.data.get('wall_time_s'))}, commit "
                         f"{short_commit(run.data.get('git_commit'))}.</sub>\n")
    return "\n".join(parts) if parts else "_No recorded run has a table or figure yet._\n"


# -------------------------------------------------------------------------------------------- html

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; margin: 24px auto;
       max-width: 1200px; padding: 0 16px; color: #1d1d1f; background: #ffffff; line-height: 1.4; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 20px; margin-top: 32px; border-bottom: 2px solid #e3e3e3; padding-bottom: 4px; }
.meta { color: #555; font-size: 14px; }
.counts span { display: inline-block; margin-right: 8px; }
table.runs { border-collapse: collapse; width: 100%; font-size: 14px; margin-top: 8px; }
table.runs th, table.runs td { border-bottom: 1px solid #e3e3e3; padding: 6px 8px; text-align: left;
       vertical-align: top; }
table.runs th { background: #f5f5f7; font-weight: 600; }
table.runs th.num { text-align: right; }
table.runs td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 13px; }
.reason { display: block; color: #666; font-size: 12px; margin-top: 2px; }
tr.details td { border-bottom: 1px solid #cfcfcf; background: #fcfcfc; font-size: 13px; }
details summary { cursor: pointer; color: #0a58ca; }
details pre { background: #f5f5f7; padding: 8px; overflow-x: auto; font-size: 12px; }
table.kv td { padding: 2px 10px 2px 0; border: none; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 12px; }
figure { margin: 0; border: 1px solid #e3e3e3; padding: 8px; background: #fff; }
figure img { max-width: 540px; height: auto; display: block; }
figcaption { font-size: 12px; color: #555; margin-top: 4px; }
.missing-figure { color: #8a1c1c; font-size: 13px; }
"""

# Marks <body data-images-loaded="true|false"> once every <img> has decoded (naturalWidth > 0), so a
# headless browser (and the test) can tell a broken figure from a loaded one.
_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.every(function (im) { return im.complete && im.naturalWidth > 0; });
  document.body.dataset.imageCount = String(imgs.length);
  document.body.dataset.imagesLoaded = ok ? "true" : "false";
});
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _status_badge(status: str) -> str:
    bg, fg = _STATUS_COLOURS.get(status, ("#eeeeee", "#333333"))
    return f'<span class="status status-{_e(status)}" style="background:{bg};color:{fg}">{_e(status)}</span>'


def _figure_html(run: RunSummary, path: Path) -> str:
    caption = f"{run.experiment}: {path.stem.replace('_', ' ').replace('-', ' ')}"
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        return f'<p class="missing-figure">figure {_e(path.name)}: unsupported type {_e(path.suffix)}</p>'
    try:
        payload = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return f'<p class="missing-figure">figure missing: {_e(path)}</p>'
    return (
        f'<figure><img src="data:{mime};base64,{payload}" alt="{_e(caption)}" loading="eager">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _kv_table(pairs: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><td><b>{_e(k)}</b></td><td>{_e(v)}</td></tr>" for k, v in pairs)
    return f'<table class="kv">{rows}</table>'


def _metrics_table(run: RunSummary) -> str:
    metrics = run.data.get("metrics") or {}
    paper = run.data.get("paper") or {}
    paper_values = (paper.get("values") if isinstance(paper, Mapping) else None) or {}
    floors = run.data.get("floor") or {}
    names = list(dict.fromkeys(list(metrics) + list(paper_values) + list(floors)))
    if not names:
        return ""
    rows = "".join(
        f"<tr><td>{_e(n)}</td><td class=\"num\">{_e(format_number(run.metric(n)))}</td>"
        f"<td class=\"num\">{_e(format_number(run.paper_value(n)))}</td>"
        f"<td class=\"num\">{_e(format_floor(run.floor(n)))}</td></tr>"
        for n in names
    )
    return ('<table class="runs"><tr><th>metric</th><th class="num">ours</th><th class="num">paper</th>'
            '<th class="num">floor</th></tr>'
            f"{rows}</table>")


def _details_html(run: RunSummary) -> str:
    d = run.data
    paper = d.get("paper") or {}
    versions = d.get("versions") or {}
    pairs: list[tuple[str, Any]] = [
        ("preset", d.get("preset") or MISSING),
        ("seed", MISSING if d.get("seed") is None else d["seed"]),
        ("started", d.get("started") or MISSING),
        ("git commit", d.get("git_commit") or MISSING),
        ("hardware", hardware_text(d.get("hardware"))),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items()) if isinstance(versions, Mapping)
         and versions else MISSING),
        ("paper", (paper.get("source") if isinstance(paper, Mapping) else None) or MISSING),
    ]
    if d.get("reason"):
        pairs.append(("reason", d["reason"]))
    if run.source is not None:
        pairs.append(("summary", str(run.source)))
    config = json.dumps(d.get("config") or {}, indent=2, sort_keys=True, default=str)
    return (
        f"<details><summary>details</summary>{_kv_table(pairs)}{_metrics_table(run)}"
        f"<p><b>config</b></p><pre>{_e(config)}</pre></details>"
    )


def _run_rows(run: RunSummary) -> str:
    d = run.data
    metric = run.primary
    paper = d.get("paper") or {}
    source = paper.get("source") if isinstance(paper, Mapping) else None
    reason = f'<span class="reason">{_e(d["reason"])}</span>' if d.get("reason") else ""
    anchor = re.sub(r"[^A-Za-z0-9_-]+", "-", run.experiment)
    cells = [
        f'<td id="{_e(anchor)}"><code>{_e(run.experiment)}</code></td>',
        f"<td>{_e(d.get('title') or MISSING)}</td>",
        f"<td>{_e(metric or MISSING)}</td>",
        f'<td class="num">{_e(format_number(run.metric(metric)))}</td>',
        f'<td class="num" title="{_e(source or "")}">{_e(format_number(run.paper_value(metric)))}</td>',
        f'<td class="num">{_e(format_floor(run.floor(metric)))}</td>',
        f"<td>{_status_badge(run.status)}{reason}</td>",
        f'<td class="num">{_e(format_duration(d.get("wall_time_s")))}</td>',
    ]
    return (f'<tr class="run status-row-{_e(run.status)}">{"".join(cells)}</tr>'
            f'<tr class="details"><td colspan="8">{_details_html(run)}</td></tr>')


def _counts(runs: list[RunSummary]) -> dict[str, int]:
    counts = {s: 0 for s in STATUSES}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    return {k: v for k, v in counts.items() if v or k in ("passed", "failed")}


def render_html(runs: Any, path: str | Path, title: str = "deepcourse results") -> Path:
    """Write one self-contained HTML page for ``runs`` to ``path`` and return the path.

    ``runs``: run folders / summary files / runs or results folders (see :func:`load_runs`), summary
    dicts, :class:`RunSummary` objects, or a mix. One table per course module (columns experiment,
    title, metric, ours, paper, floor, status, time, then a collapsible details row with config, all
    metrics, git commit, hardware and versions) followed by that module's figures as inline base64
    images. A figure file that is missing is reported in the page, not linked.
    """
    items = coerce_runs(runs)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    counts = _counts(items)
    count_html = " ".join(
        f"<span>{_status_badge(k)} {v}</span>" for k, v in counts.items()
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style><script>{_SCRIPT}</script></head><body>",
        f"<header><h1>{_e(title)}</h1>",
        f'<p class="meta">Generated {_e(now)} &middot; {len(items)} run{"s" if len(items) != 1 else ""}'
        f" in {len({r.module for r in items})} module{'s' if len({r.module for r in items}) != 1 else ''}</p>",
        f'<p class="counts">{count_html}</p></header>',
    ]
    if not items:
        parts.append("<p>No runs to report.</p>")
    for module, group in group_by_module(items):
        module_id = re.sub(r"[^A-Za-z0-9_-]+", "-", module)
        parts.append(f'<section class="module" id="module-{_e(module_id)}"><h2>Module {_e(module)}</h2>')
        parts.append(
            '<table class="runs"><thead><tr><th>experiment</th><th>title</th><th>metric</th>'
            '<th class="num">ours</th><th class="num">paper</th><th class="num">floor</th><th>status</th>'
            '<th class="num">time</th></tr></thead><tbody>'
        )
        parts.extend(_run_rows(run) for run in group)
        parts.append("</tbody></table>")
        figures = [_figure_html(run, p) for run in group for p in run.figure_paths()]
        if figures:
            parts.append(f'<div class="figures">{"".join(figures)}</div>')
        parts.append("</section>")
    parts.append("</body></html>")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("\n".join(parts) + "\n", encoding="utf-8")
    tmp.replace(out)  # atomic: a reader never sees half a page
    return out
