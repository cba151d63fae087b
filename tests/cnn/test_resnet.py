"""ResNet / PreAct ResNet / SE-ResNet: shapes at CIFAR size, published parameter counts, and the
torchvision ResNet as a reference implementation (same weights -> same outputs)."""

from __future__ import annotations

import pytest
import torch
import torchvision

from deepcourse.cnn import PreActBlock, ResNet, SqueezeExcitation, preact_resnet18, resnet18, resnet34, resnet50, se_resnet18
from deepcourse.core.models import count_parameters


@pytest.mark.parametrize("factory", [resnet18, resnet34, preact_resnet18, se_resnet18])
def test_cifar_output_shape(factory):
    model = factory(num_classes=10)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("factory, published", [
    (resnet18, 11.17e6),        # CIFAR ResNet-18, 10 classes (e.g. kuangliu/pytorch-cifar: 11,173,962)
    (resnet34, 21.28e6),        # CIFAR ResNet-34: 21,282,122
    (preact_resnet18, 11.17e6),  # He et al. 2016b, CIFAR stem
])
def test_parameter_counts_match_published(factory, published):
    assert count_parameters(factory(num_classes=10)) == pytest.approx(published, rel=2e-3)


def test_in_channels_and_num_classes_are_configurable():
    model = resnet18(num_classes=7, in_channels=1, width=8)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 7)


def test_cifar_stem_keeps_resolution_and_has_no_maxpool():
    model = resnet18(width=8)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
    assert model.stem(torch.randn(1, 3, 32, 32)).shape[2:] == (32, 32)
    assert model.layer4(model.layer3(model.layer2(model.layer1(model.stem(torch.randn(1, 3, 32, 32)))))).shape[2:] == (4, 4)


def _copy_in_order(src: torch.nn.Module, dst: torch.nn.Module) -> None:
    """Load src's state into dst by position (both list conv, BN, shortcut, fc in the same order)."""
    a, b = src.state_dict(), dst.state_dict()
    assert [v.shape for v in a.values()] == [v.shape for v in b.values()]
    dst.load_state_dict(dict(zip(b.keys(), a.values())))


@pytest.mark.parametrize("ours, theirs", [(resnet18, torchvision.models.resnet18), (resnet50, torchvision.models.resnet50)])
def test_imagenet_stem_matches_torchvision(ours, theirs):
    torch.manual_seed(0)
    ref = theirs(num_classes=1000).eval()
    model = ours(num_classes=1000, stem="imagenet").eval()
    assert count_parameters(model) == count_parameters(ref)  # 11,689,512 and 25,557,032
    for m in ref.modules():  # non-trivial BN statistics, so that a mismatch would show
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    _copy_in_order(ref, model)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), rtol=1e-4, atol=1e-4)


def test_preact_block_is_identity_plus_residual():
    block = PreActBlock(8, 8).eval()
    x = torch.randn(2, 8, 6, 6)
    with torch.no_grad():
        block.conv2.weight.zero_()  # F(x) = 0: the block must return x exactly (2016b, Eq. 3)
        torch.testing.assert_close(block(x), x)
    assert block.shortcut is None


def test_preact_network_ends_with_bn_relu():
    model = preact_resnet18(width=8)
    assert isinstance(model.final[0], torch.nn.BatchNorm2d)
    assert model.preact and not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.stem)


def test_se_in_every_block():
    model = se_resnet18(width=16, se_reduction=4)
    blocks = [b for layer in (model.layer1, model.layer2, model.layer3, model.layer4) for b in layer]
    assert len(blocks) == 8 and all(isinstance(b.se, SqueezeExcitation) for b in blocks)
    assert count_parameters(model) > count_parameters(resnet18(width=16))


def test_zero_init_residual():
    model = resnet18(width=8, zero_init_residual=True)
    assert all(float(b.bn2.weight.detach().abs().sum()) == 0 for b in model.layer1)


@pytest.mark.parametrize("kwargs, word", [
    (dict(num_classes=0), "num_classes"), (dict(in_channels=-1), "in_channels"), (dict(width=0), "width"),
    (dict(stem="vgg"), "stem"), (dict(block="dense"), "block"), (dict(layers=(2, 2, 2)), "layers"),
    (dict(se_reduction=0), "se_reduction"),
])
def test_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ResNet(**kwargs)


def test_wrong_input_channels_message():
    with pytest.raises(ValueError, match="expected input"):
        resnet18(width=8)(torch.randn(2, 1, 32, 32))
