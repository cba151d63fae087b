"""DenseNet-BC: parameter counts of Huang et al. 2017, Table 2, and the dense connectivity."""

from __future__ import annotations

import pytest
import torch

from deepcourse.cnn import DenseBlock, DenseNet, densenet_bc
from deepcourse.core.models import count_parameters


@pytest.mark.parametrize("depth, k, published", [(100, 12, 0.8e6), (250, 24, 15.3e6)])
def test_parameter_counts_match_paper(depth, k, published):
    assert count_parameters(densenet_bc(depth, k)) == pytest.approx(published, abs=0.05e6)


def test_cifar_output_shape():
    assert densenet_bc(40, 12)(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_block_concatenates_and_grows_by_k():
    block = DenseBlock(num_layers=4, in_channels=10, growth_rate=6)
    x = torch.randn(2, 10, 8, 8)
    out = block(x)
    assert out.shape == (2, 10 + 4 * 6, 8, 8)
    torch.testing.assert_close(out[:, :10], x)  # the block's input is passed on unchanged (Eq. 2)


def test_compression_halves_channels_at_transitions():
    model = densenet_bc(40, 12)  # 6 layers per block, stem 24
    convs = [m for m in model.blocks if not isinstance(m, DenseBlock)]
    assert [t[2].in_channels for t in convs] == [24 + 6 * 12, 48 + 6 * 12]
    assert [t[2].out_channels for t in convs] == [(24 + 6 * 12) // 2, (48 + 6 * 12) // 2]


def test_bottleneck_width_is_4k():
    model = densenet_bc(40, 12)
    layer = model.blocks[0].layers[0]
    assert layer.bottleneck[2].out_channels == 48 and layer.conv.out_channels == 12


@pytest.mark.parametrize("kwargs, word", [(dict(depth=101), "depth"), (dict(compression=0), "compression"),
                                          (dict(growth_rate=0), "growth_rate")])
def test_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        DenseNet(**kwargs)
