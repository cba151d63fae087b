"""Each quick clustering experiment once (offline data), with its floor asserted."""

from __future__ import annotations

import json

import pytest

from deepcourse.core.registry import get, run_experiment

NAMES = ["dec-mnist", "dec-usps", "dec-fashion", "clustering-regularisers"]


def test_registered():
    for name in NAMES:
        exp = get(name)
        assert exp.module == "5" and exp.primary in exp.floor


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES[1:])
def test_quick_slow(name, tmp_path):
    s = run_experiment(name, "quick", out=tmp_path, raise_errors=True, progress=False)
    assert s["status"] == "passed", s["metrics"]


def test_dec_mnist_quick(tmp_path):
    s = run_experiment("dec-mnist", "quick", out=tmp_path, raise_errors=True, progress=False)
    assert s["status"] == "passed", s["metrics"]
    m = s["metrics"]
    assert {"acc_kmeans", "acc_dec_nobp", "acc_dec", "nmi_dec"} <= set(m)
    assert 0 <= m["acc_dec"] <= 100 and 0 <= m["nmi_dec"] <= 1  # ACC in %, as the paper's table
    figs = set(s["figures"])
    assert {"figures/latent_over_dec.png", "figures/most_confident.png"} <= figs
    assert json.loads((tmp_path / "summary.json").read_text())["paper"]["values"]["acc_dec"] == 84.30
    table = (tmp_path / "table.md").read_text()  # the notes' table, ours beside the paper's
    assert f"| DEC | {m['acc_dec']:.2f} | 84.30 | {m['nmi_dec']:.3f} |" in table
    assert "| k-means on pixels |" in table and "53.49" in table


def test_bad_dataset_name():
    from deepcourse.clustering.experiments import load_clustering_data

    with pytest.raises(ValueError, match="dataset must be one of"):
        load_clustering_data("cifar")


def test_regularisers_table_lists_every_variant_on_both_sets():
    from deepcourse.clustering.experiments import _VARIANT_NAMES, _regularisers_table_md

    cfg = get("clustering-regularisers").config("quick")
    m = {f"{w}_{k}{s}": 50.0 + i for i, (k, _) in enumerate(_VARIANT_NAMES) for w in ("acc", "nmi") for s in ("", "_2")}
    table = _regularisers_table_md(cfg, m)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "variant" not in line]
    assert len(rows) == len(_VARIANT_NAMES)
    assert all(line.count("|") == 4 for line in rows)  # no stray pipes inside a cell
    assert "| DEC | 51.00 / 51.000 | 51.00 / 51.000 |" in table
