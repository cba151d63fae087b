"""Tests for deepcourse.rnn.charlm: the character LM, its evaluation and temperature sampling."""

from __future__ import annotations

import math

import pytest
import torch

from deepcourse.rnn.charlm import CharLM, evaluate_lm, random_windows, sample


def lm(seed: int = 0, **kw) -> CharLM:
    torch.manual_seed(seed)
    return CharLM(**{"vocab_size": 7, "hidden": 16, "layers": 2, "embed": 8, **kw})


def test_shapes_state_and_gradients():
    m = lm()
    x = torch.randint(0, 7, (3, 10))
    logits, (h, c) = m(x)
    assert logits.shape == (3, 10, 7) and h.shape == (2, 3, 16)
    # reading in two halves with the state carried over gives the same logits
    a, s = m(x[:, :4])
    b, _ = m(x[:, 4:], s)
    torch.testing.assert_close(torch.cat([a, b], 1), logits)
    m.loss(x, torch.roll(x, -1, 1)).backward()
    assert all(p.grad is not None for p in m.parameters())


def test_untrained_loss_is_near_log_vocab_and_evaluation_counts_every_window():
    m = lm()
    data = torch.randint(0, 7, (1001,))
    val = evaluate_lm(m, data, block=10, batch=7)
    assert abs(val - math.log(7)) < 0.2
    # the same number by hand: 100 windows of 10, each from a zero state
    x = data[:1000].view(100, 10)
    y = data[1:1001].view(100, 10)
    with torch.no_grad():
        torch.testing.assert_close(val, float(m.loss(x, y)), rtol=1e-5, atol=1e-6)
    assert evaluate_lm(m, data, block=10, max_windows=3) == pytest.approx(float(m.loss(x[:3], y[:3])), rel=1e-5)


def test_random_windows_are_shifted_by_one():
    data = torch.arange(50)
    x, y = random_windows(data, 8, 5, torch.Generator().manual_seed(0))
    assert x.shape == (5, 8) and torch.equal(y, x + 1)
    with pytest.raises(ValueError, match="longer than block"):
        random_windows(torch.arange(5), 8, 2)


def test_temperature_sharpens_and_flattens():
    m = lm()
    prime = torch.tensor([1, 2, 3])
    g = torch.Generator().manual_seed(0)
    greedy = sample(m, prime, 20, 0.0)
    assert torch.equal(greedy, sample(m, prime, 20, 0.0))  # temperature 0 is the argmax: deterministic
    assert torch.equal(sample(m, prime, 20, 1e-4, g), greedy)  # tiny temperature ~ argmax
    assert sample(m, prime, 20, 1.0, torch.Generator().manual_seed(1)).shape == (20,)

    def distinct(t):
        return len(set(sample(m, prime, 300, t, torch.Generator().manual_seed(2)).tolist()))
    assert distinct(5.0) >= distinct(0.2)
    assert sample(m, prime, 0).numel() == 0


def test_learns_a_periodic_string():
    data = torch.tensor([0, 1, 2, 3, 4, 5, 6] * 60)
    m = lm(hidden=24, layers=1)
    opt = torch.optim.Adam(m.parameters(), lr=0.02)
    g = torch.Generator().manual_seed(0)
    for _ in range(60):
        x, y = random_windows(data, 12, 16, g)
        opt.zero_grad()
        m.loss(x, y).backward()
        opt.step()
    assert evaluate_lm(m, data, 12) < 0.1
    assert sample(m, torch.tensor([2]), 6, 0.0).tolist() == [3, 4, 5, 6, 0, 1]


def test_bad_inputs():
    m = lm()
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        m(torch.randint(0, 7, (5,)))
    with pytest.raises(ValueError, match="prime"):
        sample(m, torch.zeros(0, dtype=torch.long), 3)
    with pytest.raises(ValueError, match="temperature"):
        sample(m, torch.tensor([1]), 3, -1.0)
    with pytest.raises(ValueError, match="cell"):
        CharLM(7, cell="rnn")
    with pytest.raises(ValueError, match="shorter"):
        evaluate_lm(m, torch.arange(5) % 7, block=10)
