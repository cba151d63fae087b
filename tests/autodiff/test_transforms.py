"""grad / vjp / jacrev / jacfwd / hvp / hessian / jacobian against torch.func and torch.autograd.functional."""
from __future__ import annotations

import types

import numpy as np
import pytest
import torch

import deepcourse.autodiff as ad
from deepcourse.autodiff import ops
from deepcourse.autodiff.jacobian import chain_costs, choose_mode, matrix_chain_order

# torch.func warns (FutureWarning) about its own internal use of torch.jit.script on first use
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:FutureWarning")

RNG = np.random.default_rng(1)
W = RNG.normal(size=(4, 5))


class TorchOps:
    """The subset of ``deepcourse.autodiff.ops`` the test functions use, on torch."""

    tanh, sigmoid, exp, log, sin, cos, sqrt, relu = (torch.tanh, torch.sigmoid, torch.exp, torch.log, torch.sin,
                                                     torch.cos, torch.sqrt, torch.relu)
    maximum, where = torch.maximum, torch.where

    @staticmethod
    def softmax(x, axis=-1):
        return torch.softmax(x, axis)

    @staticmethod
    def log_softmax(x, axis=-1):
        return torch.log_softmax(x, axis)

    @staticmethod
    def logsumexp(x, axis=-1, keepdims=False):
        return torch.logsumexp(x, axis, keepdim=keepdims)

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return x.sum() if axis is None else x.sum(axis, keepdim=keepdims)

    @staticmethod
    def mean(x, axis=None, keepdims=False):
        return x.mean() if axis is None else x.mean(axis, keepdim=keepdims)

    @staticmethod
    def max(x, axis=None, keepdims=False):
        return x.max() if axis is None else x.max(axis, keepdim=keepdims).values

    @staticmethod
    def concatenate(xs, axis=0):
        return torch.cat(list(xs), axis)

    @staticmethod
    def const(a):
        return torch.tensor(a)


# our namespace: the ops module plus const(a) = a (plain arrays are constants on our side)
OurOps = types.SimpleNamespace(**{k: getattr(ops, k) for k in ops.__all__}, const=lambda a: a)


def scalar_fn(M):
    """A scalar function of a 5-vector touching most ops (twice differentiable away from kinks)."""
    def f(x):
        h = M.tanh(M.const(W) @ x)  # (4,)
        p = M.softmax(x)
        z = M.concatenate([h, p * x], axis=0)  # (9,)
        s = M.sum(z**2) + M.logsumexp(x, axis=0) + M.mean(M.sigmoid(x) * M.exp(0.3 * x))
        s = s + M.sum(M.log(1.5 + M.sin(x))) / (2.0 + M.sum(x * x)) + M.max(M.cos(x) * x, axis=0)
        return s + M.sum(M.log_softmax(x)[1:3] * x[[0, 4]]) + M.sum(M.sqrt(1.0 + x * x))
    return f


def torch_f(x):
    return scalar_fn(TorchOps)(x)


ours_f = scalar_fn(OurOps)


def test_grad_and_value_and_grad():
    x = RNG.normal(size=5)
    v, g = ad.value_and_grad(ours_f)(x)
    tx = torch.tensor(x, requires_grad=True)
    tv = torch_f(tx)
    (tg,) = torch.autograd.grad(tv, tx)
    assert float(v) == pytest.approx(tv.item(), rel=1e-12)
    np.testing.assert_allclose(g, tg.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.grad(ours_f)(x), g)


def test_grad_argnums_tuple():
    f = lambda a, b: ops.sum(a * ops.sin(b))  # noqa: E731
    a, b = RNG.normal(size=3), RNG.normal(size=3)
    ga, gb = ad.grad(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga, np.sin(b))
    np.testing.assert_allclose(gb, a * np.cos(b))
    with pytest.raises(ValueError, match="scalar"):
        ad.grad(lambda a: a * 2.0)(a)
    with pytest.raises(ValueError, match="argnums"):
        ad.grad(f, argnums=3)(a, b)


def vec_fn(M):
    def f(x):  # R^4 -> R^3
        return M.tanh(M.const(W[:3, :4]) @ x) * M.sum(x**2) + M.softmax(x)[:3]
    return f


def test_jacrev_jacfwd_vjp_match_torch():
    x = RNG.normal(size=4)
    tj = torch.func.jacrev(vec_fn(TorchOps))(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ad.jacrev(vec_fn(OurOps))(x), tj, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.jacfwd(vec_fn(OurOps))(x), tj, rtol=1e-10, atol=1e-12)
    for mode in ("auto", "forward", "reverse"):
        np.testing.assert_allclose(ad.jacobian(vec_fn(OurOps), x, mode=mode), tj, rtol=1e-10, atol=1e-12)
    y, pull = ad.vjp(vec_fn(OurOps), x)
    u = RNG.normal(size=3)
    np.testing.assert_allclose(pull(u)[0], u @ tj, rtol=1e-10)
    np.testing.assert_allclose(pull(u)[0], u @ tj, rtol=1e-10)  # the recorded graph can be swept again
    with pytest.raises(ValueError, match="mode"):
        ad.jacobian(vec_fn(OurOps), x, mode="sideways")


def test_jacobian_matrix_input_shape():
    x = RNG.normal(size=(2, 3))
    f = lambda a: ops.sum(ops.tanh(a), axis=0)  # noqa: E731
    tj = torch.func.jacrev(lambda a: torch.tanh(a).sum(0))(torch.tensor(x)).numpy()
    assert ad.jacrev(f)(x).shape == (3, 2, 3)
    np.testing.assert_allclose(ad.jacrev(f)(x), tj, rtol=1e-12)
    np.testing.assert_allclose(ad.jacfwd(f)(x), tj, rtol=1e-12)


def test_mode_choice():
    assert choose_mode(n_in=3, n_out=100) == "forward"
    assert choose_mode(n_in=100, n_out=1) == "reverse"


def test_derivative():
    d = ad.derivative(lambda x: np.sin(x) * x)
    assert d(0.7) == pytest.approx(np.cos(0.7) * 0.7 + np.sin(0.7))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hvp_matches_torch(seed):
    rng = np.random.default_rng(seed)
    x, v = rng.normal(size=5), rng.normal(size=5)
    ours = ad.hvp(ours_f, x, v)
    _, theirs = torch.autograd.functional.hvp(torch_f, torch.tensor(x), torch.tensor(v))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-11)


def test_hessian_matches_torch():
    x = RNG.normal(size=5)
    ours = ad.hessian(ours_f)(x)
    theirs = torch.autograd.functional.hessian(torch_f, torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ours, ours.T, atol=1e-12)


def test_matrix_chain_ordering_notes_example():
    # dy/dx = dh/db (|y| x |b|) . dg/da (|b| x |a|) . df/dx (|a| x |x|)
    y, b, a, x = 10, 300, 20, 1000
    costs = chain_costs([y, b, a, x], names=["dh/db", "dg/da", "df/dx"])
    assert costs["forward"] == b * a * x + y * b * x  # right to left
    assert costs["reverse"] == y * b * a + y * a * x  # left to right
    assert costs["optimal"] == min(costs["forward"], costs["reverse"]) == costs["reverse"]
    assert costs["optimal_order"] == "((dh/db dg/da) df/dx)"
    # the classic CLRS instance: 30x35, 35x15, 15x5, 5x10, 10x20, 20x25 -> 15125
    assert matrix_chain_order([30, 35, 15, 5, 10, 20, 25]) == (15125, "((A1 (A2 A3)) ((A4 A5) A6))")
    with pytest.raises(ValueError):
        matrix_chain_order([5])


def test_hvp_on_conv_is_a_clear_error():
    w = RNG.normal(size=(2, 1, 3, 3))
    with pytest.raises(TypeError, match="forward-over-reverse"):
        ad.hvp(lambda x: ad.conv2d(x, w).sum(), RNG.normal(size=(1, 1, 5, 5)), RNG.normal(size=(1, 1, 5, 5)))


# ---- zero-size inputs (issue 12, section 7) ----------------------------------------------------------
@pytest.mark.parametrize("shape", [(0,), (0, 3)])
def test_jacobians_of_zero_size_input(shape):
    x = np.zeros(shape)
    f = lambda a: ops.sum(a * 2.0, axis=0) + 1.0  # noqa: E731  - output (3,) or (), input empty
    out_shape = np.shape(np.sum(x, axis=0))
    for jac in (ad.jacfwd(f)(x), ad.jacrev(f)(x), *(ad.jacobian(f, x, mode=m) for m in ("auto", "forward", "reverse"))):
        assert jac.shape == out_shape + shape
    assert ad.hessian(lambda a: ops.sum(a * a))(x).shape == shape + shape
    assert ad.jacfwd(lambda a: a * 2.0)(x).shape == shape + shape
