"""U-Net: output size equals input size for several depths (odd sizes too), SE and dropout options,
dropout active at test time on request."""

from __future__ import annotations

import pytest
import torch

from deepcourse.cnn import MCDropout, SqueezeExcitation, UNet


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("size", [(32, 32), (33, 45)])
def test_output_size_equals_input_size(depth, size):
    model = UNet(in_channels=3, out_channels=5, depth=depth, base_width=4)
    assert model(torch.randn(2, 3, *size)).shape == (2, 5, *size)


def test_paper_layout_has_23_convolutions():
    model = UNet(1, 2, depth=4, base_width=64)
    convs = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert len(convs) == 23  # Ronneberger et al. 2015, sec. 2
    assert model.down[-1][3].out_channels == 1024


def test_bilinear_upsampling_and_out_activation():
    model = UNet(1, 1, depth=2, base_width=4, upsample="bilinear", out_activation="tanh")
    y = model(torch.randn(2, 1, 16, 16))
    assert y.shape == (2, 1, 16, 16) and y.abs().max() < 1


def test_se_option():
    model = UNet(1, 2, depth=2, base_width=8, se_reduction=4)
    assert sum(isinstance(m, SqueezeExcitation) for m in model.modules()) == 5  # 3 encoder + 2 decoder levels


def test_dropout_at_test_time():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 16)
    model = UNet(3, 3, depth=3, base_width=4, dropout=0.5).eval()
    torch.testing.assert_close(model(x), model(x))  # off in eval by default
    model.dropout_at_test = True
    assert model.dropout_at_test
    assert not torch.allclose(model(x), model(x))  # pix2pix: the generator's noise at test time
    built_on = UNet(3, 3, depth=3, base_width=4, dropout=0.5, dropout_at_test=True).eval()
    assert not torch.allclose(built_on(x), built_on(x))
    model.dropout_at_test = False
    torch.testing.assert_close(model(x), model(x))


def test_dropout_levels():
    model = UNet(1, 1, depth=4, base_width=4, dropout=0.5, dropout_levels=3)
    assert [isinstance(d, MCDropout) for d in model.dec_dropout] == [True, True, True, False]
    assert isinstance(model.bottleneck_dropout, MCDropout)


@pytest.mark.parametrize("kwargs, word", [(dict(depth=0), "depth"), (dict(dropout=1.5), "dropout"),
                                          (dict(norm="layer"), "norm"), (dict(upsample="nearest"), "upsample")])
def test_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        UNet(**kwargs)


def test_input_too_small_for_depth():
    with pytest.raises(ValueError, match="2\\*\\*depth"):
        UNet(1, 1, depth=4, base_width=4)(torch.randn(1, 1, 8, 8))
