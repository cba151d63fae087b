"""pix2pix-edges2fashion on tiny overrides: every metric of the ablation and the two tables."""

from __future__ import annotations

import json

from deepcourse.core.registry import get, run_experiment

TINY = {"subset": 64, "epochs": 1, "eval_n": 50, "width": 4, "d_width": 4, "objectives": "L1,GAN,L1+cGAN",
        "patches": "pixel"}


def test_paper_numbers_are_not_presented_as_ours():
    assert get("pix2pix-edges2fashion").paper.values == {}  # another task and measure: shown in the table only


def test_tiny_run_tables(tmp_path, data_root):
    s = run_experiment("pix2pix-edges2fashion", "quick", out=tmp_path, overrides=TINY, progress=False,
                       raise_errors=True)
    m = s["metrics"]
    for o in ("l1", "gan", "l1_cgan"):
        assert {f"{o}_l1", f"{o}_ssim", f"{o}_acc", f"{o}_fid"} <= set(m)
    assert {"patch_pixel_fid", "patch_3_fid", "untrained_l1", "real_acc", "l1_cgan_l1_ratio",
            "gan_l1_ratio_gap"} <= set(m)
    assert (tmp_path / "figures" / "samples.png").exists()
    ablation, patches = json.loads((tmp_path / "table.json").read_text())
    assert [r["loss"] for r in ablation["rows"]] == ["L1", "GAN", "L1+cGAN", "real targets"]
    assert "mnist-small-cnn" in ablation["title"]  # the FID features are named
    assert [r["receptive field"] for r in patches["rows"]] == ["1x1 (PixelGAN)", "3x3"]
