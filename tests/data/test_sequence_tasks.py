"""Tests for deepcourse.data.sequence_tasks: the seeded addition / copy / reverse tasks and SeqVocab."""

from __future__ import annotations

import pytest
import torch

from deepcourse.data.sequence_tasks import (ADDITION_CHARS, SeqVocab, addition_pairs, copy_pairs, disjoint_splits,
                                            reverse_pairs)


def g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_addition_pairs_are_correct_sums_within_range():
    pairs = addition_pairs(500, digits=3, generator=g())
    assert len(pairs) == 500
    for src, tgt in pairs:
        a, b = src.split("+")
        assert 0 <= int(a) < 1000 and 0 <= int(b) < 1000
        assert int(tgt) == int(a) + int(b)
        assert str(int(a)) == a  # no leading zeros
    assert len({s for s, _ in pairs}) == 500  # distinct sources
    assert max(len(s) for s, _ in pairs) == 7


def test_generators_are_deterministic_given_the_generator():
    for fn in (addition_pairs, copy_pairs, reverse_pairs):
        assert fn(50, generator=g(3)) == fn(50, generator=g(3))
        assert fn(50, generator=g(3)) != fn(50, generator=g(4))


def test_copy_and_reverse():
    for src, tgt in copy_pairs(100, (2, 5), g(), alphabet="xyz"):
        assert src == tgt and 2 <= len(src) <= 5 and set(src) <= set("xyz")
    for src, tgt in reverse_pairs(100, 4, g()):
        assert tgt == src[::-1] and len(src) == 4


def test_disjoint_splits_share_no_source():
    s = disjoint_splits(addition_pairs, {"train": 3000, "val": 300, "test": 300}, g(1), digits=2)
    train = {p for p, _ in s["train"]}
    assert not train & {p for p, _ in s["test"]}
    assert not train & {p for p, _ in s["val"]}
    assert not {p for p, _ in s["val"]} & {p for p, _ in s["test"]}
    assert [len(v) for v in s.values()] == [3000, 300, 300]


def test_exhausting_the_space_is_an_error():
    assert len(addition_pairs(100, digits=1, generator=g())) == 100  # all 10 x 10 sums
    with pytest.raises(ValueError, match="at most 100"):
        addition_pairs(101, digits=1, generator=g())
    with pytest.raises(ValueError, match="at most 8"):
        copy_pairs(9, 3, g(), alphabet="ab")
    with pytest.raises(ValueError, match="digits"):
        addition_pairs(10, digits=0)
    with pytest.raises(ValueError, match="min <= max"):
        copy_pairs(3, (4, 2))


def test_vocab_encode_decode_and_batch():
    v = SeqVocab(ADDITION_CHARS)
    assert len(v) == 3 + 11 and v.size == 14
    ids = v.encode("12+3", sos=True, eos=True)
    assert ids[0] == v.SOS and ids[-1] == v.EOS and ids.dtype == torch.long
    assert v.decode(ids) == "12+3"
    assert v.decode([v.stoi["4"], v.EOS, v.stoi["5"]]) == "4"  # stops at eos
    x, lens = v.batch(["1+1", "999+999"], eos=True)
    assert x.shape == (2, 8) and lens.tolist() == [4, 8]
    assert (x[0, 4:] == v.PAD).all()
    assert v.decode_batch(x) == ["1+1", "999+999"]
    x, _ = v.batch(["1"], length=5)
    assert x.shape == (1, 5)


def test_vocab_errors():
    v = SeqVocab("ab")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        v.encode("abc")
    with pytest.raises(ValueError, match="shorter"):
        v.batch(["aaa"], length=2)
    with pytest.raises(ValueError, match="single characters"):
        SeqVocab(["ab"])
    with pytest.raises(ValueError, match="sequence of strings"):
        v.batch("ab")
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        v.decode_batch(torch.zeros(3, dtype=torch.long))
