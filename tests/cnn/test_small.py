"""LeNet-300-100 and Conv-2/4/6 of the lottery-ticket paper (Frankle & Carbin 2019, Figure 2)."""

from __future__ import annotations

import pytest
import torch

from deepcourse.cnn import ConvNet, LeNet300100, conv2, conv4, conv6
from deepcourse.core.models import count_parameters


def test_lenet_300_100_parameters_and_shapes():
    model = LeNet300100()
    assert count_parameters(model) == 266_610
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert model(torch.randn(2, 784)).shape == (2, 10)


@pytest.mark.parametrize("factory, published", [(conv2, 4.3e6), (conv4, 2.4e6)])
def test_conv_parameters_match_figure_2(factory, published):
    assert count_parameters(factory()) == pytest.approx(published, abs=0.05e6)


def _vgg_like_count(blocks: int, side: int = 32) -> int:
    """Weights + biases of the layers Figure 2 lists: 3x3 conv pairs, FC 256-256-10."""
    n, c = 0, 3
    for i in range(blocks):
        w = 64 * 2 ** i
        n += (9 * c * w + w) + (9 * w * w + w)
        c = w
    flat = c * (side // 2 ** blocks) ** 2
    return n + (flat * 256 + 256) + (256 * 256 + 256) + (256 * 10 + 10)


@pytest.mark.parametrize("factory, blocks", [(conv2, 1), (conv4, 2), (conv6, 3)])
def test_conv_layer_arithmetic(factory, blocks):
    # Figure 2 says 1.7M for Conv-6, but its own layer list gives 2.26M; we build the layers
    assert count_parameters(factory()) == _vgg_like_count(blocks)


@pytest.mark.parametrize("factory", [conv2, conv4, conv6])
def test_conv_output_shapes(factory):
    assert factory()(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert factory(in_channels=1, image_size=28)(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_bad_arguments():
    with pytest.raises(ValueError, match="image_size"):
        ConvNet(blocks=3, image_size=4)
    with pytest.raises(ValueError, match="hidden"):
        LeNet300100(hidden=(300,))
    with pytest.raises(ValueError, match="input features"):
        LeNet300100()(torch.randn(2, 1, 32, 32))
