"""Tests for deepcourse.rnn.seq2seq: teacher forcing, greedy and beam-search decoding."""

from __future__ import annotations

import math

import pytest
import torch

from deepcourse.data.sequence_tasks import SeqVocab, reverse_pairs
from deepcourse.rnn.seq2seq import Seq2Seq, beam_search, greedy_decode


def model(seed: int = 0, **kw) -> Seq2Seq:
    torch.manual_seed(seed)
    return Seq2Seq(**{"vocab_size": 9, "hidden": 16, "embed": 8, **kw}).eval()


def test_shapes_and_loss():
    m = model()
    src, tgt = torch.randint(3, 9, (4, 6)), torch.randint(3, 9, (4, 5))
    assert m(src, None, tgt).shape == (4, 5, 9)
    loss = m.loss(src, None, tgt)
    loss.backward()
    assert all(p.grad is not None for p in m.parameters())
    assert m.greedy(src, max_len=7).shape == (4, 7)
    assert m.sequence_logprob(src, None, tgt).shape == (4,)


def test_bad_inputs():
    m = model()
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        m.encode(torch.randint(3, 9, (6,)))
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        m(torch.randint(3, 9, (2, 6)), None, torch.rand(2, 3))
    with pytest.raises(ValueError, match="src_len"):
        m.encode(torch.randint(3, 9, (2, 6)), torch.tensor([3, 4, 5]))
    with pytest.raises(ValueError, match="cell"):
        Seq2Seq(9, cell="rnn")
    with pytest.raises(ValueError, match="beam"):
        beam_search(m.step, m.encode(torch.randint(3, 9, (1, 3))), 1, 2, 5, beam=0)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_padded_source_steps_change_nothing(cell):
    m = model(cell=cell)
    src = torch.randint(3, 9, (1, 4))
    padded = torch.cat([src, torch.zeros(1, 3, dtype=torch.long)], 1)
    a, b = m.encode(src), m.encode(padded, torch.tensor([4]))
    for x, y in zip(a if cell == "lstm" else (a,), b if cell == "lstm" else (b,)):
        torch.testing.assert_close(x, y)


def test_teacher_forcing_one_equals_stepwise_decoding_of_the_target():
    m = model()
    src, tgt = torch.randint(3, 9, (3, 5)), torch.randint(3, 9, (3, 4))
    torch.testing.assert_close(m(src, None, tgt), m(src, None, tgt, teacher_forcing=0.999999999), atol=1e-6,
                               rtol=1e-5)
    free = m(src, None, tgt, teacher_forcing=0.0)  # feeds its own argmax: logits of greedy decoding
    greedy = m.greedy(src, max_len=4)
    assert torch.equal(free.argmax(-1)[:, 0], greedy[:, 0])


def test_beam_width_one_is_greedy():
    lengths = []
    for seed in range(3):
        m = model(seed)
        src = torch.randint(3, 9, (6, 5))
        greedy = m.greedy(src, max_len=8)
        beams = m.beam(src, max_len=8, beam=1)
        for g, b in zip(greedy.tolist(), beams):
            assert (g[:g.index(2)] if 2 in g else g) == b
            lengths.append(len(b))
    assert max(lengths) >= 3  # the comparison covers sequences longer than one token


def markov_step(table: torch.Tensor):
    """A decoder whose next-token distribution depends on the previous token only: state is unused."""
    def step(tok, state):
        return table[tok].log(), state
    return step


def test_beam_finds_a_more_likely_sequence_than_greedy():
    # tokens: 0 pad, 1 sos, 2 eos, 3 A, 4 B. Greedy takes A (0.6), after which every continuation is unlikely;
    # B (0.4) is followed by eos with probability 1, so "B" (p = 0.4) beats anything through A (p <= 0.6*0.4).
    t = torch.full((5, 5), 1e-9)
    t[1, 3], t[1, 4] = 0.6, 0.4
    t[3, 2], t[3, 3], t[3, 4] = 0.2, 0.45, 0.35
    t[4, 2] = 1.0
    t = t / t.sum(1, keepdim=True)
    step = markov_step(t)
    state = torch.zeros(1, 1, 1)
    ids, g_score = greedy_decode(step, state, 1, 1, 2, max_len=3)
    assert ids[0, 0] == 3
    seq, b_score = beam_search(step, state, 1, 2, max_len=3, beam=2)
    assert seq == [4] and math.isclose(b_score, math.log(0.4), rel_tol=1e-5)
    assert b_score > float(g_score[0]) + 0.5
    seq1, s1 = beam_search(step, state, 1, 2, max_len=3, beam=1)
    assert seq1 == [t for t in ids[0].tolist() if t != 2] and math.isclose(s1, float(g_score[0]), rel_tol=1e-5)


def test_learns_to_reverse_short_strings():
    g = torch.Generator().manual_seed(0)
    v = SeqVocab("abc")
    pairs = reverse_pairs(39, (1, 3), g, alphabet="abc")  # all 3 + 9 + 27 strings
    src, src_len = v.batch([s for s, _ in pairs])
    tgt, _ = v.batch([t for _, t in pairs], eos=True)
    torch.manual_seed(0)
    m = Seq2Seq(v.size, hidden=32, embed=8)
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        m.loss(src, src_len, tgt).backward()
        opt.step()
    m.eval()
    pred = v.decode_batch(m.greedy(src, src_len, max_len=4))
    assert sum(p == t for p, (_, t) in zip(pred, pairs)) >= 37
    assert [v.decode(b) for b in m.beam(src[:5], src_len[:5], max_len=4, beam=3)] == [t for _, t in pairs[:5]]
