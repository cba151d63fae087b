"""The image-GAN driver: networks per architecture and loss, and one tiny training with its FID track."""

from __future__ import annotations

import torch

from deepcourse.core import Run
from deepcourse.gan.image_gan import ImageGANConfig, _step, build_image_gan, train_image_gan
from deepcourse.gan.networks import DCGANDiscriminator, MLPGenerator
from deepcourse.gan.training import GANStep, WGANStep


def test_build_and_step_per_loss():
    g, d = build_image_gan(ImageGANConfig(base=4), (1, 28, 28))
    assert g(torch.randn(2, g.latent_dim)).shape == (2, 1, 28, 28) and d(torch.randn(2, 1, 28, 28)).shape == (2,)
    _, d_gp = build_image_gan(ImageGANConfig(base=4, loss="wgan-gp"), (3, 32, 32))
    assert isinstance(d_gp, DCGANDiscriminator) and not any(isinstance(m, torch.nn.BatchNorm2d) for m in d_gp.modules())
    g_mlp, _ = build_image_gan(ImageGANConfig(arch="mlp", hidden=8), (1, 28, 28))
    assert isinstance(g_mlp, MLPGenerator)
    assert isinstance(_step(ImageGANConfig(), g, d), GANStep)
    w = _step(ImageGANConfig(loss="wgan", critic_warmup=3), g, d)
    assert isinstance(w, WGANStep) and w.clip == 0.01 and w.warmup_g_steps == 3


def test_tiny_training_tracks_fid_from_the_untrained_generator(tmp_path, data_root):
    cfg = ImageGANConfig(subset=100, fid_features="small", base=4, steps=4, eval_every=2, n_eval=50)
    run = Run(tmp_path, seed=0, progress=False, device="cpu")
    res = train_image_gan(cfg, run, data=None)
    assert res["track"]["step"] == [0, 2, 4] and all(f > 0 for f in res["track"]["fid"])
    assert res["x"].shape == (100, 1, 28, 28) and res["net"].fingerprint.startswith("mnist-small")
