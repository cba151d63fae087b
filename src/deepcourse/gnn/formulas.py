"""A seeded generator of the two labelled tasks of Paliwal et al. (2020, "Graph Representations for Higher-Order
Logic and Theorem Proving"): tactic classification and premise selection, on typed higher-order-logic goals.

HOList (Bansal et al. 2019) is not available offline, so we generate formulas in its S-expression syntax
(:mod:`deepcourse.gnn.hol`: the terms, their types, and the labels :func:`tactic_of` and
:func:`rewrite_applies`, re-exported here). Each problem is a goal with its tactic class and two candidate
rewrite premises, one relevant and one not.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .hol import (_ARITH, _CONST_TYPES, _NN_N, _TOP, _UNARY, BOOL, NUM, TACTICS, FormulaError, Sexp, SexpError, _rename,
                  app, binop, canonical, const, eq, exists, forall, fun_type, lam, parse, rewrite_applies,
                  rewrite_lhs, spine, subterms, tactic_of, to_string, type_of, var, variables)

__all__ = [
    "Sexp", "SexpError", "FormulaError", "parse", "to_string", "NUM", "BOOL", "fun_type", "var", "const", "app",
    "lam", "binop", "eq", "forall", "exists", "type_of", "spine", "subterms", "variables", "canonical",
    "TACTICS", "tactic_of", "rewrite_lhs", "rewrite_applies", "rewritable_subterms", "MIN_LHS", "FormulaGenerator",
    "FormulaProblem", "generate_problems", "formula_splits",
]

# ---------------------------------------------------------------------------------------------- generator
NUM_VARS = ("x", "y", "z", "n", "m", "k")
FUN_VARS = ("f", "g", "h")
NUMERALS = tuple(str(i) for i in range(10))


class FormulaGenerator:
    """Random well-typed goals and rewrite premises from ``random.Random(seed)`` (platform independent).

    ``depth``: nesting depth of a goal's formula below its top connective; ``term_depth``: of the
    arithmetic terms inside it."""

    def __init__(self, seed: int, depth: int = 3, term_depth: int = 1, min_connectives: int = 4):
        if depth < 1 or term_depth < 1 or not 1 <= min_connectives <= len(_TOP):
            raise ValueError(f"need depth, term_depth >= 1 and min_connectives in [1, 6], got {depth}, {term_depth}, "
                             f"{min_connectives}")
        self.rng = random.Random(seed)
        self.depth, self.term_depth, self.min_connectives = depth, term_depth, min_connectives

    def num_term(self, depth: int, cond_depth: int = 0) -> Sexp:
        """A random num term; ``cond_depth > 0`` allows ``COND b x y`` (if b then x else y) with a formula b of
        that depth, so that connectives can occur inside arithmetic."""
        r = self.rng
        if depth <= 0 or r.random() < 0.2:
            return var(NUM, r.choice(NUM_VARS)) if r.random() < 0.65 else const(NUM, r.choice(NUMERALS))
        kind = r.choices(("arith", "suc", "fapp", "beta", "cond"), weights=(6, 1, 2, 1, 2 if cond_depth > 0 else 0))[0]
        if kind == "cond":
            return app(app(app(const(_CONST_TYPES["COND"], "COND"), self.formula(cond_depth - 1)),
                           self.num_term(depth - 1)), self.num_term(depth - 1))
        if kind == "arith":
            return binop(r.choice(_ARITH), self.num_term(depth - 1), self.num_term(depth - 1))
        if kind == "suc":
            op = r.choice(_UNARY)
            return app(const(_CONST_TYPES[op], op), self.num_term(depth - 1))
        if kind == "fapp":
            return app(var(fun_type(NUM, NUM), r.choice(FUN_VARS)), self.num_term(depth - 1))
        return app(lam(var(NUM, r.choice(NUM_VARS)), self.num_term(depth - 1)), self.num_term(depth - 1))

    def formula(self, depth: int, top: str | None = None) -> Sexp:
        r = self.rng
        if top is None:
            top = r.choice(("=", "<=")) if depth <= 0 else r.choices(
                ("=", "<=", "/\\", "==>", "~", "!", "?"), weights=(3, 2, 2, 2, 1, 2, 2))[0]
        td = self.term_depth
        if top in ("=", "<="):
            return binop(top, self.num_term(td, depth), self.num_term(td, depth))
        if top in ("/\\", "==>"):
            return binop(top, self.formula(depth - 1), self.formula(depth - 1))
        if top == "~":
            return app(const(_CONST_TYPES["~"], "~"), self.formula(depth - 1))
        q = forall if top == "!" else exists
        return q(var(NUM, r.choice(NUM_VARS)), self.formula(depth - 1))

    def goal(self, tactic: int, max_tries: int = 10000) -> Sexp:
        """A goal whose label :func:`tactic_of` is ``tactic``, in which (rejection sampling) the top connective
        occurs again below the root and at least :attr:`min_connectives` of the six top-level connectives occur:
        a bag of tokens then narrows the class down to a few, and only the connectives' positions decide."""
        top = {v: k for k, v in _TOP.items()}[tactic]
        for _ in range(max_tries):
            g = self.formula(self.depth, top=top)
            names = [t[2] for t in subterms(g) if t[0] == "c" and t[2] in _TOP]
            if names.count(top) >= 2 and len(set(names)) >= self.min_connectives:
                return g
        raise FormulaError(f"no goal with {self.min_connectives} connectives in {max_tries} tries; raise depth "
                           f"({self.depth})")

    def _renamed(self, term: Sexp) -> Sexp:
        """``term`` with its variables renamed injectively (fresh names of the same type)."""
        vs = variables(term)
        mapping = {}
        for ty, pool in ((NUM, NUM_VARS), (fun_type(NUM, NUM), FUN_VARS)):
            group = [v for v in vs if v[1] == ty]
            mapping.update(zip(group, self.rng.sample(pool, len(group))))
        return _rename(term, mapping)

    def _perturbed(self, term: Sexp) -> Sexp:
        """One constant changed (an operator or a numeral) or one variable occurrence renamed alone (which
        breaks the consistency of the renaming: ``x + x`` -> ``x + y``)."""
        sites = [t for t in subterms(term) if t[0] in ("c", "v")]
        site_at = self.rng.randrange(len(sites))
        count = [0]

        def walk(t: Sexp) -> Sexp:
            if t[0] in ("c", "v"):
                i, count[0] = count[0], count[0] + 1
                if i != site_at:
                    return t
                pool = {("c", NUM): NUMERALS, ("v", NUM): NUM_VARS, ("v", fun_type(NUM, NUM)): FUN_VARS,
                        ("c", _NN_N): _ARITH, ("c", fun_type(NUM, NUM)): _UNARY}.get((t[0], t[1]), (t[2],))
                return (t[0], t[1], self.rng.choice([p for p in pool if p != t[2]] or [t[2]]))
            return (t[0], walk(t[1]), walk(t[2])) if t[0] in ("a", "l") else t

        return walk(term)

    def premise(self, lhs: Sexp) -> Sexp:
        """``lhs = rhs`` with ``rhs`` a random term over ``lhs``'s variables and numerals; free variables are
        implicitly universal, as in HOL Light theorems such as ``|- x + 0 = x``."""
        vs = [v for v in variables(lhs) if v[1] == NUM] or [var(NUM, "x")]
        rhs = self.num_term(1)
        return eq(lhs, _rename(rhs, {v: self.rng.choice(vs)[2] for v in variables(rhs) if v[1] == NUM}))

    def premises_for(self, goal: Sexp) -> tuple[tuple[Sexp, Sexp], str]:
        """A relevant premise (a renamed rewritable subterm of the goal as the left-hand side) and an irrelevant
        one: ``"perturbed"`` (such a subterm with one constant or one variable occurrence changed) or
        ``"random"`` (a rewritable subterm of another random formula, the paper's random pairing); returns
        ``((pos, neg), kind)``."""
        cands = rewritable_subterms(goal)
        if not cands:
            raise FormulaError(f"goal has no arithmetic subterm of {MIN_LHS}+ term nodes to rewrite: {to_string(goal)}")
        pos = self.premise(self._renamed(self.rng.choice(cands)))
        kind = self.rng.choice(("perturbed", "random"))
        for attempt in range(60):
            if attempt == 20:
                kind = "random"  # every perturbation of a small subterm may be a mere renaming (f y -> g z)
            if kind == "perturbed":
                lhs = self._perturbed(self.rng.choice(cands))
            else:
                other = rewritable_subterms(self.formula(self.depth))
                if not other:
                    continue
                lhs = self.rng.choice(other)
            neg = self.premise(self._renamed(lhs))
            if not rewrite_applies(goal, neg):
                return (pos, neg), kind
        raise FormulaError(f"could not draw an irrelevant premise for {to_string(goal)}")


MIN_LHS = 8  # term nodes in a rewrite's left-hand side: (x + 1) * y has 9, x + 1 has 5


def rewritable_subterms(term: Sexp) -> list[Sexp]:
    """Applications of type num with at least :data:`MIN_LHS` term nodes: the left-hand sides we draw."""
    return [t for t in subterms(term) if t[0] == "a" and sum(1 for _ in subterms(t)) >= MIN_LHS and type_of(t) == NUM]


@dataclass(frozen=True)
class FormulaProblem:
    """One goal with its tactic class and two candidate premises (one relevant, one not)."""

    goal: Sexp
    tactic: int
    premises: tuple[Sexp, ...]
    relevant: tuple[bool, ...]
    negative_kind: str


def generate_problems(n: int, seed: int, depth: int = 3, term_depth: int = 1) -> list[FormulaProblem]:
    """``n`` distinct goals, tactic classes balanced (shuffled), each with a relevant and an irrelevant premise
    (in random order). Labels come from :func:`tactic_of` and :func:`rewrite_applies`, not from construction."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    gen = FormulaGenerator(seed, depth, term_depth)
    out, seen = [], set()
    while len(out) < n:
        want = len(out) % len(TACTICS)
        goal = gen.goal(want)
        if goal in seen or not rewritable_subterms(goal):
            continue  # a duplicate, or nothing a rewrite could apply to
        seen.add(goal)
        (pos, neg), kind = gen.premises_for(goal)
        prem = (pos, neg) if gen.rng.random() < 0.5 else (neg, pos)
        rel = tuple(rewrite_applies(goal, p) for p in prem)
        if sorted(rel) != [False, True]:
            raise FormulaError("generated premises do not have one relevant and one irrelevant")
        out.append(FormulaProblem(goal, tactic_of(goal), prem, rel, kind))
    random.Random(seed + 1).shuffle(out)
    return out


def formula_splits(n_train: int, n_val: int, n_test: int, seed: int, depth: int = 3,
                   term_depth: int = 1) -> dict[str, list[FormulaProblem]]:
    """Seeded train / val / test splits of distinct goals (no goal appears in two splits)."""
    probs = generate_problems(n_train + n_val + n_test, seed, depth, term_depth)
    return {"train": probs[:n_train], "val": probs[n_train:n_train + n_val], "test": probs[n_train + n_val:]}
