"""The feature networks of the generative metrics (deepcourse.metrics.generative.features)."""

from __future__ import annotations

import pytest
import torch

from deepcourse.cnn import ConvNet
from deepcourse.metrics.generative import (DOMAINS, FeatureNet, domain_features, domain_splits, get_recipe,
                                           load_domain_data, signed_images)
from deepcourse.metrics.generative.features import RECIPES


def test_recipes_cover_every_domain_and_small_ones_are_small():
    assert set(DOMAINS) == {"digits", "mnist", "fashion-mnist", "usps", "cifar10-jpeg"}
    for domain, rec in RECIPES["small"].items():
        full = get_recipe(domain)
        assert rec.kind == "small" and rec.subset == 2000 and rec.domain == domain
        assert (rec.channels, rec.size) == (full.channels, full.size) and rec.feature_dim <= full.feature_dim
    with pytest.raises(ValueError, match="domain"):
        get_recipe("svhn")
    with pytest.raises(ValueError, match="kind"):
        get_recipe("mnist", "tiny")
    with pytest.raises(ValueError, match="domain"):
        get_recipe("digits", "small")


def test_feature_net_is_the_registered_small_cnn():
    torch.manual_seed(0)
    rec = get_recipe("cifar10-jpeg", "small")
    net = FeatureNet(rec)
    assert isinstance(net.net, ConvNet) and net.input_shape == (3, 32, 32)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == list(rec.widths)  # one conv per stage
    x = torch.randn(4, 3, 32, 32)
    assert net.features(x).shape == (4, rec.feature_dim) and net(x).shape == (4, 10)
    assert net.predict(x).shape == (4,) and torch.allclose(net.probs(x).sum(1), torch.ones(4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\)"):
        net.predict(torch.randn(2, 1, 32, 32))


def test_digits_in_the_metric_convention():
    x, y = load_domain_data("digits", "train")
    xt, yt = load_domain_data("digits", "test")
    assert x.shape[1:] == (1, 8, 8) and x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1
    assert len(x) + len(xt) == 1797 and len(xt) == 359 and y.dtype == torch.int64  # load_splits: a fixed 20 %
    s = domain_splits("digits", subset=500, test_subset=100)
    assert s.x_train.shape == (500, 1, 8, 8) and s.x_test.shape == (100, 1, 8, 8)
    assert torch.equal(signed_images(torch.zeros(2, 64), "digits"), -torch.ones(2, 1, 8, 8))
    with pytest.raises(ValueError, match="split"):
        load_domain_data("digits", "val")


def test_digits_net_is_a_good_frozen_classifier():
    net = domain_features("digits")
    xt, yt = load_domain_data("digits", "test")
    assert net.fingerprint.startswith("digits-full-cnn-v2-") and net.meta["test_acc"] > 0.95
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert float((net.predict(xt) == yt).float().mean()) > 0.95
    assert domain_features("digits") is net  # memoised in the process


def test_load_real_domains_when_present(data_root):
    x, y = load_domain_data("usps", "test", data_root)
    assert x.shape[1:] == (1, 16, 16) and x.dtype == torch.float32 and len(x) == len(y) == 2007
    assert x.min() >= -1 and x.max() <= 1
    x, y = load_domain_data("mnist", "train", data_root, subset=300)
    assert x.shape == (300, 1, 28, 28) and torch.bincount(y, minlength=10).min() >= 25  # stratified
