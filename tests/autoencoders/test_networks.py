from __future__ import annotations

import pytest
import torch

from deepcourse.autoencoders.networks import (
    ConvDecoder,
    ConvEncoder,
    DenseDecoder,
    DenseEncoder,
    conv_base_size,
    make_autoencoder,
)
from deepcourse.core.models import create_model, list_models


def test_dense_encoder_flattens_and_ends_linear():
    enc = DenseEncoder(784, (32, 16), 3, activation="tanh", batchnorm=True)
    x = torch.rand(5, 1, 28, 28)
    z = enc(x)
    assert z.shape == (5, 3)
    assert isinstance(enc.net[-1], torch.nn.Linear)
    # a linear last layer can produce negative codes (no ReLU/sigmoid clipping)
    assert (enc(torch.randn(64, 784)) < 0).any()


@pytest.mark.parametrize("output", ["sigmoid", "identity"])
def test_dense_decoder_shape_and_output(output):
    dec = DenseDecoder(3, (16, 32), (1, 28, 28), output=output)
    x = dec(torch.randn(7, 3) * 10)
    assert x.shape == (7, 1, 28, 28)
    if output == "sigmoid":
        assert (x >= 0).all() and (x <= 1).all()
    else:
        assert (x < 0).any() or (x > 1).any()


@pytest.mark.parametrize("size,widths", [(28, (8, 16)), (32, (8, 16, 16)), (16, (8, 16)), (8, (4, 8))])
@pytest.mark.parametrize("channels", [1, 3])
def test_conv_pair_shapes(size, widths, channels):
    enc = ConvEncoder(channels, size, widths, 5)
    dec = ConvDecoder(5, channels, size, tuple(reversed(widths)), output="identity")
    x = torch.randn(2, channels, size, size)
    z = enc(x)
    assert z.shape == (2, 5)
    assert dec(z).shape == (2, channels, size, size)


def test_conv_encoder_accepts_flat_and_unbatched_channel():
    enc = ConvEncoder(1, 8, (4, 8), 2)
    assert enc(torch.randn(3, 64)).shape == (3, 2)
    assert enc(torch.randn(3, 8, 8)).shape == (3, 2)
    with pytest.raises(ValueError, match="ConvEncoder expects"):
        enc(torch.randn(3, 65))


@pytest.mark.parametrize("size,depth", [(28, 3), (30, 2), (8, 4)])
def test_unreachable_image_size_raises(size, depth):
    with pytest.raises(ValueError, match=f"image_size={size}"):
        ConvEncoder(1, size, (4,) * depth, 2)
    with pytest.raises(ValueError, match=f"image_size={size}"):
        ConvDecoder(2, 1, size, (4,) * depth)
    with pytest.raises(ValueError):
        conv_base_size(size, depth)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="activation"):
        DenseEncoder(4, (3,), 2, activation="swishy")
    with pytest.raises(ValueError, match="output"):
        DenseDecoder(2, (3,), (4,), output="softmax")
    with pytest.raises(ValueError, match="in_features"):
        DenseEncoder(0, (3,), 2)
    with pytest.raises(TypeError, match="hidden"):
        DenseEncoder(4, 3, 2)
    with pytest.raises(ValueError, match="kind"):
        make_autoencoder("rnn", (64,), 2)
    with pytest.raises(ValueError, match="square"):
        make_autoencoder("conv", (1, 28, 32), 2)
    with pytest.raises(ValueError, match="DenseEncoder expects"):
        DenseEncoder(4, (3,), 2)(torch.randn(2, 5))


@pytest.mark.parametrize("kind,in_shape", [("dense", (64,)), ("dense", (1, 8, 8)), ("conv", (8, 8)), ("conv", (1, 16, 16))])
def test_make_autoencoder_round_trip(kind, in_shape):
    enc, dec = make_autoencoder(kind, in_shape, 4, hidden=(16,), widths=(4, 8), output="sigmoid")
    x = torch.rand(3, *in_shape)
    x_hat = dec(enc(x))
    assert x_hat.numel() == x.numel()
    assert x_hat.reshape(x.shape).shape == x.shape


def test_registered():
    names = set(list_models("ae-*"))
    assert {"ae-dense-encoder", "ae-dense-decoder", "ae-conv-encoder", "ae-conv-decoder"} <= names
    assert create_model("ae-conv-decoder", small=True)(torch.randn(2, 2)).shape == (2, 1, 8, 8)
