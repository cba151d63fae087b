"""Sinusoidal table against the notes' formula; learned and rotary embeddings."""

from __future__ import annotations

import math

import pytest
import torch

from deepcourse.transformers import (LearnedPositionalEmbedding, RotaryEmbedding, SinusoidalPositionalEncoding,
                                     make_positional, sinusoidal_encoding)


def test_sinusoidal_matches_the_formula():
    pe = sinusoidal_encoding(50, 16, dtype=torch.float64)
    for pos in (0, 1, 7, 49):
        for i in range(8):
            assert pe[pos, 2 * i].item() == pytest.approx(math.sin(pos / 10000 ** (2 * i / 16)), abs=1e-12)
            assert pe[pos, 2 * i + 1].item() == pytest.approx(math.cos(pos / 10000 ** (2 * i / 16)), abs=1e-12)


def test_sinusoidal_module_adds_and_extends():
    enc = SinusoidalPositionalEncoding(8, max_len=4)
    x = torch.zeros(2, 10, 8)
    torch.testing.assert_close(enc(x)[0], sinusoidal_encoding(10, 8))
    torch.testing.assert_close(enc(x[:, :3], offset=5)[0], sinusoidal_encoding(10, 8)[5:8])
    with pytest.raises(ValueError, match=r"\(B, L, 8\)"):
        enc(torch.zeros(2, 3, 6))
    with pytest.raises(ValueError, match="even"):
        sinusoidal_encoding(4, 7)


def test_learned_is_trainable_and_bounded():
    emb = LearnedPositionalEmbedding(4, max_len=6)
    out = emb(torch.zeros(1, 6, 4))
    out.sum().backward()
    assert emb.weight.grad is not None
    with pytest.raises(ValueError, match="max_len"):
        emb(torch.zeros(1, 7, 4))


def test_rotary_preserves_norm_and_depends_on_offsets_only():
    rope = RotaryEmbedding(8)
    torch.manual_seed(0)
    q, k = torch.randn(1, 1, 1, 8, dtype=torch.float64), torch.randn(1, 1, 1, 8, dtype=torch.float64)
    seq_q, seq_k = q.expand(1, 1, 20, 8), k.expand(1, 1, 20, 8)
    rq, rk = rope(seq_q), rope(seq_k)
    torch.testing.assert_close(rq.norm(dim=-1), seq_q.norm(dim=-1))
    s = rq[0, 0] @ rk[0, 0].T  # s[m, n] = <R_m q, R_n k> depends on m - n only
    torch.testing.assert_close(s[5, 2], s[15, 12])
    torch.testing.assert_close(s[3, 9], s[10, 16])
    torch.testing.assert_close(rope(seq_q)[..., 4:, :], rope(seq_q[..., 4:, :], offset=4))
    torch.testing.assert_close(rq[..., 0, :], q[..., 0, :])  # position 0: no rotation


def test_make_positional_names():
    assert isinstance(make_positional("learned", 4, 8), LearnedPositionalEmbedding)
    x = torch.randn(1, 3, 4)
    assert torch.equal(make_positional("rotary", 4, 8)(x), x)
    with pytest.raises(ValueError, match="positional must be one of"):
        make_positional("alibi", 4, 8)
