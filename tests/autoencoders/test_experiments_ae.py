from __future__ import annotations

import numpy as np
import pytest

from deepcourse.core.registry import get, run_experiment

AE_EXPERIMENTS = ["ae-mnist", "ae-regularisers", "linear-ae-pca", "hopfield-denoise"]


@pytest.mark.parametrize("name", AE_EXPERIMENTS)
def test_quick_meets_floor(name, tmp_path):
    summary = run_experiment(name, "quick", out=tmp_path / name, raise_errors=True, progress=False)
    assert summary["status"] == "passed", summary["reason"]
    assert summary["figures"], f"{name} saved no figure"
    for rel in summary["figures"]:
        assert (tmp_path / name / rel).exists()
    exp = get(name)
    assert exp.module == "3"
    if name == "ae-regularisers":
        table = (tmp_path / name / "table.md").read_text()
        assert all(k in table for k in ("plain", "sparse", "contractive", "denoising"))


def test_floors_can_fail(tmp_path):
    # too few steps: the linear AE has not reached the PCA subspace yet
    summary = run_experiment("linear-ae-pca", "quick", out=tmp_path / "short", overrides={"steps": 5},
                             raise_errors=True, progress=False)
    assert summary["status"] == "failed"
    assert "max_angle_deg" in summary["reason"]
    # without noise the "noisy" inputs are clean: the salt-and-pepper floor on the input accuracy fails
    summary = run_experiment("hopfield-denoise", "quick", out=tmp_path / "clean", overrides={"sp_density": 0.0},
                             raise_errors=True, progress=False)
    assert summary["status"] == "failed"


def test_glyphs_are_weakly_correlated_binary_patterns():
    from deepcourse.autoencoders.experiments_ae import binary_glyphs

    xi, names = binary_glyphs(24)
    assert xi.shape == (6, 576) and len(names) == 6
    assert set(np.unique(xi)) == {-1.0, 1.0}
    m = xi @ xi.T / xi.shape[1]
    assert np.abs(m - np.eye(6)).max() <= 0.3
    with pytest.raises(ValueError, match="size"):
        binary_glyphs(4)
