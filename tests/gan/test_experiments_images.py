"""Image GAN experiments: smoke runs on the offline digits here; the quick presets (floors) are `slow`.

Quick dcgan-mnist (digits 8x8, 1500 D steps), seed 0, on the loaded 2-core machine: domain FID 10.7
against 745 for the untrained generator, all 10 classes predicted (frequencies 6-12%), 183 s
including the first training of the digits feature network. gan-mnist quick (MLP, lr 1e-3): FID 48 vs 700,
10 classes, 156 s. All under load ~12 on 2 cores (CPU time is about a fifth of the wall time).
wgan-mnist quick (base 16, 2000 critic steps, RMSProp 5e-4), seeds 0-2 on the 2-core machine shared with two
full runs: Spearman(critic estimate, FID) 0.99 / 0.93 / 0.99, WGAN FID 48 / 43 / 42, 29-31 s each.
"""

from __future__ import annotations

import json

import pytest

import deepcourse.gan.experiments_images  # noqa: F401  (registers the experiments)
from deepcourse.core.registry import get, run_experiment

NAMES = ["gan-mnist", "dcgan-mnist", "dcgan-fashion", "dcgan-cifar10", "wgan-mnist"]


def test_registered():
    for n in NAMES:
        exp = get(n)
        assert exp.module == "2" and exp.floor
    assert get("dcgan-cifar10").full.dataset == "cifar10-jpeg"
    assert get("dcgan-mnist").full.beta1 == 0.5


def test_dcgan_smoke_run(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    s = run_experiment("dcgan-mnist", "quick", out=tmp_path, progress=False, raise_errors=True,
                       overrides=["steps=60", "eval_every=30", "n_eval=100", "base=8"])
    m = s["metrics"]
    assert m["fid_untrained"] > m["fid"] > 0
    for fig in ("samples", "interpolation", "nearest_neighbours", "fid_curve"):
        assert (tmp_path / "figures" / f"{fig}.png").stat().st_size > 1000
    assert json.loads((tmp_path / "fid_features.json").read_text())["fingerprint"].startswith("digits")
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert sum("fid" in x for x in lines) == 3  # steps 0, 30, 60


def test_wgan_smoke_run(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    s = run_experiment("wgan-mnist", "quick", out=tmp_path, progress=False, raise_errors=True,
                       overrides=["wgan_steps=60", "gan_steps=40", "eval_every=10", "n_eval=100", "base=8"])
    assert -1 <= s["metrics"]["rank_corr_wgan"] <= 1
    assert (tmp_path / "figures" / "critic_vs_fid.png").exists()


# dcgan-fashion and dcgan-cifar10 share dcgan-mnist's quick preset (offline digits): run them under -m slow only
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in ("dcgan-fashion", "dcgan-cifar10")
                                  else n for n in NAMES])
def test_quick_preset_meets_floor(name, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    s = run_experiment(name, "quick", out=tmp_path, progress=False)
    assert s["status"] == "passed", (s["reason"], s["metrics"])
