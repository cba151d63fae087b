from __future__ import annotations

from deepcourse.core.registry import get


def test_same_protocol_as_vae_mnist_on_other_data():
    fashion, mnist = get("vae-fashion"), get("vae-mnist")
    assert fashion.module == "3" and fashion.quick == mnist.quick and fashion.full == mnist.full
    assert fashion.fn is not mnist.fn  # the dataset is what differs (asserted by the runs themselves)


def test_tiny_run_uses_fashion_features(run_tiny, data_root):
    import json

    summary, _, out = run_tiny("vae-fashion", "subset=300", "test_subset=200", "epochs=1", "hidden=16", "k=5",
                               "n_iw=20", "n_fid=100", data_root=data_root, raise_errors=True)
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    assert json.loads((out / "fid_features.json").read_text())["fingerprint"].startswith("fashion-mnist-small-")
