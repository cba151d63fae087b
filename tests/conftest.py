"""Shared fixtures: offline data root, quiet progress bars, Agg backend."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("DEEPCOURSE_PROGRESS", "0")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data_root() -> Path | None:
    """The offline dataset copy: $DEEPCOURSE_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get("DEEPCOURSE_DATA")
    for cand in ([Path(env)] if env else []) + [SHARED_DATA]:
        if (cand / "mnist").exists():
            return cand
    return None


@pytest.fixture
def data_root() -> Path:
    root = shared_data_root()
    if root is None:
        pytest.skip("real datasets not found: set DEEPCOURSE_DATA (see shared/data/MANIFEST.md)")
    return root


@pytest.fixture
def run_tiny(tmp_path, monkeypatch):
    """``run_tiny(name, "key=value", ...) -> (summary, tables, out)``: one experiment's quick preset with tiny
    overrides in a temporary folder (1 thread, no TensorBoard), for tests of its table and figures."""
    import json

    from deepcourse.core.registry import run_experiment

    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")

    def run(name: str, *overrides: str, **kwargs):
        out = tmp_path / name
        summary = run_experiment(name, preset="quick", out=out, overrides=list(overrides), progress=False,
                                 threads=1, **kwargs)
        tables = json.loads((out / "table.json").read_text()) if (out / "table.json").exists() else []
        return summary, tables, out

    return run
