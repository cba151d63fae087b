"""The recorded results and the README agree: every ``results/*.json`` is a full run of a registered
experiment with its provenance, the figures it names exist, and the README's generated blocks are current."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deepcourse.core.registry import discover, get
from deepcourse.viz.report import load_runs, render_highlights, render_markdown

ROOT = Path(__file__).resolve().parents[1]
RESULTS = sorted((ROOT / "results").glob("*.json"))


@pytest.mark.parametrize("path", RESULTS, ids=[p.stem for p in RESULTS])
def test_result_is_a_full_run_with_provenance(path):
    discover()
    rec = json.loads(path.read_text())
    exp = get(rec["experiment"])  # raises for an experiment that no longer exists
    assert path.stem == exp.name
    assert rec["preset"] == "full" and rec["status"] == "done", (rec["preset"], rec["status"])
    assert rec["git_commit"] and rec["hardware"]["device"] and rec["wall_time_s"] > 0
    assert rec["primary"] in rec["metrics"]
    for fig in rec.get("showcase", []):
        assert (ROOT / fig).is_file(), f"{path.name} shows {fig}, which is missing"


def _block(text: str, key: str) -> str:
    return text.split(f"<!-- {key}:start -->", 1)[1].split(f"<!-- {key}:end -->", 1)[0].strip()


def test_readme_blocks_match_results():
    readme = (ROOT / "README.md").read_text()
    runs = load_runs([ROOT / "results"])
    assert _block(readme, "results") == render_markdown(runs).strip(), \
        "README results table is stale: run `deepcourse report results --readme README.md`"
    assert _block(readme, "highlights") == render_highlights(runs).strip(), \
        "README highlights are stale: run `deepcourse report results --readme README.md`"


def test_readme_experiment_list_is_current():
    # a fresh interpreter: other tests register toy experiments in this one
    code = "from deepcourse.cli import experiments_markdown; print(experiments_markdown())"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    readme = (ROOT / "README.md").read_text()
    assert _block(readme, "experiments") == fresh.strip(), \
        "README experiment list is stale: run `deepcourse report results --readme README.md`"


def test_every_shown_figure_is_recorded():
    shown = {f for p in RESULTS for f in json.loads(p.read_text()).get("showcase", [])}
    on_disk = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs" / "figures").glob("*.png")}
    assert on_disk <= shown, f"figures no result shows: {sorted(on_disk - shown)}"
