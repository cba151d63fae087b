"""Pieces of rnn-gradient-flow: the Fibonacci eigen-decomposition, gradient norms under orthogonal and Gaussian
recurrent matrices, the adding problem and the clip-by-value callback."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepcourse.rnn.experiments.rnn_gradient_flow import (adding_problem, fibonacci, gradient_norms,
                                                          recurrent_matrix)


class _Run:
    def generator(self, tag):
        return torch.Generator().manual_seed(len(tag))


def test_fibonacci_matches_the_notes():
    rows, m = fibonacci()
    assert m["fib_lambda_max"] == pytest.approx((1 + 5 ** 0.5) / 2)
    assert m["fib_lambda10_max"] == pytest.approx(122.9919, abs=1e-4)
    assert m["fib_eig_rel_err"] < 1e-12
    assert rows[4]["Fⁿ (F(n-1), F(n), F(n+1))"] == "3, 5, 8"


def test_orthogonal_keeps_the_linear_gradient_norm():
    torch.manual_seed(0)
    q = recurrent_matrix("orthogonal", 1.0, 32)
    norms = gradient_norms(q, 50, "linear", _Run(), "a")
    assert np.allclose(norms, norms[0], rtol=1e-10)
    small = gradient_norms(recurrent_matrix("gaussian", 0.5, 32), 50, "linear", _Run(), "a")
    assert small[0] < 1e-6 * small[-1]  # vanishes going back in time
    tanh = gradient_norms(q, 20, "tanh", _Run(), "b", input_scale=0.1)
    assert tanh.shape == (21,) and (tanh[:-1] <= tanh[1:] * 1.0001).all()  # tanh' <= 1 only shrinks it


def test_adding_problem_targets():
    x, y = adding_problem(5, 10, torch.Generator().manual_seed(0))
    assert x.shape == (5, 10, 2) and (x[..., 1].sum(1) == 2).all()
    assert torch.allclose(y[:, 0], (x[..., 0] * x[..., 1]).sum(1))
