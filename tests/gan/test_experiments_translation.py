"""pix2pix-edges2fashion and cyclegan-mnist-usps: reduced runs, and the quick presets' floors."""

from __future__ import annotations

import json

import pytest

import deepcourse.gan.experiments_translation  # noqa: F401  registers both experiments
from deepcourse.core.registry import get, run_experiment

PIX2PIX_SMALL = {"epochs": 1, "patches": "pixel", "train_limit": 256, "eval_n": 100}
CYCLE_SMALL = {"epochs": 1, "train_limit": 128, "eval_n": 100, "variants": "full,gan"}


def test_registered_with_floors():
    for name in ("pix2pix-edges2fashion", "cyclegan-mnist-usps"):
        exp = get(name)
        assert exp.module == "2" and exp.floor and exp.primary in exp.floor
    assert get("pix2pix-edges2fashion").full.dataset == "edges2fashion"
    assert get("cyclegan-mnist-usps").full.dataset == "mnist-usps"


def test_pix2pix_reduced_run(tmp_path):
    s = run_experiment("pix2pix-edges2fashion", "quick", out=tmp_path, overrides=PIX2PIX_SMALL, progress=False)
    assert s["status"] in ("passed", "failed"), s.get("reason")
    m = s["metrics"]
    for o in ("l1", "gan", "cgan", "l1_gan", "l1_cgan"):
        assert {f"{o}_l1", f"{o}_ssim", f"{o}_acc", f"{o}_fid"} <= set(m)
    assert {"patch_pixel_fid", "patch_3_fid", "untrained_l1", "real_acc"} <= set(m)
    assert m["l1_cgan_l1"] < m["untrained_l1"]  # even one epoch helps
    assert (tmp_path / "figures" / "samples.png").exists()
    assert "digits-cnn-" in (tmp_path / "feature_net.txt").read_text()
    table = (tmp_path / "table.md").read_text()  # the README's ablation table: one row per objective + patch sizes
    for row in ("| L1 |", "| GAN |", "| cGAN |", "| L1+GAN |", "| L1+cGAN |", "| 1x1 (PixelGAN) |", "| 3x3 |"):
        assert row in table
    assert f"| {m['l1_cgan_l1']:.3f} |" in table
    assert json.loads((tmp_path / "summary.json").read_text())["experiment"] == "pix2pix-edges2fashion"


def test_cyclegan_reduced_run(tmp_path):
    s = run_experiment("cyclegan-mnist-usps", "quick", out=tmp_path, overrides=CYCLE_SMALL, progress=False)
    assert s["status"] in ("passed", "failed"), s.get("reason")
    m = s["metrics"]
    assert {"full_cycle_error", "full_acc_ab", "full_acc_ba", "gan_cycle_error", "gan_cycle_gap", "real_acc_b"} <= set(m)
    assert m["real_acc_b"] > 0.95  # the digits net reads inverted digits through -x
    assert (tmp_path / "figures" / "translations.png").exists()
    table = (tmp_path / "table.md").read_text()
    assert "| CycleGAN (GAN + cycle) |" in table and "| GAN alone |" in table and "| cycle alone |" not in table
    assert f"| {m['gan_cycle_error']:.3f} |" in table


@pytest.mark.parametrize("name", ["pix2pix-edges2fashion", "cyclegan-mnist-usps"])
def test_quick_preset_passes_its_floor(name, tmp_path):
    s = run_experiment(name, "quick", out=tmp_path, progress=False)
    assert s["status"] == "passed", s["reason"]
