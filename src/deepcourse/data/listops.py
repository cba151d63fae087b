"""Long Range Arena ListOps (Tay et al. 2021; after Nangia & Bowman 2018), generated with the published recipe
and without the two faults of the original pipeline.

Recipe (``lra_benchmarks/data/listops.py``): a tree is drawn top-down from depth 1; below ``max_depth`` a node
is an operator with probability 0.25 (``VALUE_P``), else a digit 0-9; an operator takes 2..``max_args``
arguments and is one of ``MAX``, ``MIN``, ``MED`` (the integer part of the median) and ``SM`` (sum mod 10).
Trees are redrawn until their length lies strictly between ``min_length`` and ``max_length`` (500 and
2,000 tokens, depth <= 10, <= 10 arguments), and repeated trees are dropped. The label is the value, 0-9.

The two faults, and what we do instead:

* The original counts 2 tokens per operator (``[MAX`` and ``]``) plus its arguments, but writes every operator
  as a left-nested binary tuple with a ``(`` ``)`` pair around each argument, so the text it stores has far
  more tokens than it counted and is cut off at the model's 2,000 positions. Here a sequence is exactly the
  tokens ``[MAX 2 9 [MIN 4 7 ] 0 ]``: the count used for the length filter is ``len(tokens)``.
* LRA's tokenizer drops ``[`` and ``]``, so the model sees ``MAX 2 9 MIN 4 7 0`` and cannot tell where a list
  ends; the task becomes ambiguous. We keep ``]`` as a token. ``brackets=False`` in :func:`encode_listops`
  reproduces the bracket-free input for comparison with the published numbers.
"""

from __future__ import annotations

import random
from typing import Any

__all__ = ["OPERATORS", "LISTOPS_VOCAB", "PAD", "generate_tree", "tree_tokens", "tree_value", "listops_examples",
           "encode_listops", "listops_splits"]

OPERATORS = ("[MAX", "[MIN", "[MED", "[SM")
END = "]"
LISTOPS_VOCAB = ("<pad>", *map(str, range(10)), *OPERATORS, END)  # pad = 0, digits 1-10, operators 11-14, ] = 15
PAD = 0
VALUE_P = 0.25
_ID = {t: i for i, t in enumerate(LISTOPS_VOCAB)}

Tree = Any  # an int (a leaf) or a list [operator, arg, arg, ...]


def generate_tree(rng: random.Random, depth: int = 1, max_depth: int = 10, max_args: int = 10) -> tuple[Tree, int]:
    """One random tree and its exact token count (operator + arguments + closing bracket)."""
    if depth < max_depth and rng.random() <= VALUE_P:
        op = rng.choice(OPERATORS)
        args, length = [], 2
        for _ in range(rng.randint(2, max_args)):
            sub, n = generate_tree(rng, depth + 1, max_depth, max_args)
            args.append(sub)
            length += n
        return [op, *args], length
    return rng.randrange(10), 1


def tree_tokens(tree: Tree) -> list[str]:
    """``[MAX 2 9 [MIN 4 7 ] 0 ]`` as a token list (brackets included)."""
    if isinstance(tree, int):
        return [str(tree)]
    out = [tree[0]]
    for arg in tree[1:]:
        out.extend(tree_tokens(arg))
    out.append(END)
    return out


def tree_value(tree: Tree) -> int:
    """The value of a tree: MAX, MIN, MED (integer part of the median, as ``int(np.median)``), SM (sum mod 10)."""
    if isinstance(tree, int):
        return tree
    vals = sorted(tree_value(a) for a in tree[1:])
    op = tree[0]
    if op == "[MAX":
        return vals[-1]
    if op == "[MIN":
        return vals[0]
    if op == "[SM":
        return sum(vals) % 10
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) // 2


def listops_examples(n: int, seed: int, *, min_length: int = 500, max_length: int = 2000, max_depth: int = 10,
                     max_args: int = 10, exclude: set[tuple[str, ...]] | None = None
                     ) -> list[tuple[tuple[str, ...], int]]:
    """``n`` distinct ``(tokens, label)`` pairs with ``min_length < len(tokens) < max_length``, none in
    ``exclude`` (a set of token tuples, also updated with the new ones)."""
    if n < 0 or not 0 <= min_length < max_length or max_depth < 1 or max_args < 2:
        raise ValueError(f"need n >= 0, 0 <= min_length < max_length, max_depth >= 1, max_args >= 2; got n={n}, "
                         f"min_length={min_length}, max_length={max_length}, max_depth={max_depth}, "
                         f"max_args={max_args}")
    rng = random.Random(seed)
    seen = exclude if exclude is not None else set()
    out: list[tuple[tuple[str, ...], int]] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 10_000 + 20_000 * n:
            raise RuntimeError(f"could not draw {n} trees with {min_length} < length < {max_length} "
                               f"(max_depth={max_depth}, max_args={max_args})")
        tree, length = generate_tree(rng, 1, max_depth, max_args)
        if not min_length < length < max_length:
            continue
        toks = tuple(tree_tokens(tree))
        if toks in seen:
            continue
        seen.add(toks)
        out.append((toks, tree_value(tree)))
    return out


def encode_listops(examples: list[tuple[tuple[str, ...], int]], brackets: bool = True, length: int | None = None):
    """Token ids ``(N, L)`` padded with 0 on the right, and labels ``(N,)``. ``brackets=False`` drops the
    ``]`` tokens (LRA's tokenizer's input). ``length``: pad / check to this many positions (default: the
    longest sequence); a longer sequence raises ValueError rather than being cut."""
    import torch

    seqs = [[_ID[t] for t in toks if brackets or t != END] for toks, _ in examples]
    longest = max((len(s) for s in seqs), default=0)
    L = longest if length is None else length
    if longest > L:
        raise ValueError(f"a sequence has {longest} tokens, more than length={L}")
    x = torch.zeros(len(seqs), L, dtype=torch.long)
    for i, s in enumerate(seqs):
        x[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    y = torch.tensor([lab for _, lab in examples], dtype=torch.long)
    return x, y


def listops_splits(sizes: dict[str, int], seed: int, **kw) -> dict[str, list[tuple[tuple[str, ...], int]]]:
    """Disjoint splits (no sequence in two of them), e.g. ``{"train": 96000, "val": 2000, "test": 2000}``
    as in LRA. ``kw`` goes to :func:`listops_examples`."""
    seen: set[tuple[str, ...]] = set()
    return {name: listops_examples(n, seed * 1000 + i, exclude=seen, **kw) for i, (name, n) in enumerate(sizes.items())}
