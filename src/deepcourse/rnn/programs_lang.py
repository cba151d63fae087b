"""An AlgoLisp-like language: trees, a parser, a printer and an interpreter.

AlgoLisp (Polosukhin & Skidanov 2018) is the benchmark of SAPS (Bednarek, Piaskowski & Krawiec 2018) in the
notes; it is not available offline, so this module defines a small language after the notes' grammar::

    program       ::= symbol
    symbol        ::= constant | argument | function_call | function | lambda
    function_call ::= (function_name arguments)
    lambda        ::= (lambda1 function_call)

Values are numbers (Python ints, and ``inf``), arrays of numbers, booleans and functions. The calls:

==============================  ==========================================================================
``(reduce A init f)``           left fold of the two-argument function ``f`` over ``A``, starting at ``init``
``(filter A p)``                the elements ``x`` of ``A`` with ``p(x)`` true
``(map A f)``                   ``[f(x) for x in A]``
``(head A)``                    the first element of ``A`` (an error on an empty array)
``(+ x y)``, ``(- x y)``        arithmetic on numbers
``(min x y)``                   the smaller number
``(> x y)``, ``(< x y)``        comparisons, giving booleans
``(lambda1 body)``              a one-argument function; ``arg1`` names its argument inside ``body``
==============================  ==========================================================================

``+``, ``-`` and ``min`` written alone (a leaf) are two-argument functions, as in AlgoLisp's
``(reduce a inf min)``. A program sees the array ``a`` and the number ``b``. A tree node is
:class:`Node` ``(label, children)``; a leaf prints as its label and an inner node as ``(label c1 c2 ...)``, so
text and tree are in one-to-one correspondence (:func:`parse` and :func:`to_text` invert each other).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

INF = math.inf

#: number of arguments of each function call
CALLS: dict[str, int] = {"reduce": 3, "filter": 2, "map": 2, "head": 1, "+": 2, "-": 2, "min": 2, ">": 2, "<": 2,
                         "lambda1": 1}
#: functions that may appear as a leaf, as a two-argument function value
FUNCTION_SYMBOLS: dict[str, Callable[[Any, Any], Any]] = {"+": lambda x, y: x + y, "-": lambda x, y: x - y,
                                                          "min": lambda x, y: min(x, y)}
VARIABLES = ("a", "b", "arg1")
COMMUTATIVE = ("+", "min")


class ProgramError(ValueError):
    """A program that cannot be parsed or fails while running (wrong types, arity, an empty ``head``)."""


@dataclass(frozen=True)
class Node:
    """A program tree: ``label`` and an ordered tuple of children (empty for a leaf)."""

    label: str
    children: tuple[Node, ...] = ()

    def __str__(self) -> str:
        return to_text(self)

    def size(self) -> int:
        return 1 + sum(c.size() for c in self.children)

    def depth(self) -> int:
        return 1 + max((c.depth() for c in self.children), default=0)

    def preorder(self) -> list[Node]:
        out = [self]
        for c in self.children:
            out.extend(c.preorder())
        return out


def tokenize(text: str) -> list[str]:
    """``"(head a)"`` -> ``["(", "head", "a", ")"]``."""
    return text.replace("(", " ( ").replace(")", " ) ").split()


def parse(text: str | list[str]) -> Node:
    """Parse program text (or its tokens) into a :class:`Node`; :class:`ProgramError` on malformed text."""
    tokens = tokenize(text) if isinstance(text, str) else list(text)
    if not tokens:
        raise ProgramError("empty program")
    pos = 0

    def read() -> Node:
        nonlocal pos
        if pos >= len(tokens):
            raise ProgramError("unexpected end of program: a '(' is not closed")
        tok = tokens[pos]
        pos += 1
        if tok == ")":
            raise ProgramError(f"unexpected ')' at token {pos - 1}")
        if tok != "(":
            return Node(tok)
        if pos >= len(tokens) or tokens[pos] in "()":
            raise ProgramError(f"a call must start with a function name (token {pos})")
        label = tokens[pos]
        pos += 1
        children = []
        while pos < len(tokens) and tokens[pos] != ")":
            children.append(read())
        if pos >= len(tokens):
            raise ProgramError(f"unexpected end of program: '({label}' is not closed")
        pos += 1  # the ")"
        if not children:
            raise ProgramError(f"'({label})' has no arguments")
        return Node(label, tuple(children))

    node = read()
    if pos != len(tokens):
        raise ProgramError(f"trailing tokens after the program: {' '.join(tokens[pos:])!r}")
    return node


def to_text(node: Node) -> str:
    if not node.children:
        return node.label
    return "(" + " ".join([node.label] + [to_text(c) for c in node.children]) + ")"


def to_tokens(node: Node) -> list[str]:
    return tokenize(to_text(node))


def canonical(node: Node) -> Node:
    """The canonical form: arguments of commutative calls (``+``, ``min``) sorted by their text, so
    ``(+ b 2)`` and ``(+ 2 b)`` are one program when splits are made disjoint."""
    kids = tuple(canonical(c) for c in node.children)
    if node.label in COMMUTATIVE and len(kids) == 2:
        kids = tuple(sorted(kids, key=to_text))
    return Node(node.label, kids)


# ---------------------------------------------------------------------------------------------------- interpreter
@dataclass(frozen=True)
class Function:
    """A function value: a built-in (``+``) or a ``lambda1``."""

    name: str
    arity: int
    fn: Callable[..., Any]

    def __call__(self, *args: Any) -> Any:
        if len(args) != self.arity:
            raise ProgramError(f"function {self.name} takes {self.arity} argument(s), got {len(args)}")
        return self.fn(*args)


def _describe(v: Any) -> str:
    kind = ("boolean" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else
            "array" if isinstance(v, list) else f"function {v.name}" if isinstance(v, Function) else type(v).__name__)
    return kind if isinstance(v, Function) else f"{kind} {v!r}"


def _number(v: Any, where: str) -> int | float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProgramError(f"{where} expects a number, got {_describe(v)}")
    return v


def _array(v: Any, where: str) -> list:
    if not isinstance(v, list):
        raise ProgramError(f"{where} expects an array, got {_describe(v)}")
    return v


def _function(v: Any, arity: int, where: str) -> Function:
    if not isinstance(v, Function) or v.arity != arity:
        raise ProgramError(f"{where} expects a {arity}-argument function, got {_describe(v)}")
    return v


def evaluate(node: Node, env: dict[str, Any]) -> Any:
    """The value of ``node`` with the variables of ``env`` (``a``, ``b``, and ``arg1`` inside a lambda)."""
    label, kids = node.label, node.children
    if not kids:
        if label in env:
            return env[label]
        if label in VARIABLES:
            raise ProgramError(f"variable {label!r} is not bound here" + (" (arg1 outside a lambda)"
                                                                          if label == "arg1" else ""))
        if label == "inf":
            return INF
        if label.lstrip("-").isdigit():
            return int(label)
        if label in FUNCTION_SYMBOLS:
            return Function(label, 2, lambda x, y, f=FUNCTION_SYMBOLS[label], s=label:
                            f(_number(x, s), _number(y, s)))
        if label in CALLS:
            raise ProgramError(f"{label!r} needs {CALLS[label]} argument(s) and cannot stand alone")
        raise ProgramError(f"unknown symbol {label!r}")
    if label not in CALLS:
        raise ProgramError(f"unknown function {label!r}")
    if len(kids) != CALLS[label]:
        raise ProgramError(f"{label} takes {CALLS[label]} argument(s), got {len(kids)}")
    if label == "lambda1":
        body = kids[0]
        return Function("lambda1", 1, lambda x: evaluate(body, {**env, "arg1": x}))
    args = [evaluate(k, env) for k in kids]
    if label == "reduce":
        arr, acc, f = _array(args[0], "reduce"), _number(args[1], "reduce"), _function(args[2], 2, "reduce")
        for x in arr:
            acc = _number(f(acc, x), "reduce's function result")
        return acc
    if label == "filter":
        arr, p = _array(args[0], "filter"), _function(args[1], 1, "filter")
        out = []
        for x in arr:
            keep = p(x)
            if not isinstance(keep, bool):
                raise ProgramError(f"filter's predicate must give a boolean, got {_describe(keep)}")
            if keep:
                out.append(x)
        return out
    if label == "map":
        arr, f = _array(args[0], "map"), _function(args[1], 1, "map")
        return [_number(f(x), "map's function result") for x in arr]
    if label == "head":
        arr = _array(args[0], "head")
        if not arr:
            raise ProgramError("head of an empty array")
        return arr[0]
    x, y = _number(args[0], label), _number(args[1], label)
    return {"+": lambda: x + y, "-": lambda: x - y, "min": lambda: min(x, y), ">": lambda: x > y,
            "<": lambda: x < y}[label]()


def run_program(program: Node | str, a: list[int], b: int) -> Any:
    """Run ``program`` on the array ``a`` and the number ``b``. Raises :class:`ProgramError` if it fails or
    returns a function."""
    tree = parse(program) if isinstance(program, str) else program
    out = evaluate(tree, {"a": list(a), "b": b})
    if isinstance(out, Function):
        raise ProgramError(f"the program returns a function ({out.name}), not a value")
    return out


def same_output(x: Any, y: Any) -> bool:
    """Output equality that tells booleans from numbers and counts ``nan == nan`` (``inf - inf``)."""
    if isinstance(x, list) or isinstance(y, list):
        return isinstance(x, list) and isinstance(y, list) and len(x) == len(y) and all(map(same_output, x, y))
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y
