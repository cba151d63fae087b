"""Hopfield network (Hopfield 1982): a clique of binary threshold units as associative memory.

Storage is Hebbian, ``W = (1/N) sum_mu xi^mu xi^mu^T`` with a zero diagonal,
so ``W`` is symmetric.  The energy ``E(s) = -1/2 s^T W s`` (no thresholds)
never increases when one unit at a time sets ``s_i <- sign(sum_j W_ij s_j)``
(Hopfield 1982, eq. 7): the change is ``-|h_i| * |delta s_i| <= 0``.
Synchronous updates of all units carry no such guarantee and may cycle with
period 2.  For random patterns recall breaks down near ``P ~ 0.138 N``
(Amit, Gutfreund & Sompolinsky 1985).
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Hopfield", "flip_bits", "overlap"]


def _check_pm1(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if not np.all((x == 1) | (x == -1)):
        raise ValueError(f"{name} must contain only -1 and +1 values")
    return x.astype(np.float64)


class Hopfield:
    """Binary (+-1) Hopfield network with ``n`` units."""

    def __init__(self, n: int) -> None:
        if n < 2:
            raise ValueError(f"Hopfield: n must be >= 2, got {n}")
        self.n = int(n)
        self.W = np.zeros((n, n))

    def store(self, patterns: Any) -> Hopfield:
        """Hebbian storage of ``patterns`` (P, N) of +-1 (adds to what is stored already)."""
        xi = _check_pm1(np.atleast_2d(patterns), "patterns")
        if xi.shape[1] != self.n:
            raise ValueError(f"store: patterns have {xi.shape[1]} units, network has {self.n}")
        self.W += xi.T @ xi / self.n  # (N, N)
        np.fill_diagonal(self.W, 0.0)  # no self-connections: keeps the energy argument valid
        return self

    def energy(self, s: Any) -> float:
        s = np.asarray(s, dtype=np.float64)
        return float(-0.5 * s @ self.W @ s)

    def update_async(self, s: Any, rng: np.random.Generator, sweeps: int = 1, trace: bool = False) -> Any:
        """Asynchronous dynamics: units updated one at a time in random order; ``sweeps`` passes.

        A unit whose local field is exactly 0 keeps its state.  With ``trace=True`` also
        returns the energy after every single-unit update.
        """
        s = _check_pm1(s, "state").copy()
        energies = [self.energy(s)] if trace else None
        for _ in range(sweeps):
            changed = False
            for i in rng.permutation(self.n):
                h = self.W[i] @ s
                new = s[i] if h == 0 else (1.0 if h > 0 else -1.0)
                if new != s[i]:
                    s[i], changed = new, True
                if trace:
                    energies.append(self.energy(s))
            if not changed:
                break
        return (s, energies) if trace else s

    def update_sync(self, s: Any, steps: int = 1) -> np.ndarray:
        """Synchronous dynamics: every unit reads the old state at once (may oscillate)."""
        s = _check_pm1(s, "state").copy()
        for _ in range(steps):
            h = self.W @ s
            s = np.where(h > 0, 1.0, np.where(h < 0, -1.0, s))
        return s

    def recall(self, s: Any, rng: np.random.Generator, max_sweeps: int = 50) -> np.ndarray:
        """Run asynchronous sweeps until a fixed point (or ``max_sweeps``)."""
        return self.update_async(s, rng, sweeps=max_sweeps)

    def recall_batch(self, S: Any, max_steps: int = 30, rng: np.random.Generator | None = None) -> np.ndarray:
        """Vectorised recall of many states (M, N): in each step, half the units, chosen at random
        per state, update at once -- a fast stand-in for asynchronous dynamics in capacity sweeps.
        ``rng`` picks the units (default: a fixed seed, so a call is reproducible on its own)."""
        S = _check_pm1(S, "states").copy()
        rng = np.random.default_rng(0) if rng is None else rng
        for _ in range(max_steps):
            H = S @ self.W  # (M, N)
            new = np.where(H > 0, 1.0, np.where(H < 0, -1.0, S))
            mask = rng.random(S.shape) < 0.5
            nxt = np.where(mask, new, S)
            if np.array_equal(nxt, S) and np.array_equal(new, S):
                break
            S = nxt
        return S


def flip_bits(x: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Flip exactly ``round(fraction * N)`` randomly chosen +-1 entries of each row."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    x = np.array(x, dtype=np.float64, copy=True)
    rows = np.atleast_2d(x)
    k = int(round(fraction * rows.shape[1]))
    for r in rows:
        idx = rng.choice(rows.shape[1], size=k, replace=False)
        r[idx] *= -1
    return rows.reshape(x.shape)


def overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """m = (1/N) a . b per row: 1 for identical patterns, -1 for inverted ones."""
    return np.sum(np.atleast_2d(a) * np.atleast_2d(b), axis=-1) / np.shape(a)[-1]
