"""``run_tiny``: run one module 0.1 experiment with tiny overrides into a temporary folder."""

from __future__ import annotations

import json

import pytest

from deepcourse.core.registry import run_experiment


@pytest.fixture
def run_tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")

    def run(name: str, *overrides: str, **kwargs):
        out = tmp_path / name
        summary = run_experiment(name, preset="quick", out=out, overrides=list(overrides), progress=False,
                                 threads=1, **kwargs)
        tables = json.loads((out / "table.json").read_text()) if (out / "table.json").exists() else []
        return summary, tables, out

    return run
