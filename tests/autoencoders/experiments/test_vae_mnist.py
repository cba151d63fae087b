from __future__ import annotations

import json

import pytest

from deepcourse.core.registry import get

TINY = ("subset=300", "test_subset=200", "epochs=2", "hidden=16", "latent_dim=2", "k=10", "n_iw=50", "n_fid=100")


def test_presets():
    exp = get("vae-mnist")
    assert exp.module == "3" and exp.paper.values["test_nll"] == 86.76
    assert exp.full.hidden == 200 and exp.full.latent_dim == 50 and exp.full.k == 5000
    assert exp.quick.subset and exp.full.subset is None
    assert exp.quick.fid_features == "small" and exp.full.fid_features == "full"


def test_tiny_run_writes_figures_and_fid_features(run_tiny, data_root):
    summary, _, out = run_tiny("vae-mnist", *TINY, data_root=data_root, raise_errors=True)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    m = summary["metrics"]
    assert m["test_nll"] <= m["test_neg_elbo"] + 1.0  # the IWAE bound is the tighter one (k = 10: up to noise)
    for fig in ("samples", "reconstructions", "quantile_grid", "latent_2d", "interpolation", "elbo_curve"):
        assert (out / "figures" / f"{fig}.png").exists()
    assert json.loads((out / "fid_features.json").read_text())["fingerprint"].startswith("mnist-small-")


def test_resume_continues_to_the_same_result(run_tiny, data_root):
    """A run stopped after its VAE checkpoints resumes from them (fit's exact resume)."""
    first, _, _ = run_tiny("vae-mnist", *TINY, data_root=data_root, raise_errors=True)
    again, _, _ = run_tiny("vae-mnist", *TINY, data_root=data_root, raise_errors=True, resume=True)
    assert again["metrics"]["test_neg_elbo"] == pytest.approx(first["metrics"]["test_neg_elbo"], abs=0.05)


@pytest.mark.slow
def test_full_preset_on_real_data_smoke(tmp_path, data_root):
    """The full preset's code path (full FID features, separate 2-D VAE) on MNIST at toy size."""
    from deepcourse.core.registry import run_experiment

    s = run_experiment("vae-mnist", "full", out=tmp_path, progress=False, raise_errors=True, data_root=data_root,
                       threads=1, overrides=["epochs=1", "grid_epochs=1", "hidden=32", "k=10", "n_iw=20", "n_fid=200"])
    assert s["status"] == "done" and s["metrics"]["test_nll"] > 0 and "neg_elbo_2d" in s["metrics"]
