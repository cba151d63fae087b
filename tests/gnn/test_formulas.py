"""Tests of deepcourse.gnn.hol (the S-expression parser, typed HOL terms, the two labels; imported through
deepcourse.gnn.formulas, which re-exports them) and of deepcourse.gnn.formulas (the generator)."""

from __future__ import annotations

import pytest

from deepcourse.gnn.formulas import (BOOL, NUM, TACTICS, FormulaError, FormulaGenerator, SexpError, app, binop,
                                     canonical, const, eq, exists, forall, formula_splits, fun_type, generate_problems,
                                     lam, parse, rewrite_applies, rewrite_lhs, subterms, tactic_of, to_string, type_of,
                                     var)

X, Y, Z = var(NUM, "x"), var(NUM, "y"), var(NUM, "z")
ONE = const(NUM, "1")


def test_parse_round_trip():
    text = "(a (v (fun A B) f) (v A x))"  # the notes' f(x)
    s = parse(text)
    assert s == ("a", ("v", ("fun", "A", "B"), "f"), ("v", "A", "x"))
    assert to_string(s) == text
    assert parse("  (a\n b\t(c d) )  ") == ("a", "b", ("c", "d"))
    assert parse("atom") == "atom"
    for p in generate_problems(12, seed=3):
        for t in (p.goal, *p.premises):
            assert parse(to_string(t)) == t


@pytest.mark.parametrize("text, where", [
    ("", "empty input"), ("   ", "empty input"), ("(a b", "missing ')' for the '(' at offset 0"),
    ("(a b))", "unbalanced ')' at offset 5"), (")", "unbalanced ')' at offset 0"), ("(a) b", "offset 4"),
    ("(a ())", "empty list '()' at offset 3"), ("a b", "offset 2"),
])
def test_parse_errors(text, where):
    with pytest.raises(SexpError, match=where.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


def test_parse_rejects_non_strings_and_to_string_bad_atoms():
    with pytest.raises(TypeError):
        parse(b"(a b)")
    with pytest.raises(SexpError):
        to_string(("a", "b c"))
    with pytest.raises(SexpError):
        to_string(())


def test_type_of():
    assert type_of(binop("+", X, ONE)) == NUM
    assert type_of(eq(X, ONE)) == BOOL
    assert type_of(forall(X, eq(X, X))) == BOOL
    assert type_of(lam(X, binop("*", X, X))) == fun_type(NUM, NUM)
    f = var(fun_type(NUM, NUM), "f")
    assert type_of(app(f, X)) == NUM
    with pytest.raises(FormulaError, match="cannot apply"):
        type_of(app(f, eq(X, X)))  # f : num -> num applied to a bool
    with pytest.raises(FormulaError, match="not a term"):
        type_of(("q", X, X))


def test_tactic_labels_by_hand():
    assert TACTICS[tactic_of(forall(X, eq(X, X)))] == "GEN_TAC"
    assert TACTICS[tactic_of(exists(X, eq(X, ONE)))] == "EXISTS_TAC"
    assert TACTICS[tactic_of(binop("==>", eq(X, ONE), eq(X, ONE)))] == "DISCH_TAC"
    assert TACTICS[tactic_of(binop("/\\", eq(X, ONE), forall(Y, eq(Y, Y))))] == "CONJ_TAC"
    assert TACTICS[tactic_of(eq(binop("+", X, ONE), Y))] == "REWRITE_TAC"
    assert TACTICS[tactic_of(binop("<=", X, binop("+", X, ONE)))] == "ARITH_TAC"
    # the top-level connective decides, not the ones inside
    assert TACTICS[tactic_of(binop("==>", forall(X, eq(X, X)), binop("/\\", eq(X, X), eq(Y, Y))))] == "DISCH_TAC"
    with pytest.raises(FormulaError, match="no tactic class"):
        tactic_of(app(const(fun_type(BOOL, BOOL), "~"), eq(X, X)))


def test_canonical_renaming():
    assert canonical(binop("+", X, Y)) == canonical(binop("+", Z, X))
    assert canonical(binop("+", X, X)) != canonical(binop("+", X, Y))  # not a consistent renaming
    assert canonical(binop("+", X, Y)) != canonical(binop("+", Y, Y))
    assert canonical(binop("+", X, ONE)) != canonical(binop("+", X, const(NUM, "2")))  # constants are not renamed


def test_premise_relevance_by_hand():
    goal = forall(X, eq(binop("*", binop("+", X, ONE), Y), Z))  # !x. (x + 1) * y = z
    rel = forall(Z, eq(binop("+", Z, ONE), app(const(fun_type(NUM, NUM), "SUC"), Z)))  # !z. z + 1 = SUC z
    assert rewrite_lhs(rel) == binop("+", Z, ONE)
    assert rewrite_applies(goal, rel)
    assert rewrite_applies(goal, eq(binop("*", binop("+", Y, ONE), X), ONE))  # the whole lhs, renamed
    assert not rewrite_applies(goal, eq(binop("+", ONE, Z), Z))  # x + 1 is not 1 + z
    assert not rewrite_applies(goal, eq(binop("*", binop("+", X, ONE), X), ONE))  # (x + 1) * x: y != x
    with pytest.raises(FormulaError, match="equation"):
        rewrite_applies(goal, binop("<=", X, ONE))


def test_generator_is_deterministic_and_labels_hold():
    a, b = generate_problems(30, seed=7), generate_problems(30, seed=7)
    assert a == b
    assert a != generate_problems(30, seed=8)
    assert sorted(p.tactic for p in a) == sorted(i % len(TACTICS) for i in range(30))  # balanced classes
    for p in a:
        assert type_of(p.goal) == BOOL and all(type_of(q) == BOOL for q in p.premises)
        assert tactic_of(p.goal) == p.tactic
        assert tuple(rewrite_applies(p.goal, q) for q in p.premises) == p.relevant
        assert sorted(p.relevant) == [False, True]
        names = [t[2] for t in subterms(p.goal) if t[0] == "c" and t[2] in {"!", "?", "==>", "/\\", "=", "<="}]
        assert len(set(names)) >= 4  # several connectives occur: the tokens alone do not give the class
        assert names.count(names[0]) >= 2  # names[0] is the top one (pre-order); it occurs again inside


def test_splits_are_seeded_and_disjoint():
    s = formula_splits(20, 5, 5, seed=1)
    assert [len(s[k]) for k in ("train", "val", "test")] == [20, 5, 5]
    assert s == formula_splits(20, 5, 5, seed=1)
    goals = [p.goal for k in s for p in s[k]]
    assert len(set(goals)) == len(goals)
    with pytest.raises(ValueError):
        FormulaGenerator(0, depth=0)
