"""The two partial derivatives of ``a ** b``, shared by forward mode (``Dual``) and reverse mode (``Tensor``).

    d(a^b)/da = b a^(b-1)        d(a^b)/db = a^b ln a

Read literally, both formulas give ``0 * inf`` or ``0 * ln 0 = nan`` at points where the derivative
exists, so we follow torch's conventions (``pow_backward_self`` / ``pow_backward_exponent`` in
torch/csrc/autograd/FunctionsManual.cpp):

* ``d/da`` is exactly 0 where ``b == 0``: ``a^0 = 1`` is constant, also at ``a = 0``
  (the formula gives ``0 * 0^-1 = nan``);
* ``d/db`` is exactly 0 where ``a == 0`` and ``b >= 0`` (``0^b = 0`` for ``b > 0``, and ``0^0 = 1``);
* a negative base keeps ``d/db = nan`` (``ln a`` is not real), as in torch.

Python scalars stay Python scalars so that float32 arrays stay float32 (NumPy 2 promotes
against a float64 0-d array, never against a Python float).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["d_base", "d_exponent"]


def primal(x: Any) -> Any:
    """The value part of a dual number (``dual.primal``, repeated: ``dual`` imports this module)."""
    return getattr(x, "primal", x)


def d_base(a: Any, b: Any) -> Any:
    """``b a^(b-1)``, and exactly 0 where ``b == 0``."""
    if isinstance(b, (int, float)):  # a constant exponent, the common case
        return np.zeros_like(primal(a)) if b == 0 else b * a ** (b - 1)
    zero = np.equal(primal(b), 0)
    if not np.any(zero):
        return b * a ** (b - 1)
    safe = np.where(zero, 1.0, a)  # keeps 0^-1 (a warning and an inf) out of the masked entries
    return np.where(zero, 0.0, b * safe ** (b - 1))


def _log(a: Any) -> Any:
    if isinstance(a, (int, float)):
        return math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan)
    with np.errstate(divide="ignore", invalid="ignore"):  # ln 0 = -inf is masked below; ln(<0) = nan is the answer
        return np.log(a)


def d_exponent(a: Any, b: Any, y: Any) -> Any:
    """``a^b ln a`` (``y = a^b`` already computed), and exactly 0 where ``a == 0`` and ``b >= 0``."""
    zero = np.logical_and(np.equal(primal(a), 0), np.greater_equal(primal(b), 0))
    if not np.any(zero):
        return y * _log(a)
    safe = 1.0 if isinstance(a, (int, float)) else np.where(zero, 1.0, a)
    return np.where(zero, 0.0, y * _log(safe))
