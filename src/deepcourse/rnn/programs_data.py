"""Generated program-synthesis data: random programs of :mod:`.programs_lang`, English descriptions from
templates (with paraphrase and word dropout), I/O examples, seeded splits with no test program in training,
and functional correctness.

A program is a number or an array built from the array ``a`` and the number ``b``::

    array  A ::= a | (filter A (lambda1 (> arg1 X))) | (filter A (lambda1 (< arg1 X)))
               | (map A (lambda1 (+ arg1 X))) | (map A (lambda1 (- arg1 X))) | (map A (lambda1 (min arg1 X)))
    number N ::= (head A) | (reduce A 0 +) | (reduce A inf min)
    program  ::= A (at least one filter/map) | N | (+ N Y) | (- N Y) | (min N Y)      Y ::= N | X
    X        ::= b | 0 | 1 | ... | max_const

Each template has several paraphrases (``"the sum of {A}"``, ``"the total of the values in {A}"``); word
dropout then removes filler words (never ``a``, ``b``, numbers or operator words), as in the notes' SAPS
examples (``"given a numbers b, find a + b"``). Like AlgoLisp, each sample carries a few visible I/O examples;
the held-out ``tests`` (other inputs) decide functional correctness: a synthesised program is correct when it
runs and gives the target's output on every one of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .programs_lang import Node, ProgramError, canonical, run_program, same_output, to_text

PREFIXES = ("given an array a and a number b , find", "you are given an array a and a number b . your task is to "
            "compute", "for an array a and a number b , return", "given array a and number b , compute")
TEMPLATES: dict[str, tuple[str, ...]] = {
    "a": ("a", "the array a", "array a"),
    "b": ("b", "the number b"),
    "filter>": ("the elements of {A} greater than {X}", "the values in {A} that are larger than {X}",
                "the elements of {A} above {X}"),
    "filter<": ("the elements of {A} less than {X}", "the values in {A} that are smaller than {X}",
                "the elements of {A} below {X}"),
    "map+": ("{A} with {X} added to every element", "every element of {A} increased by {X}",
             "{A} plus {X} elementwise"),
    "map-": ("{A} with {X} subtracted from every element", "every element of {A} decreased by {X}",
             "{A} minus {X} elementwise"),
    "mapmin": ("{A} with every element capped at {X}", "every element of {A} limited to at most {X}",
               "{A} clipped from above at {X}"),
    "head": ("the first element of {A}", "the first value in {A}", "the head of {A}"),
    "sum": ("the sum of {A}", "the total of the values in {A}", "the sum of all elements in {A}"),
    "minimum": ("the smallest element of {A}", "the minimum of {A}", "the least value in {A}"),
    "+": ("{N} plus {M}", "the sum of {N} and {M}", "{N} increased by {M}"),
    "-": ("{N} minus {M}", "{N} decreased by {M}", "the difference of {N} and {M}"),
    "min": ("the smaller of {N} and {M}", "the minimum of {N} and {M}", "the lesser of {N} and {M}"),
}
#: words that word dropout may remove (the variables, numbers and operator words are never dropped)
FILLER = frozenset({"the", "you", "are", "given", "an", "your", "task", "is", "to", "that", "all", "of", "in",
                    "array", "number", ",", ".", "values", "elements", "element"})


def _lam(op: str, x: Node) -> Node:
    return Node("lambda1", (Node(op, (Node("arg1"), x)),))


# ---------------------------------------------------------------------------------------------------- generator
def random_operand(rng: random.Random, max_const: int) -> Node:
    """X: ``b`` (half the time) or a constant 0..max_const."""
    return Node("b") if rng.random() < 0.5 else Node(str(rng.randint(0, max_const)))


def random_array(rng: random.Random, max_const: int, depth: int) -> Node:
    """A: ``a`` under up to ``depth`` filters/maps."""
    node = Node("a")
    for _ in range(depth):
        kind = rng.choice(("filter>", "filter<", "map+", "map-", "mapmin"))
        call = "filter" if kind.startswith("filter") else "map"
        node = Node(call, (node, _lam(kind[len(call):], random_operand(rng, max_const))))
    return node


def random_number(rng: random.Random, max_const: int, max_array_depth: int) -> Node:
    """N: head, sum or minimum of an array."""
    arr = random_array(rng, max_const, rng.randint(0, max_array_depth))
    kind = rng.choice(("head", "sum", "minimum"))
    if kind == "head":
        return Node("head", (arr,))
    return Node("reduce", (arr, Node("0"), Node("+")) if kind == "sum" else (arr, Node("inf"), Node("min")))


def random_program(rng: random.Random, max_const: int = 5, max_array_depth: int = 2) -> Node:
    """One random program of the grammar above, with at least 4 nodes."""
    while True:
        r = rng.random()
        if r < 0.2:
            node = random_array(rng, max_const, rng.randint(1, max_array_depth))
        elif r < 0.5:
            node = random_number(rng, max_const, max_array_depth)
        else:
            left = random_number(rng, max_const, max_array_depth - 1)
            right = (random_number(rng, max_const, 0) if rng.random() < 0.3 else random_operand(rng, max_const))
            node = Node(rng.choice(("+", "-", "min")), (left, right))
        if node.size() >= 4 and not (len(node.children) == 2 and node.children[0] == node.children[1]):
            return node


# ---------------------------------------------------------------------------------------------------- descriptions
def _phrase(node: Node, rng: random.Random) -> str:
    pick = lambda key: rng.choice(TEMPLATES[key])  # noqa: E731
    lab, kids = node.label, node.children
    if not kids:
        if lab in ("a", "b"):
            return pick(lab)
        if lab.isdigit():
            return lab
    elif lab in ("filter", "map") and kids[1].label == "lambda1":
        body = kids[1].children[0]
        if len(body.children) == 2 and body.children[0].label == "arg1":
            key = lab + body.label  # filter> filter< map+ map- mapmin
            if key in TEMPLATES:
                return pick(key).format(A=_phrase(kids[0], rng), X=_phrase(body.children[1], rng))
    elif lab == "head":
        return pick("head").format(A=_phrase(kids[0], rng))
    elif lab == "reduce" and [k.label for k in kids[1:]] in (["0", "+"], ["inf", "min"]):
        return pick("sum" if kids[2].label == "+" else "minimum").format(A=_phrase(kids[0], rng))
    elif lab in ("+", "-", "min") and len(kids) == 2:
        return pick(lab).format(N=_phrase(kids[0], rng), M=_phrase(kids[1], rng))
    raise ValueError(f"no description template for {to_text(node)!r}")


def describe(program: Node, rng: random.Random, dropout: float = 0.0) -> list[str]:
    """An English description of ``program`` (a paraphrase chosen with ``rng``), as words; each filler word
    is dropped with probability ``dropout``."""
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1) (got {dropout})")
    words = (rng.choice(PREFIXES) + " " + _phrase(program, rng)).split()
    kept = [w for w in words if w not in FILLER or rng.random() >= dropout]
    return kept or words


# ---------------------------------------------------------------------------------------------------- samples
def random_inputs(rng: random.Random, max_len: int = 6) -> tuple[list[int], int]:
    """An array of 1..max_len numbers from a random range (all positive, all negative or mixed, so that
    ``(min x 0)`` and ``(+ x 0)`` differ somewhere) and a number b in 0..5."""
    lo = rng.choice((-9, -4, 0, 2))
    hi = lo + rng.randint(3, 12)
    return [rng.randint(lo, hi) for _ in range(rng.randint(1, max_len))], rng.randint(0, 5)


def io_pairs(program: Node, rng: random.Random, n: int, tries: int = 50) -> list[tuple[tuple[list[int], int], object]]:
    """``n`` (inputs, output) pairs on random inputs where ``program`` runs (inputs that make it fail, such as
    ``head`` of an empty filter, are redrawn up to ``tries`` times each)."""
    out = []
    for _ in range(n * tries):
        a, b = random_inputs(rng)
        try:
            out.append(((a, b), run_program(program, a, b)))
        except ProgramError:
            continue
        if len(out) == n:
            return out
    raise ProgramError(f"{to_text(program)} fails on almost every input")


@dataclass(frozen=True)
class Sample:
    """One synthesis problem: the target program (text and tree), a description (words), visible I/O
    examples, and held-out tests (inputs, expected output) for functional correctness."""

    text: str
    tree: Node
    description: tuple[str, ...]
    examples: tuple
    tests: tuple


def functionally_correct(candidate: Node | None, sample: Sample) -> bool:
    """True when ``candidate`` runs on every held-out input of ``sample`` and gives the expected output."""
    if candidate is None:
        return False
    for (a, b), want in sample.tests:
        try:
            got = run_program(candidate, a, b)
        except (ProgramError, RecursionError, OverflowError):
            return False
        if not same_output(got, want):
            return False
    return True


@dataclass
class ProgramSplits:
    train: list[Sample]
    val: list[Sample]
    test: list[Sample]


def make_splits(n_programs: int, *, seed: int, descriptions: int = 2, max_const: int = 5, max_array_depth: int = 2,
                dropout: float = 0.1, val_frac: float = 0.1, test_frac: float = 0.2, n_examples: int = 3,
                n_tests: int = 8) -> ProgramSplits:
    """``n_programs`` distinct programs (distinct canonical forms), shuffled and cut into train / val / test
    by program, so no test (or validation) program appears in training in any argument order; each program
    gives ``descriptions`` samples with independently drawn paraphrases. Deterministic in ``seed``."""
    if n_programs < 3 or not (0 < val_frac and 0 < test_frac and val_frac + test_frac < 1):
        raise ValueError(f"need n_programs >= 3 and 0 < val_frac, test_frac with a sum < 1 "
                         f"(got {n_programs}, {val_frac}, {test_frac})")
    rng = random.Random(seed)
    programs: dict[str, Node] = {}
    for _ in range(200 * n_programs):
        p = random_program(rng, max_const, max_array_depth)
        key = to_text(canonical(p))
        if key not in programs:
            try:
                io_pairs(p, random.Random(0), 1)
            except ProgramError:
                continue
            programs[key] = p
            if len(programs) == n_programs:
                break
    else:
        raise ValueError(f"the grammar (max_const={max_const}) has fewer than {n_programs} distinct programs")
    keys = sorted(programs)
    rng.shuffle(keys)
    n_test, n_val = max(1, round(test_frac * len(keys))), max(1, round(val_frac * len(keys)))
    parts = {"test": keys[:n_test], "val": keys[n_test:n_test + n_val], "train": keys[n_test + n_val:]}

    def samples(part: list[str]) -> list[Sample]:
        out = []
        for key in part:
            p = programs[key]
            pairs = io_pairs(p, rng, n_examples + n_tests)
            for _ in range(descriptions):
                out.append(Sample(to_text(p), p, tuple(describe(p, rng, dropout)), tuple(pairs[:n_examples]),
                                  tuple(pairs[n_examples:])))
        return out

    return ProgramSplits(samples(parts["train"]), samples(parts["val"]), samples(parts["test"]))


def label_set(max_const: int) -> list[str]:
    """Every tree label the generator can produce (the tree decoder's output vocabulary)."""
    return (["reduce", "filter", "map", "head", "lambda1", "+", "-", "min", ">", "<", "a", "b", "arg1", "inf"]
            + [str(k) for k in range(max_const + 1)])

