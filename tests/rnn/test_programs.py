"""Tests for deepcourse.rnn.programs_lang (parser, printer, interpreter) and deepcourse.rnn.programs_data
(generator, descriptions, splits, functional correctness)."""

from __future__ import annotations

import math
import random

import pytest

from deepcourse.rnn.programs_data import (FILLER, TEMPLATES, describe, functionally_correct, io_pairs, label_set,
                                          make_splits, random_program)
from deepcourse.rnn.programs_lang import Node, ProgramError, canonical, parse, run_program, same_output, to_text

A = [3, -1, 4, 1, 5]


@pytest.mark.parametrize("text, b, want", [
    ("(reduce a 0 +)", 0, 12),
    ("(reduce a inf min)", 0, -1),
    ("(reduce a 10 -)", 0, -2),
    ("(head a)", 0, 3),
    ("(filter a (lambda1 (> arg1 b)))", 2, [3, 4, 5]),
    ("(filter a (lambda1 (< arg1 b)))", 2, [-1, 1]),
    ("(map a (lambda1 (+ arg1 b)))", 1, [4, 0, 5, 2, 6]),
    ("(map a (lambda1 (min arg1 2)))", 0, [2, -1, 2, 1, 2]),
    ("(- (head a) b)", 5, -2),
    ("(min b (reduce a 0 +))", 20, 12),
    # the notes' example: the smallest element strictly greater than the minimum
    ("(reduce (filter a (lambda1 (> arg1 (reduce a inf min)))) inf min)", 0, 1),
])
def test_interpreter_on_hand_cases(text, b, want):
    got = run_program(text, A, b)
    assert same_output(got, want), (text, got, want)


def test_edge_values():
    assert run_program("(reduce a inf min)", [], 0) == math.inf  # minimum of nothing
    assert run_program("(reduce a 0 +)", [], 0) == 0
    assert math.isnan(run_program("(- (reduce a inf min) (reduce a inf min))", [], 0))
    assert same_output(float("nan"), float("nan")) and not same_output(True, 1) and not same_output([1], 1)


@pytest.mark.parametrize("text, message", [
    ("(head (filter a (lambda1 (> arg1 100))))", "head of an empty array"),
    ("(head b)", "head expects an array, got number"),
    ("(+ a 1)", "+ expects a number, got array"),
    ("(filter a (lambda1 (+ arg1 1)))", "predicate must give a boolean"),
    ("(map a (lambda1 (> arg1 1)))", "expects a number, got boolean"),
    ("(reduce a 0 (lambda1 arg1))", "expects a 2-argument function"),
    ("(head a a)", "head takes 1 argument(s), got 2"),
    ("(foo a)", "unknown function 'foo'"),
    ("(head c)", "unknown symbol 'c'"),
    ("(+ arg1 1)", "arg1 outside a lambda"),
    ("(lambda1 (+ arg1 1))", "returns a function"),
    ("reduce", "cannot stand alone"),
])
def test_runtime_errors_are_clear(text, message):
    with pytest.raises(ProgramError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        run_program(text, A, 1)


@pytest.mark.parametrize("text", ["", "(head a", "(head a))", "()", "(head)", "((head a) a)", ")"])
def test_parse_errors(text):
    with pytest.raises(ProgramError):
        parse(text)


def test_parser_round_trip():
    rng = random.Random(0)
    for _ in range(300):
        p = random_program(rng, max_const=5, max_array_depth=3)
        text = to_text(p)
        assert parse(text) == p and to_text(parse(text)) == text
        assert parse("  " + text.replace(" ", "   ") + " ") == p  # whitespace does not matter
    tree = parse("(reduce a 0 +)")
    assert tree == Node("reduce", (Node("a"), Node("0"), Node("+")))
    assert tree.size() == 4 and tree.depth() == 2 and [n.label for n in tree.preorder()] == ["reduce", "a", "0", "+"]


def test_canonical_form_orders_commutative_arguments_only():
    assert canonical(parse("(+ b 2)")) == canonical(parse("(+ 2 b)"))
    assert canonical(parse("(min (head a) b)")) == canonical(parse("(min b (head a))"))
    assert canonical(parse("(- b 2)")) != canonical(parse("(- 2 b)"))


def test_generator_is_deterministic_and_in_the_label_set():
    assert [to_text(random_program(random.Random(3))) for _ in range(1)] == [to_text(random_program(random.Random(3)))]
    a, b = make_splits(60, seed=7), make_splits(60, seed=7)
    assert a == b
    assert make_splits(60, seed=8).test != a.test
    labels = set(label_set(5))
    for s in a.train + a.val + a.test:
        assert {n.label for n in s.tree.preorder()} <= labels
        assert s.tree.size() >= 4 and parse(s.text) == s.tree


def test_splits_are_disjoint_by_program():
    sp = make_splits(200, seed=1, descriptions=3)
    forms = {name: {to_text(canonical(s.tree)) for s in part} for name, part in
             (("train", sp.train), ("val", sp.val), ("test", sp.test))}
    assert not forms["train"] & forms["test"] and not forms["train"] & forms["val"] and not forms["val"] & forms["test"]
    assert sum(map(len, forms.values())) == 200 and len(forms["test"]) == 40 and len(forms["val"]) == 20
    assert len(sp.train) == 3 * len(forms["train"])  # every program with its 3 descriptions
    with pytest.raises(ValueError, match="fewer than"):
        make_splits(80, seed=0, max_const=0, max_array_depth=1)  # that grammar has 72


def test_descriptions_from_templates():
    p = parse("(+ (reduce (filter a (lambda1 (> arg1 b))) 0 +) 2)")
    texts = {" ".join(describe(p, random.Random(s))) for s in range(40)}
    assert len(texts) > 10  # paraphrases
    for t in texts:
        assert t.split()[-1] == "2" and " b" in t and ("plus" in t or "sum of" in t or "increased" in t)
    phrases = {" ".join(describe(parse("(filter a (lambda1 (> arg1 b)))"), random.Random(s))) for s in range(20)}
    assert any("greater than b" in t for t in phrases) and any("larger than the number b" in t for t in phrases)
    with pytest.raises(ValueError, match="no description template"):
        describe(parse("(filter a (lambda1 (+ arg1 1)))"), random.Random(0))
    with pytest.raises(ValueError, match="dropout"):
        describe(p, random.Random(0), dropout=1.0)


def test_word_dropout_drops_filler_words_only():
    p = parse("(min (head (map a (lambda1 (- arg1 3)))) b)")
    for s in range(30):
        full, dropped = describe(p, random.Random(s)), describe(p, random.Random(s), dropout=0.6)
        assert [w for w in full if w not in FILLER] == [w for w in dropped if w not in FILLER]
        assert len(dropped) <= len(full)
    assert any(len(describe(p, random.Random(s), dropout=0.6)) < len(describe(p, random.Random(s))) for s in range(5))
    assert all(w not in FILLER for w in ("a", "b", "plus", "minus", "greater", "smaller", "first", "sum"))
    assert not FILLER & {w for ts in TEMPLATES.values() for t in ts for w in t.split() if w in ("a", "b")}


def test_functional_correctness_on_held_out_inputs():
    sp = make_splits(40, seed=2)
    s = sp.test[0]
    assert functionally_correct(s.tree, s) and not functionally_correct(None, s)
    assert all(same_output(run_program(s.tree, a, b), out) for (a, b), out in s.examples + s.tests)
    assert len(s.tests) == 8 and len(s.examples) == 3
    target = parse("(+ (head a) b)")
    pairs = io_pairs(target, random.Random(0), 8)
    from deepcourse.rnn.programs_data import Sample

    sample = Sample(to_text(target), target, ("x",), (), tuple(pairs))
    assert functionally_correct(parse("(+ b (head a))"), sample)  # same function, other text
    assert not functionally_correct(parse("(- (head a) b)"), sample)
    assert not functionally_correct(parse("(+ (head a) c)"), sample)  # fails to run: wrong, not an error
    # the held-out inputs tell (min x 0) from (+ x 0): arrays come from positive, negative and mixed ranges
    m = parse("(min (reduce a inf min) 0)")
    sample = Sample(to_text(m), m, ("x",), (), tuple(io_pairs(m, random.Random(0), 8)))
    assert not functionally_correct(parse("(+ (reduce a inf min) 0)"), sample)
