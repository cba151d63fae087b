"""The module 3 VAE/WAE experiments: registration, quick floors, a resumed run, a full-preset smoke test."""

from __future__ import annotations

import json

import pytest
import torch

import deepcourse.autoencoders.experiments_vae as E  # noqa: F401  (registers the experiments)
from deepcourse.core.registry import get, run_experiment

NAMES = ["kl-example", "vae-mnist", "vae-fashion", "wae-vs-vae"]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")


def test_registered_in_module_3():
    for n in NAMES:
        exp = get(n)
        assert exp.module == "3" and exp.floor
    assert get("vae-mnist").paper.values["test_nll"] == 86.76
    assert get("vae-mnist").full.dataset == "mnist" and get("vae-fashion").full.dataset == "fashion-mnist"
    assert get("wae-vs-vae").full.latent_dim == 8 and get("wae-vs-vae").full.lam_mmd == 10.0


def test_kl_divergence_helpers():
    p = E.binomial_pmf(2, 0.4)
    assert torch.allclose(p, torch.tensor([9 / 25, 12 / 25, 4 / 25], dtype=torch.float64))
    q = torch.full((3,), 1 / 3, dtype=torch.float64)
    from scipy.stats import entropy

    assert abs(E.kl_divergence(p, q) - entropy(p.numpy(), q.numpy())) < 1e-12
    assert E.kl_divergence(p, p) == 0.0
    with pytest.raises(ValueError, match="probability vector"):
        E.kl_divergence(torch.tensor([0.5, 0.6]), torch.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="same length"):
        E.kl_divergence(torch.tensor([1.0]), torch.tensor([0.5, 0.5]))


def test_kl_example_reproduces_the_notes(tmp_path):
    s = run_experiment("kl-example", "quick", out=tmp_path, progress=False, raise_errors=True)
    assert s["status"] == "passed", s["reason"]
    m = s["metrics"]
    assert round(m["kl_pq"], 3) == 0.085 and abs(m["kl_qp"] - 0.0975) < 1e-4 and m["kl_qp"] > m["kl_pq"]


def test_vae_mnist_quick_meets_floor(tmp_path):
    s = run_experiment("vae-mnist", "quick", out=tmp_path, progress=False, raise_errors=True)
    assert s["status"] == "passed", (s["reason"], s["metrics"])
    m = s["metrics"]
    assert m["test_nll"] <= m["test_neg_elbo"]  # the IWAE bound is the tighter one
    for fig in ("samples", "reconstructions", "quantile_grid", "latent_2d", "interpolation", "elbo_curve"):
        assert (tmp_path / "figures" / f"{fig}.png").stat().st_size > 1000
    assert json.loads((tmp_path / "fid_features.json").read_text())["fingerprint"].startswith("digits-")


def test_wae_vs_vae_smoke(tmp_path):
    """The whole pipeline at toy size (the floors are checked by the slow test below)."""
    s = run_experiment("wae-vs-vae", "quick", out=tmp_path, progress=False, raise_errors=True,
                       overrides=["epochs=2", "widths=8,8", "disc_width=16", "n_fid=100"])
    m = s["metrics"]
    for k in ("rec_vae", "rec_mmd", "rec_gan", "fid_vae", "fid_mmd", "fid_gan"):
        assert m[k] > 0
    assert (tmp_path / "figures" / "table.png").stat().st_size > 1000
    assert (tmp_path / "figures" / "interpolation_wae_gan.png").exists()


@pytest.mark.slow
def test_wae_vs_vae_quick_meets_floor(tmp_path):
    s = run_experiment("wae-vs-vae", "quick", out=tmp_path, progress=False, raise_errors=True)
    assert s["status"] == "passed", (s["reason"], s["metrics"])


@pytest.mark.slow
def test_vae_fashion_quick_meets_floor(tmp_path):
    s = run_experiment("vae-fashion", "quick", out=tmp_path, progress=False, raise_errors=True)
    assert s["status"] == "passed", (s["reason"], s["metrics"])


def test_vae_resume_continues_to_the_same_result(tmp_path):
    """A run stopped after its VAE checkpoints resumes from them (fit's exact resume)."""
    over = ["epochs=3", "grid_epochs=2", "hidden=16", "latent_dim=2", "k=20", "n_iw=50", "n_fid=100"]
    a = run_experiment("vae-mnist", "quick", out=tmp_path / "a", progress=False, raise_errors=True, overrides=over)
    b = run_experiment("vae-mnist", "quick", out=tmp_path / "a", progress=False, raise_errors=True, overrides=over,
                       resume=True)
    assert b["metrics"]["test_neg_elbo"] == pytest.approx(a["metrics"]["test_neg_elbo"], abs=0.05)


def test_bad_override_is_rejected(tmp_path):
    from deepcourse.core import ConfigError

    with pytest.raises(ConfigError, match="dataset"):
        run_experiment("vae-mnist", "quick", out=tmp_path, progress=False, raise_errors=True,
                       overrides=["dataset=cifar"])


@pytest.mark.slow
def test_full_preset_on_real_data_smoke(tmp_path, data_root):
    """The full preset's code path on MNIST at toy size (skipped without the shared data)."""
    s = run_experiment("vae-mnist", "full", out=tmp_path, progress=False, raise_errors=True, data_root=data_root,
                       overrides=["epochs=1", "grid_epochs=1", "hidden=32", "k=10", "n_iw=20", "n_fid=200",
                                  "threads=1"])
    assert s["status"] == "done" and s["metrics"]["test_nll"] > 0
