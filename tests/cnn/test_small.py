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


def test_convnet_options_give_the_small_cnns_of_other_modules():
    # conv-BN-ReLU-pool stack with one feature layer (quantisation nets, the FID feature network)
    net = ConvNet(num_classes=10, in_channels=1, image_size=28, widths=(8, 16), convs_per_block=1, batch_norm=True,
                  hidden=32, hidden_layers=1)
    x = torch.randn(4, 1, 28, 28)
    assert net(x).shape == (4, 10) and net.embed(x).shape == (4, 32) and net.feature_dim == 32
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in net) == 2
    assert all(m.bias is None for m in net if isinstance(m, torch.nn.Conv2d))
    # global average pooling and a linear classifier: any input size
    gap = ConvNet(num_classes=3, in_channels=1, image_size=8, widths=(4, 8), hidden_layers=0, global_pool=True,
                  dropout=0.2)
    assert gap(torch.randn(2, 1, 12, 12)).shape == (2, 3) and gap.feature_dim == 8
    assert sum(isinstance(m, torch.nn.Dropout) for m in gap) == 1


def test_convnet_is_a_flat_sequential_of_modules():
    from deepcourse.core.models import count_parameters

    net = conv2(image_size=8, width=4, hidden=16, dropout=0.1)
    assert isinstance(net, torch.nn.Sequential) and all(len(list(m.children())) == 0 for m in net)
    assert [type(m).__name__ for m in net][-3:] == ["ReLU", "Dropout", "Linear"]
    assert count_parameters(net) == (9 * 3 * 4 + 4) + (9 * 4 * 4 + 4) + (4 * 16 * 16 + 16) + (16 * 16 + 16) + (16 * 10 + 10)
    net.eval()
    x = torch.randn(3, 3, 8, 8)
    assert torch.equal(net[-1](net.embed(x)), net(x))


def test_convnet_bad_options():
    with pytest.raises(ValueError, match="widths"):
        ConvNet(widths=())
    with pytest.raises(ValueError, match="hidden_layers"):
        ConvNet(hidden_layers=-1)
    with pytest.raises(ValueError, match="expected input"):
        ConvNet(in_channels=1, image_size=8, width=4, hidden=8)(torch.randn(2, 3, 8, 8))
