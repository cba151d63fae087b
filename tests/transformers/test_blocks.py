"""Encoder / decoder blocks against nn.TransformerEncoderLayer / nn.TransformerDecoderLayer (float64, 1e-10)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deepcourse.transformers import DecoderBlock, EncoderBlock, FeedForward
from tests.helpers import assert_matches_reference

TOL = dict(rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_block_matches_torch(norm_first, activation):
    torch.manual_seed(0)
    ref = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation, batch_first=True,
                                     norm_first=norm_first).double()
    ours = EncoderBlock(8, 2, 16, 0.0, activation, norm_first).double().load_from_torch(ref)
    x = np.random.default_rng(0).normal(size=(2, 6, 8))
    pad = np.zeros((2, 6), dtype=bool)
    pad[1, -2:] = True
    assert_matches_reference(lambda x, p: ours(x, key_padding_mask=p), lambda x, p: ref(x, src_key_padding_mask=p),
                             [x, pad], **TOL)
    causal = torch.ones(6, 6, dtype=torch.bool).triu(1)
    assert_matches_reference(lambda x: ours(x, causal=True), lambda x: ref(x, src_mask=causal), [x], **TOL)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_block_matches_torch(norm_first):
    torch.manual_seed(1)
    ref = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first).double()
    ours = DecoderBlock(8, 2, 16, 0.0, "relu", norm_first).double().load_from_torch(ref)
    g = np.random.default_rng(1)
    y, mem = g.normal(size=(2, 5, 8)), g.normal(size=(2, 7, 8))
    mpad = np.zeros((2, 7), dtype=bool)
    mpad[0, -3:] = True
    causal = torch.ones(5, 5, dtype=torch.bool).triu(1)
    assert_matches_reference(lambda y, m, p: ours(y, m, memory_key_padding_mask=p),
                             lambda y, m, p: ref(y, m, tgt_mask=causal, memory_key_padding_mask=p),
                             [y, mem, mpad], **TOL)


def test_feed_forward_and_dropout():
    ff = FeedForward(4, 8, dropout=0.5)
    x = torch.randn(3, 4)
    ff.eval()
    torch.testing.assert_close(ff(x), ff(x))
    block = EncoderBlock(8, 2, 16, dropout=0.3)
    x = torch.randn(2, 5, 8)
    block.train()
    assert not torch.allclose(block(x), block(x))


def test_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        EncoderBlock(10, 3, 16)
    with pytest.raises(ValueError, match="activation"):
        EncoderBlock(8, 2, 16, activation="tanh")
    with pytest.raises(ValueError, match="dropout"):
        DecoderBlock(8, 2, 16, dropout=1.0)
