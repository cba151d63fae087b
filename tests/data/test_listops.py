"""ListOps generator: the LRA recipe, with brackets kept and lengths counted right."""

from __future__ import annotations

import random

import pytest
import torch

from deepcourse.data.listops import (LISTOPS_VOCAB, encode_listops, generate_tree, listops_examples, listops_splits,
                                     tree_tokens, tree_value)


def test_tree_value_by_hand():
    assert tree_value(["[MAX", 2, 9, ["[MIN", 4, 7], 0]) == 9
    assert tree_value(["[MIN", 5, ["[MAX", 1, 3]]) == 3
    assert tree_value(["[SM", 7, 8, 9]) == 4
    assert tree_value(["[MED", 1, 8, 3]) == 3
    assert tree_value(["[MED", 1, 8, 3, 6]) == 4  # int(median) = int(4.5)
    assert tree_tokens(["[MAX", 2, ["[SM", 4, 7], 0]) == ["[MAX", "2", "[SM", "4", "7", "]", "0", "]"]


def test_counted_length_is_the_token_count():
    rng = random.Random(0)
    for _ in range(200):
        tree, n = generate_tree(rng)
        assert len(tree_tokens(tree)) == n


def test_examples_follow_the_recipe():
    ex = listops_examples(30, seed=0)
    for toks, label in ex:
        assert 500 < len(toks) < 2000
        assert toks.count("]") == sum(t.startswith("[") for t in toks)  # brackets balanced and kept
        assert 0 <= label <= 9
    assert len({t for t, _ in ex}) == 30
    assert ex == listops_examples(30, seed=0)  # seeded


def test_depth_and_arguments_are_bounded():
    rng = random.Random(1)

    def check(t, depth):
        if isinstance(t, int):
            return depth
        assert 2 <= len(t) - 1 <= 10
        return max(check(a, depth + 1) for a in t[1:])

    assert max(check(generate_tree(rng)[0], 1) for _ in range(300)) <= 10


def test_encode_with_and_without_brackets():
    ex = listops_examples(5, seed=1, min_length=10, max_length=60)
    x, y = encode_listops(ex, length=60)
    assert x.shape == (5, 60) and y.tolist() == [lab for _, lab in ex]
    end = LISTOPS_VOCAB.index("]")
    x_nb, _ = encode_listops(ex, brackets=False)
    assert (x == end).any() and not (x_nb == end).any()
    lengths = (x != 0).sum(1) - (x == end).sum(1)
    assert torch.equal((x_nb != 0).sum(1), lengths)
    with pytest.raises(ValueError, match="more than length"):
        encode_listops(ex, length=10)


def test_splits_are_disjoint():
    s = listops_splits({"train": 20, "test": 10}, seed=0, min_length=5, max_length=40)
    assert not {t for t, _ in s["train"]} & {t for t, _ in s["test"]}
