"""Regression tests for the reverse-mode ``Tensor`` (issue 12, section 7), checked against torch in float64."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deepcourse.autodiff as ad
from deepcourse.autodiff import Tensor, ops
from tests.helpers import assert_matches_reference

# torch.func warns (FutureWarning) about its own internal use of torch.jit.script on first use
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:FutureWarning")


# ---- transpose with negative axes: the backward pass must invert the normalised permutation ----
def test_transpose_negative_axes_gradient_matches_torch():
    W = np.arange(6.0).reshape(3, 2)
    g = ad.grad(lambda u: ops.sum(ops.transpose(u.reshape(2, 3), (-1, 0)) * W))(np.linspace(0.1, 0.6, 6))
    np.testing.assert_allclose(g, [0, 2, 4, 1, 3, 5])  # torch's value; it was [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("ours, ref, shape", [
    (lambda x: x.transpose(0, -1), lambda x: x.permute(0, -1), (2, 3)),
    (lambda x: x.transpose(-1, 0), lambda x: x.permute(-1, 0), (2, 3)),
    (lambda x: x.transpose(-1, -3, 1), lambda x: x.permute(-1, -3, 1), (2, 3, 4)),
    (lambda x: np.transpose(x, (2, -2, 0)), lambda x: x.permute(2, -2, 0), (2, 3, 4)),
])
def test_transpose_negative_axes_match_torch(ours, ref, shape):
    x = np.random.default_rng(0).normal(size=shape)
    assert_matches_reference(ours, ref, [x], ours_on="autodiff", rtol=1e-12, atol=1e-12)


# ---- zero-size inputs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_mean_of_zero_size_input_is_numpy_like(axis):
    x = np.zeros((0, 3))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy: "Mean of empty slice"
        expected = np.mean(x, axis=axis)
    t = Tensor(x, requires_grad=True)
    y = t.mean(axis=axis)
    np.testing.assert_array_equal(y.data, expected)  # nan where nothing is averaged, empty along axis 1
    if y.size:
        y.sum().backward()
        assert t.grad.shape == (0, 3)


# ---- where with a tensor condition ----------------------------------------------------------------------
def test_where_with_tensor_condition():
    cond = np.array([[True, False, True], [False, False, True]])
    x, y = np.random.default_rng(1).normal(size=(2, 2, 3))
    assert_matches_reference(lambda c, a, b: ad.where(Tensor(c), a, b), lambda c, a, b: torch.where(c, a, b),
                             [cond, x, y], ours_on="autodiff", rtol=1e-12, atol=1e-12)
    # a float tensor as condition: non-zero counts as true, as in np.where
    g = ad.grad(lambda a: ops.sum(ops.where(Tensor(np.array([0.5, 0.0])), a, 2.0 * a)))(np.ones(2))
    np.testing.assert_array_equal(g, [1.0, 2.0])


# ---- float32 graphs stay float32 ---------------------------------------------------------------------------
F32_CASES = {
    "rdiv": lambda t: 1.0 / t,
    "rpow": lambda t: 2.0 ** t,
    "maximum_const": lambda t: ad.maximum(t, 0.5),
    "minimum_const_first": lambda t: ad.minimum(0.5, t),
    "where_const": lambda t: ad.where(np.array([True, False, True]), t, 0.0),
    "leaky_relu": lambda t: t.leaky_relu(0.1),
    "div_const": lambda t: t / 3.0,
    "pow_const": lambda t: t ** 0,
    "ops_maximum": lambda t: ops.maximum(t, 0.5),
    "ops_where": lambda t: ops.where(np.array([True, False, True]), 0.0, t),
}


@pytest.mark.parametrize("name", sorted(F32_CASES))
def test_float32_graph_stays_float32(name):
    t = Tensor(np.array([0.3, -0.7, 1.2], dtype=np.float32), requires_grad=True)
    y = F32_CASES[name](t)
    assert y.dtype == np.float32, f"forward value became {y.dtype}"
    y.backward(np.ones(y.shape, dtype=np.float32))
    assert t.grad.dtype == np.float32, f"gradient became {t.grad.dtype}"


@pytest.mark.parametrize("fn", [lambda a: 2.0 ** a, lambda a: np.maximum(a, 0.5), lambda a: np.minimum(0.5, a),
                                lambda a: np.where(a > 0, a, 0.0)])
def test_float32_forward_tangent_stays_float32(fn):
    a = np.array([0.3, -0.7, 1.2], dtype=np.float32)
    y, dy = ad.jvp(fn, a, np.ones(3, dtype=np.float32))
    assert y.dtype == np.float32 and dy.dtype == np.float32, (y.dtype, dy.dtype)


# ---- smaller ones -----------------------------------------------------------------------------------------
def test_item_on_multi_element_tensor_raises():
    assert Tensor(np.array([2.5])).item() == 2.5
    assert Tensor(np.array(1.5)).item() == 1.5
    with pytest.raises(ValueError, match="one-element"):
        Tensor(np.ones(3)).item()


def test_divide_by_zero_gives_inf_as_numpy():
    x = np.array([1.0, -2.0, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = x / 0.0
        y = Tensor(x) / 0.0
        yt = Tensor(x) / Tensor(np.zeros(3))
    np.testing.assert_array_equal(y.data, expected)  # [inf, -inf, nan]
    np.testing.assert_array_equal(yt.data, expected)


@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_axis_none(keepdims):
    x = np.random.default_rng(2).normal(size=(3, 4))
    assert_matches_reference(lambda t: t.logsumexp(axis=None, keepdims=keepdims),
                             lambda t: torch.logsumexp(t.reshape(-1), 0).reshape((1, 1) if keepdims else ()),
                             [x], ours_on="autodiff", rtol=1e-12, atol=1e-12)
    # the array, dual and tensor versions agree
    np.testing.assert_allclose(ops.logsumexp(x, axis=None), ops.logsumexp(Tensor(x), axis=None).data, rtol=1e-14)


def test_leaky_relu_gradient_matches_torch():
    x = np.array([-1.5, -0.2, 0.3, 2.0])
    assert_matches_reference(lambda t: t.leaky_relu(0.1), lambda t: F.leaky_relu(t, 0.1), [x], ours_on="autodiff",
                             rtol=1e-12, atol=1e-12)
