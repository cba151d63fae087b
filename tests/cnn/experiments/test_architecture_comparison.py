"""``cnn-cifar10`` (src/deepcourse/cnn/experiments/architecture_comparison.py) with tiny overrides on the embedded
digits: the table, the figures, per-model checkpoints and resume, and clear errors. The quick preset's floor is
checked by the platform test (tests/test_experiments.py)."""

from __future__ import annotations

import json

import pytest

from deepcourse.core import ConfigError
from deepcourse.core.registry import get, run_experiment

TINY = {"dataset": "digits", "subset": 0, "test_subset": 0, "image_size": 0, "model_args": ("width=4",), "epochs": 1,
        "crop_padding": 1, "flip": False, "bench_steps": 1, "bench_batch": 8}


@pytest.fixture(autouse=True)
def _no_tensorboard(monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")


def test_comparison_table_figures_and_resume(tmp_path):
    overrides = {**TINY, "compare": ("se-resnet18",)}
    first = run_experiment("cnn-cifar10", "quick", out=tmp_path, overrides=overrides, progress=False, threads=1)
    assert first["status"] in ("passed", "failed"), first.get("reason")
    m = first["metrics"]
    assert "se_gain_resnet18" in m and "test_acc_se-resnet18" in m and m["params"] > 0 and m["flops"] > 0
    tables = json.loads((tmp_path / "table.json").read_text())
    assert [r["model"] for r in tables[0]["rows"]] == ["resnet18", "se-resnet18"]
    assert tables[1]["rows"][0]["with SE"] == "se-resnet18"
    assert {p.name for p in (tmp_path / "checkpoints").iterdir()} == {"resnet18.pt", "se-resnet18.pt"}
    assert set(first["figures"]) == {"figures/val_accuracy.png", "figures/accuracy_vs_flops.png"}
    # resuming finished runs reloads each model's own checkpoint and reproduces its numbers
    again = run_experiment("cnn-cifar10", "quick", out=tmp_path, overrides=overrides, resume=True, progress=False,
                           threads=1)
    for k in ("test_acc", "test_acc_se-resnet18", "val_acc"):
        assert again["metrics"][k] == m[k]
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert any("se-resnet18/val_acc" in r for r in rows)


def test_unknown_or_non_classifier_model_is_a_clear_error(tmp_path):
    for name in ("resnet-19", "unet"):
        summary = run_experiment("cnn-cifar10", "quick", out=tmp_path / name, overrides={**TINY, "model": name},
                                 progress=False)
        assert summary["status"] == "error" and "registered image classifier" in summary["reason"]


def test_bad_override_rejected():
    with pytest.raises(ConfigError, match="dataset"):
        get("cnn-cifar10").config("quick", {"dataset": "imagenet"})


def test_presets_train_on_cifar():
    quick, full = get("cnn-cifar10").config("quick"), get("cnn-cifar10").config("full")
    assert quick.dataset == full.dataset == "cifar10-jpeg" and 0 < quick.subset < 50_000
    assert full.subset == 0 and full.crop_padding == 4 and full.flip
    assert {"preact-resnet18", "se-resnet18", "mobilenet-v2"} <= set(full.compare)


def test_full_preset_skips_without_data(tmp_path):
    summary = run_experiment("cnn-cifar10", "full", out=tmp_path / "run", data_root=tmp_path / "empty", progress=False,
                             device="cpu")
    assert summary["status"] == "skipped"
