"""The HTML and Markdown report from fake run folders."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest

from deepcourse.viz import load_runs, render_html, render_markdown
from deepcourse.viz.summaries import MISSING, RunSummary

MODULE_ORDER = ["0.1", "1.1", "2", "10"]


class _Collector(HTMLParser):
    """Collects module headings, table rows, images and external references."""

    def __init__(self):
        super().__init__()
        self.h2: list[str] = []
        self.imgs: list[dict] = []
        self.tables = 0
        self.run_rows = 0
        self.external: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        if tag == "img":
            self.imgs.append(a)
        if tag == "table":
            self.tables += 1
        if tag == "tr" and "run" in (a.get("class") or "").split():
            self.run_rows += 1
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith(("data:", "#")):
                self.external.append(a[key])

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2[-1] += data


# ------------------------------------------------------------------------------------------- markdown

def test_render_markdown_table(fake_runs):
    md = render_markdown(load_runs(fake_runs))
    lines = md.strip().splitlines()
    assert lines[0] == "| Module | Experiment | Metric | Ours | Paper | Preset | Hardware | Commit |"
    assert re.fullmatch(r"\|(-{3,}:?\|){8}", lines[1])
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert all(len(r) == 8 for r in rows)
    assert [r[0] for r in rows] == ["0.1", "0.1", "1.1", "2", "10"]
    xor = next(r for r in rows if r[1] == "toy-xor")
    assert xor == ["0.1", "toy-xor", "acc", "0.9823", "1", "quick", "x86_64 (cpu)", "0123456"]
    resnet = next(r for r in rows if r[1] == "resnet")
    assert resnet[5] == "full" and resnet[6] == "NVIDIA H100 (cuda)"
    dcgan = next(r for r in rows if r[1] == "dcgan")
    assert dcgan[3] == MISSING  # skipped: no number
    assert next(r for r in rows if r[1] == "autodiff-check")[3] == MISSING  # null metric


def test_render_markdown_from_dicts_missing_fields_and_pipes():
    md = render_markdown([{"experiment": "a|b", "module": 3}])
    row = md.strip().splitlines()[2]
    assert row.startswith("| 3 | a\\|b | ")
    assert row.count(MISSING) == 6  # metric, ours, paper, preset, hardware, commit
    assert render_markdown([]).count("\n") == 2  # header only


def test_render_rejects_bad_input():
    with pytest.raises(ValueError, match="no 'experiment' key"):
        render_markdown([{"module": "1"}])
    with pytest.raises(TypeError, match="each run must be"):
        render_markdown([42])


# ----------------------------------------------------------------------------------------------- html

def test_render_html_page(fake_runs, tmp_path):
    out = render_html(load_runs(fake_runs), tmp_path / "report" / "index.html")
    assert out == tmp_path / "report" / "index.html" and out.exists()
    text = out.read_text(encoding="utf-8")
    page = _Collector()
    page.feed(text)
    assert [h.replace("Module ", "") for h in page.h2] == MODULE_ORDER
    assert page.run_rows == 5
    assert page.external == [], "the page must be self-contained"
    assert len(page.imgs) == 3
    for img in page.imgs:
        assert img["alt"]
        payload = img["src"].split("base64,", 1)[1]
        assert base64.b64decode(payload)[:8] == b"\x89PNG\r\n\x1a\n"
    assert {img["alt"] for img in page.imgs} == {
        "toy-xor: decision boundary", "mlp-mnist: loss curves", "resnet: curves"}
    # header: date and counts
    assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    assert "5 runs in 4 modules" in text
    # columns, statuses coloured, details
    for col in ("experiment", "title", "metric", "ours", "paper", "floor", "status", "time"):
        assert re.search(rf"<th( class=\"num\")?>{col}</th>", text), col
    for status in ("passed", "failed", "skipped", "error", "done"):
        assert f'class="status status-{status}" style="background:' in text
    assert "\u2265 0.95" in text and "0.9823" in text and "1 h 2 min" in text
    assert "MNIST missing: run deepcourse data download mnist" in text
    assert "0123456789abcdef0123456789abcdef01234567" in text  # full commit in details
    assert "NVIDIA H100 (cuda)" in text and "&quot;hidden&quot;: 4" in text


def test_render_html_escapes_and_reports_missing_figures(tmp_path, make_summary):
    summary = make_summary("evil", "3", title="<script>alert(1)</script>",
                           figures=["figures/nowhere.png"])
    out = render_html([summary], tmp_path / "r.html")
    text = out.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "figure missing" in text and "<img" not in text


def test_render_html_accepts_paths_and_empty(fake_runs, tmp_path):
    out = render_html([fake_runs / "toy-xor"], tmp_path / "one.html")  # a folder holding one run
    assert out.read_text(encoding="utf-8").count('<tr class="run ') == 1
    empty = render_html([], tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "No runs to report." in empty
    assert isinstance(load_runs(fake_runs)[0], RunSummary)


def test_paper_column_comes_from_the_registered_reference(tmp_path, make_summary, write_run):
    """A recorded run keeps the paper values it was run with, but the README's paper column follows the
    experiment's current Reference.values: a number judged not comparable is dropped everywhere at once."""
    from deepcourse.core.registry import get

    exp = get("kl-example")
    rec = make_summary("kl-example", "3", preset="full", status="done", primary="kl_pq",
                       metrics={"kl_pq": 0.0851},
                       paper={"source": "old", "values": {"kl_pq": 123.0}})
    write_run(tmp_path / "runs", rec)
    md = render_markdown(load_runs([tmp_path / "runs"]))
    row = [c.strip() for c in next(line for line in md.splitlines() if "kl-example" in line).strip("|").split("|")]
    expected = exp.paper.values.get("kl_pq")
    assert row[4] == (f"{expected:.4g}" if expected is not None else "—")
