"""gan-grid25: a fast smoke run here; the full quick preset (floors) is a `slow` test.

Quick preset (non-saturating, WGAN-GP, coulomb-field; std 0.1; 2000 steps each), measured 2026-11-26 on the
2-core machine shared with two full runs (about 34 s per seed): modes of 25 (% high quality)
seed 0: 3 (7%), 5 (11%), 25 (61%); seed 1: 10 (16%), 8 (15%), 17 (34%); seed 2: 4 (10%), 12 (20%), 15 (23%).
"""

from __future__ import annotations

import pytest

import deepcourse.gan.experiments_2d  # noqa: F401  (registers gan-grid25 until gan/experiments.py imports it)
from deepcourse.core.registry import get, run_experiment


def test_registered_with_floors():
    exp = get("gan-grid25")
    assert exp.module == "2"
    assert {"modes_nonsaturating", "modes_coulomb-field", "modes_wgan-gp", "gap_coulomb_vs_gan"} <= set(exp.floor)


def test_smoke_run_writes_table_and_scatter(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    s = run_experiment("gan-grid25", "quick", out=tmp_path, progress=False, raise_errors=True,
                       overrides=["steps=40", "hidden=16", "batch_size=64", "n_eval=500", "n_train=1000",
                                  "methods=minimax,nonsaturating,wgan,wgan-gp,coulomb,coulomb-field"])
    for m in ("minimax", "nonsaturating", "wgan", "wgan-gp", "coulomb", "coulomb-field"):
        assert 0 <= s["metrics"][f"modes_{m}"] <= 25
        assert 0 <= s["metrics"][f"hq_{m}"] <= 100
    assert s["metrics"]["gap_coulomb_vs_gan"] == s["metrics"]["modes_coulomb-field"] - s["metrics"]["modes_nonsaturating"]
    assert (tmp_path / "figures" / "samples.png").stat().st_size > 1000
    table = (tmp_path / "table.md").read_text()  # one row per objective, in the order trained
    assert table.count("\n| ") == 7 and table.index("| GAN, minimax |") < table.index("| Coulomb, exact batch field |")
    assert f"| WGAN-GP | {s['metrics']['modes_wgan-gp']:.0f} | {s['metrics']['hq_wgan-gp']:.1f} |" in table


def test_bad_method_list(tmp_path):
    with pytest.raises(ValueError, match="methods"):
        run_experiment("gan-grid25", "quick", out=tmp_path, progress=False, raise_errors=True,
                       overrides=["methods=vae", "steps=1"])


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)])
def test_quick_preset_meets_floor(seed, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    s = run_experiment("gan-grid25", "quick", out=tmp_path, seed=seed, progress=False)
    assert s["status"] == "passed", (s["reason"], s["metrics"])
