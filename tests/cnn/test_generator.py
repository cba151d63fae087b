"""ResnetBlock (reflection padding, identity when the residual branch is zero) and the residual generator."""

from __future__ import annotations

import pytest
import torch

from deepcourse.cnn import ResnetBlock, ResnetGenerator


def test_resnet_block_reflection_padding_and_identity():
    block = ResnetBlock(8)
    assert any(isinstance(m, torch.nn.ReflectionPad2d) for m in block.modules())
    assert all(m.padding == (0, 0) for m in block.modules() if isinstance(m, torch.nn.Conv2d))
    x = torch.randn(2, 8, 10, 10)
    assert block(x).shape == x.shape
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.zero_()
                m.bias.zero_()
    torch.testing.assert_close(block(x), x)  # residual branch 0 -> identity


def test_resnet_generator_shape_and_range():
    g = ResnetGenerator(3, 1, width=8, n_blocks=2)
    y = g(torch.randn(2, 3, 32, 32))
    assert y.shape == (2, 1, 32, 32) and y.abs().max() <= 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="channels"):
        ResnetBlock(0)
    with pytest.raises(ValueError, match="n_blocks"):
        ResnetGenerator(n_blocks=-1)
    with pytest.raises(ValueError, match="expected input"):
        ResnetBlock(8)(torch.randn(1, 4, 8, 8))
