"""GPT, the encoder-decoder Transformer, ViT and the LRA sequence classifier: shapes, causality, masks."""

from __future__ import annotations

import pytest
import torch

from deepcourse.transformers import (GPT, PatchEmbedding, Seq2SeqTransformer, SequenceClassifier, ViT, patchify,
                                     unpatchify)
from deepcourse.transformers.language_modelling import RandomWindows, causal_leak, warmup_cosine


@pytest.mark.parametrize("positional", ["learned", "sinusoidal", "rotary"])
def test_gpt_is_causal(positional):
    torch.manual_seed(0)
    model = GPT(11, 12, n_layer=2, n_head=2, n_embd=16, positional=positional)
    assert model(torch.randint(0, 11, (3, 12))).shape == (3, 12, 11)
    assert causal_leak(model, 11, 12) < 1e-6
    assert model.head.weight is model.tok.weight  # tied


def test_gpt_generate_and_errors():
    model = GPT(7, 8, n_layer=1, n_head=1, n_embd=8)
    out = model.generate(torch.zeros(2, 3, dtype=torch.long), 10, top_k=3, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 13) and out.max() < 7
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(B, T\) long"):
        model(torch.zeros(1, 4))


def test_gpt_learns_a_repeating_sequence():
    torch.manual_seed(0)
    data = torch.arange(5).repeat(200)
    model = GPT(5, 8, n_layer=1, n_head=2, n_embd=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for x, y in RandomWindows(data, 8, 16, 100, seed=0):
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, 5), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1


def test_warmup_cosine_schedule():
    f = warmup_cosine(10, 100, 0.1)
    assert f(0) < f(9) <= 1.0
    assert f(10) == pytest.approx(1.0)
    assert f(100) == pytest.approx(0.1) and f(55) == pytest.approx(0.55)


def test_seq2seq_masks_padding_and_is_causal():
    torch.manual_seed(0)
    model = Seq2SeqTransformer(9, 9, dim=16, heads=2, enc_layers=1, dec_layers=1, hidden=32, dropout=0.0).eval()
    src = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 2, 1]])
    tgt = torch.tensor([[1, 3, 4, 5], [1, 6, 7, 8]])
    out = model(src, tgt)
    assert out.shape == (2, 4, 9)
    torch.testing.assert_close(model(src[:1, :3], tgt[:1]), out[:1])  # padding changes nothing
    tgt2 = tgt.clone()
    tgt2[:, 2:] = 5
    torch.testing.assert_close(model(src, tgt2)[:, :2], out[:, :2])   # later targets do not leak
    assert model.greedy_decode(src, 1, 4).shape == (2, 4)


def test_patchify_roundtrip_and_vit():
    x = torch.randn(2, 3, 8, 8)
    p = patchify(x, 4)
    assert p.shape == (2, 4, 48)
    torch.testing.assert_close(p[0, 1], x[0, :, :4, 4:].permute(1, 2, 0).reshape(-1))
    torch.testing.assert_close(unpatchify(p, 4, 3, 8, 8), x)
    for pool in ("cls", "mean"):
        vit = ViT(8, 4, 3, 5, dim=16, depth=1, heads=2, hidden=32, pool=pool)
        assert vit(x).shape == (2, 5)
    with pytest.raises(ValueError, match=r"\(B, 3, 8, 8\)"):
        PatchEmbedding(8, 4, 3, 16)(torch.randn(2, 1, 8, 8))
    with pytest.raises(ValueError, match="pool"):
        ViT(pool="max")


@pytest.mark.parametrize("landmarks", [None, 4])
def test_sequence_classifier_ignores_padding(landmarks):
    torch.manual_seed(0)
    model = SequenceClassifier(16, 10, 24, dim=16, heads=2, hidden=32, dropout=0.0, landmarks=landmarks,
                               conv_kernel=3).eval()
    ids = torch.randint(1, 16, (2, 24))
    ids[:, 20:] = 0
    out = model(ids)
    assert out.shape == (2, 10)
    if landmarks is None:  # exact attention: the padded tail is invisible
        torch.testing.assert_close(model(ids[:, :20]), out)


def test_bidirectional_gpt_sees_the_future():
    torch.manual_seed(0)
    model = GPT(11, 12, n_layer=1, n_head=2, n_embd=16, causal=False)
    assert causal_leak(model, 11, 12) > 1e-3


def test_random_windows_aligned():
    data = torch.arange(40)
    w = RandomWindows(data, 9, 6, 3, seed=0, align=10)
    for x, y in w:
        assert (x[:, 0] % 10 == 0).all()
        torch.testing.assert_close(y, x + 1)
    with pytest.raises(ValueError, match="longer than block"):
        RandomWindows(torch.arange(5), 9, 2, 1, seed=0)
