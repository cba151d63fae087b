"""gan-mnist: the MLP GAN of 2014 on a tiny override of its MNIST quick preset."""

from __future__ import annotations

from deepcourse.core.registry import get, run_experiment


def test_mlp_gan_tiny_run(tmp_path, data_root):
    assert get("gan-mnist").quick.arch == "mlp" and get("gan-mnist").quick.dataset == "mnist"
    s = run_experiment("gan-mnist", "quick", out=tmp_path, progress=False, raise_errors=True,
                       overrides=["subset=200", "steps=4", "eval_every=2", "n_eval=50", "hidden=16"])
    assert s["metrics"]["fid_untrained"] > 0 and (tmp_path / "figures" / "samples.png").exists()
