"""The DCGAN architecture rules of Radford et al. 2016, checked on the built modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepcourse.core.models import list_models
from deepcourse.gan.networks import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                                     dcgan_optimizers)


@pytest.mark.parametrize("size,channels", [(8, 1), (28, 1), (32, 3)])
def test_dcgan_shapes(size, channels):
    g, d = DCGANGenerator(16, channels, size, base=8), DCGANDiscriminator(channels, size, base=8)
    x = g(torch.randn(5, 16))
    assert x.shape == (5, channels, size, size)
    assert x.abs().max() <= 1.0  # Tanh output
    assert d(x).shape == (5,)


@pytest.mark.parametrize("size", [8, 28, 32])
def test_dcgan_rules(size):
    g, d = DCGANGenerator(16, 1, size, base=8), DCGANDiscriminator(1, size, base=8)
    gl, dl = list(g.net), list(d.net)
    # no pooling and no fully connected hidden layers anywhere
    for m in list(g.modules()) + list(d.modules()):
        assert not isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.Linear))
    # G: fractionally-strided convolutions, BN + ReLU after each but the output layer, which is Tanh
    convs = [m for m in gl if isinstance(m, nn.ConvTranspose2d)]
    assert all(c.stride == (2, 2) for c in convs[1:])
    assert isinstance(gl[-1], nn.Tanh) and isinstance(gl[-2], nn.ConvTranspose2d)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in gl) == len(convs) - 1
    assert all(isinstance(m, nn.ReLU) for m in gl if isinstance(m, (nn.ReLU, nn.LeakyReLU)))
    # D: strided convolutions, no BN on the input layer, LeakyReLU(0.2) throughout
    assert isinstance(dl[0], nn.Conv2d) and dl[0].stride == (2, 2) and isinstance(dl[1], nn.LeakyReLU)
    assert all(m.negative_slope == 0.2 for m in dl if isinstance(m, nn.LeakyReLU))
    assert not any(isinstance(m, nn.ReLU) for m in dl)
    dconvs = [m for m in dl if isinstance(m, nn.Conv2d)]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in dl) == len(dconvs) - 2  # not input, not the score layer
    # N(0, 0.02) initialisation
    w = torch.cat([c.weight.flatten() for c in convs])
    assert 0.015 < w.std().item() < 0.025


def test_wgan_gp_critic_has_no_batch_norm():
    d = DCGANDiscriminator(1, 28, base=8, batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())


def test_dcgan_optimizers_beta1():
    g, d = DCGANGenerator(8, 1, 8, 4), DCGANDiscriminator(1, 8, 4)
    opts = dcgan_optimizers(g, d)
    for o in opts.values():
        assert o.defaults["betas"] == (0.5, 0.999) and o.defaults["lr"] == 2e-4


def test_mlp_gan_shapes():
    g = MLPGenerator(2, (16, 16), (2,))
    d = MLPDiscriminator((2,), (16,))
    assert g(torch.randn(7, 2)).shape == (7, 2) and d(torch.randn(7, 2)).shape == (7,)
    gi = MLPGenerator(10, (16,), (1, 8, 8), tanh=True)
    assert gi(torch.randn(3, 10)).shape == (3, 1, 8, 8)
    assert MLPDiscriminator((1, 8, 8), (16,), dropout=0.3)(gi(torch.randn(3, 10))).shape == (3,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="image_size"):
        DCGANGenerator(8, 1, 30)
    with pytest.raises(ValueError, match="latent_dim"):
        MLPGenerator(0)
    with pytest.raises(ValueError, match="dropout"):
        MLPDiscriminator(dropout=1.0)


def test_registered():
    import deepcourse.gan  # noqa: F401  (importing the topic package registers its networks)

    names = set(list_models())
    assert {"gan-mlp-g", "gan-mlp-d", "dcgan-g", "dcgan-d"} <= names
