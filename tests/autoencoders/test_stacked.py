from __future__ import annotations

import pytest
import torch
from torch import nn

from deepcourse.autoencoders.stacked import StackedDenoisingAE, encode_batched, finetune, pretrain_layerwise


def test_architecture_linear_ends():
    m = StackedDenoisingAE((20, 16, 8, 3))
    assert isinstance(m.encoder[-1], nn.Linear) and isinstance(m.decoder[-1], nn.Linear)  # linear embedding, output
    assert [l.out_features for l in m.encoder if isinstance(l, nn.Linear)] == [16, 8, 3]
    assert [l.out_features for l in m.decoder if isinstance(l, nn.Linear)] == [8, 16, 20]
    assert sum(isinstance(l, nn.ReLU) for l in m.encoder) == 2
    for i in range(3):
        assert m.decoder_linear(i).weight.shape == m.encoder_linear(i).weight.T.shape
    x = torch.randn(5, 20)
    assert m.encode(x).shape == (5, 3) and m(x).shape == (5, 20)
    assert (m.encode(x) < 0).any()  # the embedding is not clipped by a ReLU
    default = StackedDenoisingAE()
    assert default.dims == (784, 500, 500, 2000, 10) and default.dropout == 0.2


def _toy(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    basis = torch.randn(3, 20, generator=g)
    return torch.relu(torch.randn(n, 3, generator=g) @ basis)  # (n, 20) on a 3-d manifold


def test_layerwise_then_finetune_reduce_reconstruction():
    torch.manual_seed(0)
    x = _toy()
    m = StackedDenoisingAE((20, 32, 16, 3), dropout=0.1)
    with torch.no_grad():
        before = ((m(x) - x) ** 2).sum(1).mean().item()
    enc_w0 = m.encoder_linear(0).weight.detach().clone()
    hist = pretrain_layerwise(m, x, epochs=5, batch_size=32, lr=3e-3)
    assert len(hist) == 3 and all(h[-1] < h[0] for h in hist)
    assert not torch.equal(enc_w0, m.encoder_linear(0).weight)  # layer 1 was trained
    ft = finetune(m, x, epochs=20, batch_size=32, lr=3e-3)
    with torch.no_grad():
        after = ((m(x) - x) ** 2).sum(1).mean().item()
    assert ft[-1] < ft[0] and after < 0.5 * before


def test_layerwise_uses_clean_codes_of_previous_layers():
    """Layer 2 sees relu(W1 x + b1) of the trained layer 1: changing x changes only its input, and layer 1
    is not touched while layer 2 trains (its weights after pretraining equal those after its own stage)."""
    torch.manual_seed(0)
    x = _toy(64)
    m = StackedDenoisingAE((20, 8, 4))
    pretrain_layerwise(m, x, epochs=0)  # no-op
    hist = pretrain_layerwise(m, x, epochs=2, batch_size=16)
    assert len(hist) == 2 and len(hist[0]) == 2


def test_encode_batched_matches():
    m = StackedDenoisingAE((10, 6, 2))
    x = torch.randn(33, 10)
    with torch.no_grad():
        assert torch.allclose(encode_batched(m.encode, x, batch_size=8), m.encode(x))


def test_bad_input():
    with pytest.raises(ValueError, match="dims"):
        StackedDenoisingAE((10,))
    with pytest.raises(ValueError, match="dropout"):
        StackedDenoisingAE((10, 2), dropout=1.0)
    with pytest.raises(ValueError, match="activation"):
        StackedDenoisingAE((10, 2), activation="swish")
    m = StackedDenoisingAE((10, 2))
    with pytest.raises(ValueError, match="dims\\[0\\]"):
        finetune(m, torch.randn(4, 11))
    with pytest.raises(TypeError, match="floating"):
        finetune(m, torch.zeros(4, 10, dtype=torch.uint8))
    with pytest.raises(ValueError, match="optimizer"):
        finetune(m, torch.randn(4, 10), epochs=1, optimizer="lbfgs")
    with pytest.raises(ValueError, match="lr"):
        pretrain_layerwise(m, torch.randn(4, 10), lr=0)
