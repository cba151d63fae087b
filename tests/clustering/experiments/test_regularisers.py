"""clustering-regularisers (src/deepcourse/clustering/experiments/regularisers.py): one row per variant on both
data sets, cluster-size KL, the figures. The quick floors are checked by the platform test."""

from __future__ import annotations

import pytest
import torch

from deepcourse.clustering.experiments.regularisers import LABELS, size_kl
from deepcourse.core import ConfigError
from deepcourse.core.registry import get

from . import tiny


def test_size_kl():
    assert size_kl(torch.arange(10).repeat(3), 10) == pytest.approx(0.0)
    assert size_kl(torch.zeros(30, dtype=torch.long), 10) == pytest.approx(torch.log(torch.tensor(10.0)).item())


def test_variants_are_a_checked_tuple():
    assert get("clustering-regularisers").config("quick", ["variants=dec,zipf"]).variants == ("dec", "zipf")
    with pytest.raises(ConfigError, match="variants"):
        get("clustering-regularisers").config("quick", ["variants=dec,kmeans"])


def test_table_lists_every_variant_on_both_sets(run_tiny):
    s, tables, _ = run_tiny("clustering-regularisers", *tiny(subset=200, dataset2="digits", subset2=150, hidden2=16,
                                                          finetune_epochs2=2,
                                                          variants="dec,idec,balanced,zipf,locality,selfaug"),
                            raise_errors=True)
    assert [t["title"] for t in tables] == ["DEC and its regularisers on digits (200 images)",
                                            "DEC and its regularisers on digits (150 images)"]
    for table in tables:
        rows = table["rows"]
        assert [r["variant"] for r in rows] == [LABELS[k] for k in ("ae_kmeans", "dec", "idec", "balanced", "zipf",
                                                                    "locality", "selfaug")]
        assert all(set(r) == {"variant", "ACC %", "NMI", "KL(sizes‖uniform)", "KL(sizes‖Zipf)"} for r in rows)
    m = s["metrics"]
    assert {"acc_dec", "acc_idec_2", "size_kl_balanced", "nmi_selfaug_2", "zipf_gain", "balance_gain_2",
            "idec_gain_2"} <= set(m)
    assert m["zipf_gain"] == m["zipf_kl_dec"] - m["zipf_kl_zipf"]
    assert m["dec_change_gap"] == pytest.approx(m["dec_change"] - m["dec_change_2"])
    assert "figures/cluster_sizes_digits.png" in s["figures"]
