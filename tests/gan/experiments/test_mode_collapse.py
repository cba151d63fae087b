"""gan-grid25 on tiny overrides: the table (one row per objective), the scatter, the checkpoint average."""

from __future__ import annotations

import json

import pytest

from deepcourse.core import ConfigError
from deepcourse.core.registry import run_experiment
from deepcourse.gan.experiments.mode_collapse import METHODS

TINY = ["steps=40", "hidden=16", "batch_size=64", "n_eval=500", "n_train=1000"]


def test_tiny_run_writes_table_and_scatter(tmp_path):
    s = run_experiment("gan-grid25", "quick", out=tmp_path, progress=False, raise_errors=True,
                       overrides=TINY + ["methods=" + ",".join(METHODS)])
    m = s["metrics"]
    for k in METHODS:
        assert 0 <= m[f"modes_{k}"] <= 25 and 0 <= m[f"hq_{k}"] <= 100 and 0 <= m[f"modes_mean_{k}"] <= 25
    assert m["gap_coulomb_vs_gan"] == m["modes_mean_coulomb-field"] - m["modes_mean_nonsaturating"]
    assert (tmp_path / "figures" / "samples.png").stat().st_size > 1000
    rows = json.loads((tmp_path / "table.json").read_text())[0]["rows"]
    assert [r["objective"] for r in rows][0] == "GAN, minimax" and len(rows) == 6  # in the order trained
    assert rows[3]["modes covered (of 25)"] == int(m["modes_wgan-gp"])


def test_bad_method_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="methods"):
        run_experiment("gan-grid25", "quick", out=tmp_path, progress=False, raise_errors=True,
                       overrides=["methods=vae", "steps=1"])


def test_authors_recipe_runs_and_logs_the_coverage_curve(tmp_path):
    """coulomb_recipe=authors trains the learned-D Coulomb GAN with the authors' loop; every checkpoint's coverage
    goes to metrics.jsonl (the curve of modes vs steps)."""
    # the full preset: the quick one's floors need the two arms it trains
    s = run_experiment("gan-grid25", "full", out=tmp_path, progress=False, raise_errors=True,
                       overrides=TINY + ["methods=coulomb", "coulomb_recipe=authors", "checkpoints=3"])
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    curve = [(r["step"], r["coulomb/coverage_modes"]) for r in rows if "coulomb/coverage_modes" in r]
    assert [step for step, _ in curve] == [20, 30, 40]
    assert sum(m for _, m in curve) / 3 == s["metrics"]["modes_mean_coulomb"]


def test_scaled_recipe_is_the_default_with_a_peak_scaled_d_and_decayed_lrs(tmp_path):
    """The default learned-D recipe wraps D in PeakScaled (its parameters sit under ``net.``) and ends training at
    coulomb_lr_decay of its lrs (G at coulomb_g_lr, D at lr); 'unscaled' has a plain D and constant lrs."""
    import torch

    for recipe, wrapped, lrs in ((None, True, (1e-5, 1e-4)), ("unscaled", False, (1e-3, 1e-3))):
        out = tmp_path / str(recipe)
        extra = [] if recipe is None else [f"coulomb_recipe={recipe}"]
        run_experiment("gan-grid25", "full", out=out, progress=False, raise_errors=True,
                       overrides=TINY + ["methods=coulomb", "checkpoints=1"] + extra)
        ckpt = torch.load(out / "checkpoint_coulomb.pt", weights_only=False)
        assert all(k.startswith("net.net.") == wrapped for k in ckpt["models"]["d"])
        final = tuple(ckpt["optimizers"][m]["param_groups"][0]["lr"] for m in ("g", "d"))
        assert final == pytest.approx(lrs, rel=1e-6)
