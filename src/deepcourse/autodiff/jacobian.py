"""Whole Jacobians, the forward/reverse mode choice, and Jacobian-chain ordering.

For ``f: R^n -> R^m`` forward mode needs ``n`` JVP passes and reverse mode ``m``
VJP passes, so forward wins when ``m > n`` (module 10 notes; Griewank &
Walther 2008, ch. 3).  More generally the chain rule gives
``dy/dx = J_h J_g J_f`` and the cheapest way to multiply that chain is the
matrix-chain-ordering problem, solved by dynamic programming (Cormen et al.,
"Introduction to Algorithms", sec. 15.2); forward mode is the right-to-left
order and reverse mode the left-to-right one (Naumann 2004, "Optimal
accumulation of Jacobian matrices by elimination methods on the dual
computational graph").
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .dual import _as_float, jacfwd
from .transforms import jacrev

__all__ = ["jacobian", "choose_mode", "matrix_chain_order", "chain_costs"]


def choose_mode(n_in: int, n_out: int) -> str:
    """"forward" when outputs outnumber inputs, else "reverse" (ties go to reverse)."""
    return "forward" if n_out > n_in else "reverse"


def jacobian(f: Callable, x: Any, mode: str = "auto") -> np.ndarray:
    """Jacobian of ``f`` at ``x`` (shape ``out_shape + in_shape``).

    ``mode="auto"`` evaluates ``f`` once on plain arrays to learn the output size
    and picks the mode with fewer passes; "forward"/"reverse" force one.
    """
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"jacobian: mode={mode!r}; allowed: 'auto', 'forward', 'reverse'")
    x = _as_float(x)
    if mode == "auto":
        mode = choose_mode(x.size, int(np.size(f(x))))
    return jacfwd(f)(x) if mode == "forward" else jacrev(f)(x)


def matrix_chain_order(dims: Sequence[int]) -> tuple[int, str]:
    """Cheapest parenthesisation of ``A_1 A_2 ... A_k`` where ``A_i`` is ``dims[i-1] x dims[i]``.

    Returns ``(multiplications, expression)``; multiplying ``p x q`` by ``q x r``
    costs ``p q r`` scalar multiplications.
    """
    dims = [int(d) for d in dims]
    k = len(dims) - 1
    if k < 1 or any(d < 1 for d in dims):
        raise ValueError(f"matrix_chain_order: dims must list >= 2 positive sizes, got {dims}")
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(2, k + 1):
        for i in range(k - length + 1):
            j = i + length - 1
            cost[i][j] = None
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def expr(i: int, j: int) -> str:
        if i == j:
            return f"A{i + 1}"
        return f"({expr(i, split[i][j])} {expr(split[i][j] + 1, j)})"
    return cost[0][k - 1], expr(0, k - 1)


def chain_costs(dims: Sequence[int], names: Sequence[str] | None = None) -> dict[str, Any]:
    """Multiplication counts for forward (right-to-left), reverse (left-to-right) and optimal order.

    ``dims = [|y|, |b|, |a|, |x|]`` describes the notes' chain
    ``dy/dx = dh/db (|y|x|b|) . dg/da (|b|x|a|) . df/dx (|a|x|x|)``.
    """
    dims = [int(d) for d in dims]
    k = len(dims) - 1
    # forward: (A1 (A2 (... A_k))) -- accumulate dims[i] x dims[-1] products from the right
    fwd = sum(dims[i] * dims[i + 1] * dims[k] for i in range(k - 1))
    # reverse: (((A1 A2) A3) ...) -- row block of height dims[0] moves right
    rev = sum(dims[0] * dims[i + 1] * dims[i + 2] for i in range(k - 1))
    best, expr = matrix_chain_order(dims)
    if names:
        for i, n in enumerate(names):
            expr = expr.replace(f"A{i + 1}", n)
    return {"forward": fwd, "reverse": rev, "optimal": best, "optimal_order": expr}
