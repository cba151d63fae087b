"""cyclegan-mnist-usps on tiny overrides: metrics of each variant and the ablation table."""

from __future__ import annotations

import json

from deepcourse.core.registry import get, run_experiment

TINY = {"subset": 64, "epochs": 1, "eval_n": 50, "width": 4, "d_width": 4, "variants": "full,gan"}


def test_paper_numbers_are_not_presented_as_ours():
    assert get("cyclegan-mnist-usps").paper.values == {}


def test_tiny_run_table(tmp_path, data_root):
    s = run_experiment("cyclegan-mnist-usps", "quick", out=tmp_path, overrides=TINY, progress=False, raise_errors=True)
    m = s["metrics"]
    assert {"full_cycle_error", "full_acc_ab", "full_acc_ba", "gan_cycle_error", "gan_cycle_gap",
            "acc_gain_from_cycle", "real_acc_b", "identity_fid_b"} <= set(m)
    assert m["real_acc_b"] > 0.8  # the USPS classifier reads real USPS
    assert (tmp_path / "figures" / "translations.png").exists()
    rows = json.loads((tmp_path / "table.json").read_text())[0]["rows"]
    assert [r["variant"] for r in rows][:2] == ["CycleGAN (GAN + cycle)", "GAN alone"]
    assert rows[1]["cycle error ↓"] == m["gan_cycle_error"]
