"""The ``cnn-cifar10`` experiment: quick preset meets its floor offline; per-model checkpoints resume.

Wall time of the quick preset on the 2-core development machine (shared with other jobs),
2026-11-26: about 11 s, test accuracy 0.967 on the digits test split.
"""

from __future__ import annotations

import json

import pytest

from deepcourse.core import ConfigError
from deepcourse.core.registry import get, run_experiment


@pytest.fixture(autouse=True)
def _no_tensorboard(monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")


def test_quick_meets_floor(tmp_path):
    summary = run_experiment("cnn-cifar10", "quick", out=tmp_path, progress=False)
    err = tmp_path / "error.txt"
    assert summary["status"] == "passed", (summary["status"], summary.get("reason"), err.read_text() if err.exists() else "")
    m = summary["metrics"]
    assert m["test_acc"] >= 0.9 and m["params"] > 0 and m["flops"] > 0 and m["train_images_per_s"] > 0
    assert (tmp_path / "table.md").read_text().count("| resnet18 |") == 1
    assert (tmp_path / "checkpoints" / "resnet18.pt").exists()
    assert set(summary["figures"]) == {"figures/val_accuracy.png", "figures/accuracy_vs_flops.png"}


def test_comparison_table_and_resume(tmp_path):
    overrides = {"compare": ("se-resnet18",), "model_args": ("width=4",), "epochs": 1, "bench_steps": 1,
                 "bench_batch": 8}
    first = run_experiment("cnn-cifar10", "quick", out=tmp_path, overrides=overrides, progress=False)
    assert first["status"] in ("passed", "failed"), first.get("reason")
    assert "se_gain_resnet18" in first["metrics"] and "test_acc_se-resnet18" in first["metrics"]
    table = (tmp_path / "table.md").read_text()
    assert "| se-resnet18 |" in table and "SE vs no SE" in table
    assert {p.name for p in (tmp_path / "checkpoints").iterdir()} == {"resnet18.pt", "se-resnet18.pt"}
    # resuming finished runs reloads each model's own checkpoint and reproduces its numbers
    again = run_experiment("cnn-cifar10", "quick", out=tmp_path, overrides=overrides, resume=True, progress=False)
    for k in ("test_acc", "test_acc_se-resnet18", "val_acc"):
        assert again["metrics"][k] == first["metrics"][k]
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert any("se-resnet18/val_acc" in r for r in rows)


def test_unknown_or_non_classifier_model_is_a_clear_error(tmp_path):
    for name in ("resnet-19", "unet"):
        summary = run_experiment("cnn-cifar10", "quick", out=tmp_path / name, overrides={"model": name}, progress=False)
        assert summary["status"] == "error" and "registered image classifier" in summary["reason"]


def test_bad_override_rejected():
    with pytest.raises(ConfigError, match="dataset"):
        get("cnn-cifar10").config("quick", {"dataset": "imagenet"})


def test_full_preset_is_the_comparison_on_cifar_jpeg():
    cfg = get("cnn-cifar10").config("full")
    assert cfg.dataset == "cifar10-jpeg" and cfg.crop_padding == 4 and cfg.flip
    assert {"preact-resnet18", "se-resnet18", "mobilenet-v2"} <= set(cfg.compare)


def test_full_preset_skips_without_data(tmp_path):
    summary = run_experiment("cnn-cifar10", "full", out=tmp_path / "run", data_root=tmp_path / "empty", progress=False,
                             device="cpu")
    assert summary["status"] == "skipped"
