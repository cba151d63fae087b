"""MobileNet v1/v2: parameter counts of the papers, torchvision's MobileNetV2 as a reference, the width
multiplier and the inverted residual's shortcut rule."""

from __future__ import annotations

import pytest
import torch
import torchvision

from deepcourse.cnn import DepthwiseSeparable, InvertedResidual, MobileNetV1, MobileNetV2, mobilenet_v1, mobilenet_v2
from deepcourse.core.models import count_parameters


def test_cifar_output_shapes():
    x = torch.randn(2, 3, 32, 32)
    assert mobilenet_v1()(x).shape == (2, 10)
    assert mobilenet_v2()(x).shape == (2, 10)


def test_v2_parameters_for_10_classes():
    n = count_parameters(mobilenet_v2(num_classes=10))
    assert 2.2e6 <= n <= 2.3e6
    assert n == count_parameters(torchvision.models.mobilenet_v2(num_classes=10))


@pytest.mark.parametrize("alpha, published", [(1.0, 4.2e6), (0.75, 2.6e6), (0.5, 1.3e6), (0.25, 0.5e6)])
def test_v1_imagenet_parameters_match_paper(alpha, published):
    # Howard et al. 2017, Table 6 (1000 classes, given to 0.1M)
    assert count_parameters(mobilenet_v1(1000, alpha=alpha, cifar_stem=False)) == pytest.approx(published, abs=0.06e6)


def test_v2_imagenet_parameters_match_paper():
    assert count_parameters(mobilenet_v2(1000, cifar_stem=False)) == pytest.approx(3.4e6, abs=0.11e6)  # Table 3


def test_v2_matches_torchvision_outputs():
    torch.manual_seed(0)
    ref = torchvision.models.mobilenet_v2(num_classes=10).eval()
    model = mobilenet_v2(10, cifar_stem=False).eval()
    a, b = ref.state_dict(), model.state_dict()
    assert [v.shape for v in a.values()] == [v.shape for v in b.values()]
    model.load_state_dict(dict(zip(b.keys(), a.values())))
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), rtol=1e-4, atol=1e-4)


def test_depthwise_separable_structure_and_cost():
    block = DepthwiseSeparable(32, 64)
    dw, pw = block.depthwise[0], block.pointwise[0]
    assert dw.groups == 32 and dw.weight.shape == (32, 1, 3, 3) and pw.weight.shape == (64, 32, 1, 1)
    assert isinstance(block.depthwise[2], torch.nn.ReLU6)
    full = 3 * 3 * 32 * 64
    assert dw.weight.numel() + pw.weight.numel() == 3 * 3 * 32 + 32 * 64 < full / 7  # Eq. 5: ~8-9x cheaper


def test_width_multiplier_scales_channels():
    assert mobilenet_v1(alpha=0.5).features_dim == 512
    assert count_parameters(mobilenet_v1(alpha=0.5)) < 0.35 * count_parameters(mobilenet_v1())


def test_inverted_residual_rules():
    same = InvertedResidual(16, 16, 1, 6)
    assert same.use_residual
    assert not InvertedResidual(16, 24, 1, 6).use_residual and not InvertedResidual(16, 16, 2, 6).use_residual
    expand, dw, project = same.block[0], same.block[1], same.block[-1]
    assert expand[0].out_channels == 96 and dw[0].groups == 96
    assert len(project) == 2  # conv + BN, no activation: the linear bottleneck
    x = torch.randn(2, 16, 8, 8)
    with torch.no_grad():
        project[1].weight.zero_()
        project[1].bias.zero_()
        torch.testing.assert_close(same.eval()(x), x)


@pytest.mark.parametrize("cls, kwargs, word", [
    (MobileNetV1, dict(alpha=0), "alpha"), (MobileNetV2, dict(alpha=-1.0), "alpha"),
    (MobileNetV2, dict(expansion=0), "expansion"), (MobileNetV1, dict(activation="gelu"), "activation"),
])
def test_bad_arguments(cls, kwargs, word):
    with pytest.raises(ValueError, match=word):
        cls(**kwargs)
