"""Straight-line functions for the source-to-source transformation (``source.show``)."""
from __future__ import annotations

from numpy import log, tanh  # absolute imports only: `show FILE:FUNC` loads this file by path


def sigmoid(x):
    """Logistic function (a primitive of the transformation; this body is only used when run directly)."""
    return 0.5 * (1.0 + tanh(0.5 * x))


def notes_example(x, y):
    """The module 10 worked example (after Tom Ellis's blog post); v = 490 x^3 + 3 / y."""
    p = 7 * x
    r = 1 / y
    q = p * x * 5
    v = 2 * p * q + 3 * r
    return v


def square(a):
    return a * a


def loop_example(x, w):
    """A loop over a constant range (unrolled) and a call to another transformable function."""
    h = x
    for _ in range(3):
        h = tanh(w * h + 0.5)
    return square(h) + sigmoid(x) * log(1 + w * w)
