"""Every registered experiment's quick preset reaches its floor: seed 0 in the normal suite, seeds 0-4 with
one and with two threads under ``make test-slow``. The list comes from the registry, never by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepcourse.core.registry import all_experiments

EXPERIMENTS = [e for e in all_experiments() if e.fn.__module__.startswith("deepcourse.")]


def _check(name: str, out: Path, seed: int, threads: int | None) -> None:
    from deepcourse.core.registry import run_experiment

    s = run_experiment(name, "quick", out=out, seed=seed, progress=False, threads=threads)
    if s["status"] == "skipped":
        pytest.skip(f"{name}: {s['reason']}")
    if s["status"] == "error":
        err = out / "error.txt"
        pytest.fail(f"{name} raised: {s['reason']}\n{err.read_text() if err.exists() else ''}")
    assert s["status"] == "passed", f"{name} (seed {seed}, threads {threads}) missed its floor: {s['reason']}"
    assert json.loads((out / "summary.json").read_text())["status"] == "passed"


def _params(slow: bool):
    for e in EXPERIMENTS:
        marks = [pytest.mark.slow] if (slow or e.slow) else []
        yield pytest.param(e.name, marks=marks, id=e.name)


def test_registry_is_not_empty_and_sources_are_packages():
    assert len(EXPERIMENTS) >= 40
    for e in EXPERIMENTS:
        assert "/experiments/" in e.source, f"{e.name} is defined in {e.source}, not in a topic's experiments/ package"


@pytest.mark.parametrize("name", list(_params(slow=False)))
def test_quick_floor_seed0(name, tmp_path):
    _check(name, tmp_path / "run", seed=0, threads=None)


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("name", [e.name for e in EXPERIMENTS])
def test_quick_floor_seeds_0_to_4(name, seed, threads, tmp_path):
    _check(name, tmp_path / "run", seed=seed, threads=threads)
