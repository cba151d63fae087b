"""dcgan-mnist / dcgan-fashion / dcgan-cifar10 (and the driver they share) on tiny overrides: each trains on
its own dataset, writes its figures and the fingerprint of the FID features."""

from __future__ import annotations

import json

import pytest

from deepcourse.core.registry import get, run_experiment

TINY = ["subset=200", "steps=6", "eval_every=3", "n_eval=50", "base=4"]


def test_each_quick_preset_trains_on_its_own_dataset():
    datasets = {n: get(n).quick.dataset for n in ("dcgan-mnist", "dcgan-fashion", "dcgan-cifar10")}
    assert datasets == {"dcgan-mnist": "mnist", "dcgan-fashion": "fashion-mnist", "dcgan-cifar10": "cifar10-jpeg"}
    for n in datasets:
        q, f = get(n).quick, get(n).full
        assert q.subset and q.fid_features == "small" and f.subset == 0 and f.fid_features == "full"
        assert f.beta1 == 0.5 and f.lr == 2e-4  # the paper's Adam


@pytest.mark.parametrize("name,prefix", [("dcgan-mnist", "mnist-small"), ("dcgan-cifar10", "cifar10-jpeg-small")])
def test_tiny_run_writes_figures_and_feature_fingerprint(name, prefix, tmp_path, data_root):
    s = run_experiment(name, "quick", out=tmp_path, progress=False, raise_errors=True, overrides=TINY)
    m = s["metrics"]
    assert m["fid_untrained"] > 0 and m["fid_ratio"] == pytest.approx(m["fid"] / m["fid_untrained"])
    assert 0 <= m["classes_covered"] <= 10 and 1 <= m["classifier_score"] <= 10
    for fig in ("samples", "interpolation", "nearest_neighbours", "fid_curve"):
        assert (tmp_path / "figures" / f"{fig}.png").stat().st_size > 1000
    assert json.loads((tmp_path / "fid_features.json").read_text())["fingerprint"].startswith(prefix)
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert sum("fid" in x for x in lines) == 3  # steps 0, 3, 6
