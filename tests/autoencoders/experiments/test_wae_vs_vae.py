from __future__ import annotations

import pytest

from deepcourse.core import ConfigError
from deepcourse.core.registry import get


def test_presets_follow_the_paper_where_it_matters():
    exp = get("wae-vs-vae")
    assert exp.module == "3" and exp.full.latent_dim == 8 and exp.full.lam_mmd == 10.0 and exp.full.lam_gan == 10.0
    assert exp.full.dataset == exp.quick.dataset == "mnist"


def test_smoke_table_and_figures(run_tiny, data_root):
    """The whole pipeline at toy size."""
    summary, tables, out = run_tiny("wae-vs-vae", "subset=200", "test_subset=100", "epochs=2", "widths=8,8",
                                    "disc_width=16", "n_fid=100", data_root=data_root, raise_errors=True)
    m = summary["metrics"]
    for k in ("rec_vae", "rec_mmd", "rec_gan", "fid_vae", "fid_mmd", "fid_gan"):
        assert m[k] > 0
    assert [r["model"] for r in tables[0]["rows"]] == ["VAE", "WAE-MMD", "WAE-GAN"]
    assert (out / "figures" / "table.png").exists() and (out / "figures" / "interpolation_wae_gan.png").exists()


def test_bad_override_is_rejected(run_tiny):
    with pytest.raises(ConfigError, match="dataset"):
        run_tiny("wae-vs-vae", "dataset=cifar", raise_errors=True)
