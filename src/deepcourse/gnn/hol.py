"""Typed higher-order-logic terms as S-expressions (HOList's syntax, Bansal et al. 2019) and the two labels of
Paliwal et al. (2020, "Graph Representations for Higher-Order Logic and Theorem Proving"): tactic class and
premise relevance. The seeded generator of labelled problems is :mod:`deepcourse.gnn.formulas`.

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

from typing import Iterator, Union

__all__ = [
    "Sexp", "SexpError", "FormulaError", "parse", "to_string", "NUM", "BOOL", "fun_type", "var", "const", "app",
    "lam", "binop", "eq", "forall", "exists", "type_of", "spine", "subterms", "variables", "canonical",
    "TACTICS", "tactic_of", "rewrite_lhs", "rewrite_applies",
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
