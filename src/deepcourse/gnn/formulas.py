"""Typed higher-order-logic formulas as S-expressions, and a seeded generator of the two labelled tasks of
Paliwal et al. (2020, "Graph Representations for Higher-Order Logic and Theorem Proving"): tactic
classification and premise selection.

HOList (Bansal et al. 2019) is not available offline, so we generate formulas in its S-expression syntax:

* ``(v TYPE name)``: a variable, ``(c TYPE name)``: a constant, ``(a F X)``: application,
  ``(l (v TYPE x) BODY)``: abstraction; types are ``num``, ``bool`` and ``(fun A B)``.
* Equality, ``<=``, arithmetic (``+ * - DIV MOD EXP MIN MAX SUC PRE``, numerals 0-9, ``COND b x y``) and
  the connectives (``/\\ ==> ~``) are curried constants;
  quantifiers are ``(a (c (fun (fun A bool) bool) !) (l (v A x) BODY))`` (HOL Light's ``!x. BODY``).

Labels:

* :func:`tactic_of`: the tactic HOL Light would apply, determined by the goal's top-level connective
  (``!`` -> GEN_TAC, ``?`` -> EXISTS_TAC, ``==>`` -> DISCH_TAC, ``/\\`` -> CONJ_TAC, ``=`` -> REWRITE_TAC,
  ``<=`` -> ARITH_TAC). The same connectives occur deeper inside every goal, so a bag of tokens does not
  determine it: the model must know which node is the root (context, i.e. hops).
* :func:`rewrite_applies`: a premise ``!xs. l = r`` is relevant to a goal when ``l`` equals a subterm of the
  goal up to a consistent, injective renaming of variables (:func:`canonical`), i.e. rewriting with it applies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterator, Union

__all__ = [
    "Sexp", "SexpError", "FormulaError", "parse", "to_string", "NUM", "BOOL", "fun_type", "var", "const", "app",
    "lam", "binop", "eq", "forall", "exists", "type_of", "spine", "subterms", "variables", "canonical",
    "TACTICS", "tactic_of", "rewrite_lhs", "rewrite_applies", "rewritable_subterms", "MIN_LHS", "FormulaGenerator",
    "FormulaProblem", "generate_problems", "formula_splits",
]

Sexp = Union[str, tuple]  # an atom, or a non-empty tuple of S-expressions


class SexpError(ValueError):
    """Malformed S-expression text; the message gives the character offset."""


class FormulaError(ValueError):
    """A well-formed S-expression that is not a well-typed HOL term of the kind required."""


# ------------------------------------------------------------------------------------------- S-expressions
def _tokens(text: str) -> Iterator[tuple[str, int]]:
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            yield ch, i
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "()":
                j += 1
            yield text[i:j], i
            i = j


def parse(text: str) -> Sexp:
    """Parse one S-expression: atoms are runs of characters other than whitespace and parentheses; a list is
    a tuple. Raises :class:`SexpError` (with the offset) on empty input, ``()``, an unbalanced parenthesis or
    text after the expression."""
    if not isinstance(text, str):
        raise TypeError(f"parse expects a str, got {type(text).__name__}")
    stack: list[tuple[int, list]] = []
    result: Sexp | None = None
    for tok, pos in _tokens(text):
        if tok == ")" and not stack:
            raise SexpError(f"unbalanced ')' at offset {pos}")
        if result is not None:
            raise SexpError(f"unexpected {tok!r} at offset {pos}: text continues after a complete expression")
        if tok == "(":
            stack.append((pos, []))
        elif tok == ")":
            start, items = stack.pop()
            if not items:
                raise SexpError(f"empty list '()' at offset {start}")
            done: Sexp = tuple(items)
            if stack:
                stack[-1][1].append(done)
            else:
                result = done
        elif stack:
            stack[-1][1].append(tok)
        else:
            result = tok
    if stack:
        raise SexpError(f"missing ')' for the '(' at offset {stack[-1][0]}")
    if result is None:
        raise SexpError("empty input: expected an S-expression")
    return result


def to_string(s: Sexp) -> str:
    """The S-expression as text; ``parse(to_string(s)) == s``."""
    if isinstance(s, str):
        if not s or any(c.isspace() or c in "()" for c in s):
            raise SexpError(f"atom {s!r} cannot be written (empty, or contains whitespace or a parenthesis)")
        return s
    if not isinstance(s, tuple) or not s:
        raise SexpError(f"an S-expression is a str or a non-empty tuple, got {s!r}")
    return "(" + " ".join(to_string(x) for x in s) + ")"


# ---------------------------------------------------------------------------------------- typed HOL terms
NUM, BOOL = "num", "bool"


def fun_type(a: Sexp, b: Sexp) -> Sexp:
    return ("fun", a, b)


def var(ty: Sexp, name: str) -> Sexp:
    return ("v", ty, name)


def const(ty: Sexp, name: str) -> Sexp:
    return ("c", ty, name)


def app(f: Sexp, x: Sexp) -> Sexp:
    return ("a", f, x)


def lam(v: Sexp, body: Sexp) -> Sexp:
    return ("l", v, body)


_NN_N = fun_type(NUM, fun_type(NUM, NUM))
_ARITH = ("+", "*", "-", "DIV", "MOD", "EXP", "MIN", "MAX")  # num -> num -> num
_UNARY = ("SUC", "PRE")  # num -> num
_CONST_TYPES = {**{k: _NN_N for k in _ARITH}, **{k: fun_type(NUM, NUM) for k in _UNARY},
                "=": fun_type(NUM, fun_type(NUM, BOOL)), "<=": fun_type(NUM, fun_type(NUM, BOOL)),
                "/\\": fun_type(BOOL, fun_type(BOOL, BOOL)), "==>": fun_type(BOOL, fun_type(BOOL, BOOL)),
                "~": fun_type(BOOL, BOOL), "COND": fun_type(BOOL, fun_type(NUM, fun_type(NUM, NUM)))}


def binop(name: str, x: Sexp, y: Sexp) -> Sexp:
    """``x name y`` as the curried ``(a (a (c TYPE name) x) y)`` (``+ * - = <= /\\ ==>``)."""
    return app(app(const(_CONST_TYPES[name], name), x), y)


def eq(x: Sexp, y: Sexp) -> Sexp:
    return binop("=", x, y)


def _quantifier(name: str, v: Sexp, body: Sexp) -> Sexp:
    return app(const(fun_type(fun_type(v[1], BOOL), BOOL), name), lam(v, body))


def forall(v: Sexp, body: Sexp) -> Sexp:
    """``!v. body``."""
    return _quantifier("!", v, body)


def exists(v: Sexp, body: Sexp) -> Sexp:
    """``?v. body``."""
    return _quantifier("?", v, body)


def _is_type(t: Sexp) -> bool:
    return t in (NUM, BOOL) or (isinstance(t, tuple) and len(t) == 3 and t[0] == "fun" and _is_type(t[1])
                                and _is_type(t[2]))


def type_of(term: Sexp) -> Sexp:
    """The type of a HOL term; :class:`FormulaError` when it is not a well-typed term."""
    if not isinstance(term, tuple) or len(term) != 3 or term[0] not in ("v", "c", "a", "l"):
        raise FormulaError(f"not a term (expected (v T x), (c T x), (a F X) or (l V B)): {term!r}")
    head, p, q = term
    if head in ("v", "c"):
        if not _is_type(p) or not isinstance(q, str):
            raise FormulaError(f"bad {'variable' if head == 'v' else 'constant'} {to_string(term)}")
        return p
    if head == "a":
        tf, tx = type_of(p), type_of(q)
        if not (isinstance(tf, tuple) and tf[0] == "fun" and tf[1] == tx):
            raise FormulaError(f"cannot apply {to_string(p)} : {to_string(tf)} to an argument of type {to_string(tx)}")
        return tf[2]
    if not (isinstance(p, tuple) and p[0] == "v"):
        raise FormulaError(f"abstraction must bind a variable, got {p!r}")
    return fun_type(type_of(p), type_of(q))


def spine(term: Sexp) -> tuple[Sexp, list[Sexp]]:
    """``(a (a h x) y)`` -> ``(h, [x, y])``: the head of an application and its arguments."""
    args = []
    while isinstance(term, tuple) and term[0] == "a":
        args.append(term[2])
        term = term[1]
    return term, args[::-1]


def subterms(term: Sexp) -> Iterator[Sexp]:
    """Every subterm, pre-order (types and names inside ``v``/``c`` are not terms)."""
    yield term
    if term[0] in ("a", "l"):
        yield from subterms(term[1])
        yield from subterms(term[2])


def variables(term: Sexp) -> list[Sexp]:
    """The distinct variables ``(v T x)`` of ``term`` (free or bound), in order of first occurrence."""
    seen: dict[Sexp, None] = {}
    for t in subterms(term):
        if t[0] == "v":
            seen.setdefault(t, None)
    return list(seen)


def _rename(term: Sexp, mapping: dict[Sexp, str]) -> Sexp:
    if term[0] == "v":
        return var(term[1], mapping.get(term, term[2]))
    if term[0] in ("a", "l"):
        return (term[0], _rename(term[1], mapping), _rename(term[2], mapping))
    return term


def canonical(term: Sexp) -> Sexp:
    """``term`` with its variables renamed ``_0, _1, ...`` in order of first occurrence: two terms are equal up
    to a consistent injective renaming of variables iff their canonical forms are equal."""
    return _rename(term, {v: f"_{i}" for i, v in enumerate(variables(term))})


# ------------------------------------------------------------------------------------------------- labels
TACTICS = ("GEN_TAC", "EXISTS_TAC", "DISCH_TAC", "CONJ_TAC", "REWRITE_TAC", "ARITH_TAC")
_TOP = {"!": 0, "?": 1, "==>": 2, "/\\": 3, "=": 4, "<=": 5}


def tactic_of(goal: Sexp) -> int:
    """Index into :data:`TACTICS` of the tactic that the goal's top-level connective calls for."""
    head, _ = spine(goal)
    if not (isinstance(head, tuple) and head[0] == "c" and head[2] in _TOP):
        raise FormulaError(f"no tactic class for a goal headed by {to_string(head)}")
    return _TOP[head[2]]


def rewrite_lhs(premise: Sexp) -> Sexp:
    """The left-hand side ``l`` of a premise ``!x1 ... !xk. l = r``."""
    body = premise
    while True:
        head, args = spine(body)
        if isinstance(head, tuple) and head[0] == "c" and head[2] == "!" and len(args) == 1 and args[0][0] == "l":
            body = args[0][2]
        else:
            break
    head, args = spine(body)
    if not (isinstance(head, tuple) and head[0] == "c" and head[2] == "=" and len(args) == 2):
        raise FormulaError(f"a rewrite premise must be an equation under universal quantifiers: {to_string(premise)}")
    return args[0]


def rewrite_applies(goal: Sexp, premise: Sexp) -> bool:
    """Premise relevance: the premise's left-hand side equals some subterm of ``goal`` up to renaming."""
    key = canonical(rewrite_lhs(premise))
    return any(canonical(t) == key for t in subterms(goal))


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
