from __future__ import annotations


def test_tiny_run_writes_every_figure(run_tiny, data_root):
    summary, _, out = run_tiny("ae-mnist", "subset=300", "test_subset=200", "epochs=2", "snapshots=0,2",
                               data_root=data_root, raise_errors=True)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    m = summary["metrics"]
    assert 0 < m["test_mse"] < 0.2 and 0 < m["probe_acc"] <= 1
    for fig in ("loss", "reconstructions", "latent", "latent_snapshots", "interpolation"):
        assert (out / "figures" / f"{fig}.png").exists()


def test_missing_mnist_skips_with_reason(run_tiny, tmp_path):
    summary, _, _ = run_tiny("ae-mnist", "subset=300", "epochs=1", data_root=tmp_path / "nowhere")
    assert summary["status"] == "skipped" and "mnist" in summary["reason"].lower()
