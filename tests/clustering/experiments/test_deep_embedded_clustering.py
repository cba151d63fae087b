"""dec-mnist, dec-usps, dec-fashion (src/deepcourse/clustering/experiments/deep_embedded_clustering.py): each on
its own data set, the Table 2 rows, the paper column only on the whole set, figures. The quick floors are checked
by the platform test (tests/test_experiments.py)."""

from __future__ import annotations

import pytest

from deepcourse.core.registry import get

from . import tiny

NAMES = ("dec-mnist", "dec-usps", "dec-fashion")


def test_each_preset_clusters_its_own_data():
    datasets = {name: (get(name).config("quick").dataset, get(name).config("full").dataset) for name in NAMES}
    assert datasets == {"dec-mnist": ("mnist", "mnist"), "dec-usps": ("usps", "usps"),
                        "dec-fashion": ("fashion-mnist", "fashion-mnist")}
    for name in NAMES:
        exp = get(name)
        assert exp.module == "5" and exp.primary in exp.floor and 0 < exp.config("quick").subset
        assert exp.config("full").subset == 0  # the paper clusters every image


def test_table_rows_and_figures_on_a_subset(run_tiny):
    s, tables, out = run_tiny("dec-mnist", *tiny(subset=300), raise_errors=True)
    m = s["metrics"]
    assert {"acc_kmeans", "acc_ae_kmeans", "acc_dec_nobp", "acc_dec", "acc_idec", "nmi_dec", "dec_gain",
            "nobp_change", "idec_minus_dec", "dec_nobp_iterations", "dec_nobp_converged", "idec_iterations"} <= set(m)
    assert 0 <= m["acc_dec"] <= 100 and 0 <= m["nmi_dec"] <= 1  # ACC in %, as the paper's table
    assert abs(m["dec_gain"] - (m["acc_dec"] - m["acc_ae_kmeans"])) < 1e-6
    assert m["input_scale"] > 1.0  # the paper's normalisation: mean (1/d)||x||^2 = 1 from [0, 1] pixels
    rows = tables[0]["rows"]
    assert [r["method"] for r in rows][0] == "k-means on pixels" and rows[-1]["method"].startswith("IDEC")
    assert [r["method"] for r in rows][-2] == "DEC" and "20 (cap" in rows[-2]["iterations"]
    assert "ACC % (paper)" not in rows[0]  # a 300-image subset is not the paper's data
    assert {"figures/latent_over_dec.png", "figures/most_confident.png",
            "figures/accuracy_over_iterations.png"} <= set(s["figures"])
    # the run folder holds what is needed to recompute ACC and NMI, and the trained models
    import numpy as np
    import torch

    from deepcourse.metrics import cluster_acc, nmi

    saved = np.load(out / "assignments.npz")
    for key in ("kmeans", "ae_kmeans", "dec_nobp", "dec", "idec"):
        assert 100 * cluster_acc(saved["y_true"], saved[f"y_pred_{key}"]) == pytest.approx(m[f"acc_{key}"], abs=1e-3)
        assert nmi(saved["y_true"], saved[f"y_pred_{key}"]) == pytest.approx(m[f"nmi_{key}"])
    model = torch.load(out / "dec_model.pt")
    assert model["dec"]["centroids"].shape == (10, 5) and model["input_scale"] == pytest.approx(m["input_scale"])
    assert "0.weight" in model["idec"]["encoder"]


def test_paper_column_on_the_whole_set(run_tiny):
    _, tables, _ = run_tiny("dec-mnist", *tiny(subset=0, max_iter=5), raise_errors=True)
    rows = {r["method"]: r for r in tables[0]["rows"]}
    assert rows["DEC"]["ACC % (paper)"] == 84.3 and rows["k-means on pixels"]["ACC % (paper)"] == 53.49


def test_code_scale_scales_the_codes_not_the_autoencoder_start(tmp_path, monkeypatch):
    """``code_scale`` multiplies the SDAE's codes (what DEC's kernel sees) and leaves SDAE + k-means alone."""
    from deepcourse.core.registry import run_experiment

    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")

    def metrics(scale: float) -> dict:
        over = tiny(subset=300, max_iter=0, idec=False, code_scale=scale)
        return run_experiment("dec-usps", preset="quick", out=tmp_path / str(scale), overrides=over, progress=False,
                              threads=1, raise_errors=True)["metrics"]

    a, b = metrics(1.0), metrics(3.0)
    assert b["code_rms"] == pytest.approx(3.0 * a["code_rms"], rel=1e-4)
    assert b["acc_ae_kmeans"] == pytest.approx(a["acc_ae_kmeans"])


def test_full_presets_of_issue_17():
    assert get("dec-usps").config("full").code_scale == 3.0  # the frozen-encoder study (see USPS_FULL)
    fashion = get("dec-fashion").config("full")
    assert fashion.finetune_epochs == 20 and not fashion.idec
    assert get("dec-mnist").config("full").code_scale == 1.0
