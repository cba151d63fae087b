"""wgan-mnist on tiny overrides: the critic-vs-FID figure, the optional JS-GAN baseline, the warm-up."""

from __future__ import annotations

import math

from deepcourse.core.registry import get, run_experiment


def test_full_preset_is_the_papers_recipe():
    full = get("wgan-mnist").full
    assert (full.wgan_lr, full.clip, full.n_critic, full.critic_warmup) == (5e-5, 0.01, 5, 25)


def test_tiny_run_with_the_js_gan_baseline(tmp_path, data_root):
    s = run_experiment("wgan-mnist", "quick", out=tmp_path, progress=False, raise_errors=True,
                       overrides=["subset=200", "wgan_steps=40", "gan_steps=12", "eval_every=4", "n_eval=50",
                                  "base=4", "critic_warmup=0"])
    m = s["metrics"]
    assert -1 <= m["rank_corr_wgan"] <= 1 and (math.isnan(m["rank_corr_jsgan"]) or -1 <= m["rank_corr_jsgan"] <= 1)
    assert {"fid_wgan", "fid_jsgan", "fid_ratio_wgan"} <= set(m)
    assert all((tmp_path / "figures" / f"{f}.png").exists() for f in ("critic_vs_fid", "wgan_samples"))


def test_checkpoints_inside_the_warm_up_are_left_out(tmp_path, data_root):
    # one warm-up G step = 100 critic steps: with 120 steps and checkpoints every 40 only step 120 is after it,
    # and a correlation of one point is undefined (nan), which a floor reports as missed
    s = run_experiment("wgan-mnist", "quick", out=tmp_path, progress=False,
                       overrides=["subset=200", "wgan_steps=120", "eval_every=40", "n_eval=50", "base=4"])
    assert math.isnan(s["metrics"]["rank_corr_wgan"]) and s["status"] == "failed"
