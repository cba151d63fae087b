from __future__ import annotations


def test_table_lists_the_four_variants(run_tiny, data_root):
    summary, tables, out = run_tiny("ae-regularisers", "subset=300", "test_subset=200", "epochs=1", "hidden=16",
                                    data_root=data_root, raise_errors=True)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    assert [r["variant"] for r in tables[0]["rows"]] == ["plain", "sparse", "contractive", "denoising"]
    m = summary["metrics"]
    assert m["sparse_code_ratio"] > 0 and m["contractive_sens_ratio"] > 0 and m["denoising_noisy_ratio"] > 0
    for fig in ("table", "denoising", "filters"):
        assert (out / "figures" / f"{fig}.png").exists()
