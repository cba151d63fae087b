"""Every op: value, reverse-mode gradient (VJP) and forward-mode tangent (JVP) vs torch in float64."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepcourse.autodiff import Dual, Tensor, conv2d, jvp, max_pool2d, ops
from deepcourse.autodiff import tensor as T
from tests.helpers import assert_matches_reference

# torch.func warns (FutureWarning) about its own internal use of torch.jit.script on first use
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:FutureWarning")

RNG = np.random.default_rng(0)


def r(*shape, lo=-1.0, hi=1.0):
    return lambda: RNG.uniform(lo, hi, size=shape)


def away_from_zero(*shape):
    """Values with |x| in [0.2, 1.5]: keeps kinks (abs, relu, max) out of finite precision trouble."""
    return lambda: RNG.uniform(0.2, 1.5, size=shape) * RNG.choice([-1.0, 1.0], size=shape)


COND = RNG.uniform(size=(3, 4)) > 0.5
LABELS = np.array([2, 0, 3])

# name: (ours(*xs), torch(*xs), input makers, forward-mode too?)
CASES = {
    "add_broadcast": (lambda x, y: x + y, lambda x, y: x + y, [r(3, 4), r(4)], True),
    "sub_broadcast": (lambda x, y: x - y, lambda x, y: x - y, [r(3, 1), r(1, 4)], True),
    "mul_broadcast": (lambda x, y: x * y, lambda x, y: x * y, [r(2, 3, 4), r(3, 1)], True),
    "div": (lambda x, y: x / y, lambda x, y: x / y, [r(3, 4), r(3, 4, lo=0.5, hi=2.0)], True),
    "rdiv_scalar": (lambda x: 2.0 / x, lambda x: 2.0 / x, [r(5, lo=0.5, hi=2.0)], True),
    "rsub_scalar": (lambda x: 1.5 - x * 3.0, lambda x: 1.5 - x * 3.0, [r(5)], True),
    "pow_const": (lambda x: x**2.5, lambda x: x**2.5, [r(5, lo=0.3, hi=2.0)], True),
    "pow_tensor": (lambda x, y: x**y, lambda x, y: x**y, [r(5, lo=0.3, hi=2.0), r(5)], True),
    "rpow": (lambda x: 2.0**x, lambda x: 2.0**x, [r(5)], True),
    "neg": (lambda x: -x, lambda x: -x, [r(5)], True),
    "abs": (lambda x: abs(x), torch.abs, [away_from_zero(6)], True),
    "exp": (ops.exp, torch.exp, [r(3, 2)], True),
    "log": (ops.log, torch.log, [r(3, 2, lo=0.2, hi=3.0)], True),
    "sin": (ops.sin, torch.sin, [r(7, lo=-3, hi=3)], True),
    "cos": (ops.cos, torch.cos, [r(7, lo=-3, hi=3)], True),
    "tan": (ops.tan, torch.tan, [r(7)], True),
    "tanh": (ops.tanh, torch.tanh, [r(7, lo=-3, hi=3)], True),
    "sigmoid": (ops.sigmoid, torch.sigmoid, [r(7, lo=-5, hi=5)], True),
    "sqrt": (ops.sqrt, torch.sqrt, [r(7, lo=0.1, hi=4)], True),
    "relu": (ops.relu, torch.relu, [away_from_zero(3, 4)], True),
    "leaky_relu": (lambda x: ops.leaky_relu(x, 0.1), lambda x: F.leaky_relu(x, 0.1), [away_from_zero(8)], True),
    "maximum": (ops.maximum, torch.maximum, [r(3, 4), r(4)], True),
    "minimum": (ops.minimum, torch.minimum, [r(3, 4), r(3, 1)], True),
    "where": (lambda x, y: ops.where(COND, x, y), lambda x, y: torch.where(torch.tensor(COND), x, y),
              [r(3, 4), r(3, 4)], True),
    "sum_all": (lambda x: ops.sum(x), torch.sum, [r(3, 4)], True),
    "sum_axis0": (lambda x: ops.sum(x, axis=0), lambda x: x.sum(0), [r(3, 4)], True),
    "sum_axes_keepdims": (lambda x: ops.sum(x, axis=(0, 2), keepdims=True),
                          lambda x: x.sum((0, 2), keepdim=True), [r(2, 3, 4)], True),
    "mean_axis1": (lambda x: ops.mean(x, axis=1), lambda x: x.mean(1), [r(3, 4)], True),
    "mean_all": (lambda x: ops.mean(x), torch.mean, [r(3, 4)], True),
    "max_axis1": (lambda x: ops.max(x, axis=1), lambda x: x.max(1).values, [r(3, 5)], True),
    "max_axis0_keepdims": (lambda x: ops.max(x, axis=0, keepdims=True), lambda x: x.max(0, keepdim=True).values,
                           [r(3, 5)], True),
    "matmul_2d": (lambda a, b: a @ b, lambda a, b: a @ b, [r(3, 4), r(4, 5)], True),
    "matmul_batch_of_one": (lambda a, b: a @ b, lambda a, b: a @ b, [r(1, 4), r(4, 5)], True),
    "matmul_vec_mat": (lambda a, b: a @ b, lambda a, b: a @ b, [r(4), r(4, 5)], True),
    "matmul_mat_vec": (lambda a, b: a @ b, lambda a, b: a @ b, [r(3, 4), r(4)], True),
    "matmul_vec_vec": (lambda a, b: a @ b, lambda a, b: a @ b, [r(4), r(4)], True),
    "matmul_batched_broadcast": (lambda a, b: a @ b, lambda a, b: a @ b, [r(2, 3, 4), r(4, 5)], True),
    "matmul_batched": (lambda a, b: a @ b, lambda a, b: a @ b, [r(2, 3, 4), r(2, 4, 5)], True),
    "dot": (ops.dot, torch.matmul, [r(3, 4), r(4, 2)], True),
    "reshape": (lambda x: x.reshape(4, 3) * 1.0, lambda x: x.reshape(4, 3), [r(3, 4)], True),
    "transpose": (lambda x: x.transpose(2, 0, 1), lambda x: x.permute(2, 0, 1), [r(2, 3, 4)], True),
    "T": (lambda x: x.T, lambda x: x.T, [r(3, 4)], True),
    "index_basic": (lambda x: x[1:, ::2], lambda x: x[1:, ::2], [r(3, 4)], True),
    "index_repeat": (lambda x: x[[0, 2, 0]], lambda x: x[[0, 2, 0]], [r(3, 4)], True),
    "index_pairs": (lambda x: x[np.arange(3), LABELS], lambda x: x[torch.arange(3), torch.tensor(LABELS)],
                    [r(3, 4)], True),
    "concatenate": (lambda x, y: ops.concatenate([x, y], axis=1), lambda x, y: torch.cat([x, y], 1),
                    [r(3, 2), r(3, 4)], True),
    "softmax": (lambda x: ops.softmax(x, axis=-1), lambda x: torch.softmax(x, -1), [r(3, 5, lo=-3, hi=3)], True),
    "softmax_axis0": (lambda x: ops.softmax(x, axis=0), lambda x: torch.softmax(x, 0), [r(3, 5)], True),
    "log_softmax": (lambda x: ops.log_softmax(x), lambda x: torch.log_softmax(x, -1), [r(3, 5, lo=-3, hi=3)], True),
    "logsumexp": (lambda x: ops.logsumexp(x, axis=1), lambda x: torch.logsumexp(x, 1), [r(3, 5)], True),
    "logsumexp_keepdims": (lambda x: ops.logsumexp(x, axis=0, keepdims=True),
                           lambda x: torch.logsumexp(x, 0, keepdim=True), [r(3, 5)], True),
    "conv2d": (lambda x, w, b: conv2d(x, w, b, stride=2, padding=1),
               lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [r(2, 3, 7, 6), r(4, 3, 3, 2), r(4)], False),
    "conv2d_nobias": (lambda x, w: conv2d(x, w), lambda x, w: F.conv2d(x, w), [r(1, 2, 5, 5), r(3, 2, 3, 3)], False),
    "max_pool2d": (lambda x: max_pool2d(x, 2), lambda x: F.max_pool2d(x, 2), [r(2, 3, 6, 4)], False),
    "max_pool2d_stride1": (lambda x: max_pool2d(x, (2, 3), stride=1), lambda x: F.max_pool2d(x, (2, 3), stride=1),
                           [r(1, 2, 4, 5)], False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reverse_matches_torch(name):
    ours, theirs, makers, _ = CASES[name]
    assert_matches_reference(ours, theirs, [m() for m in makers], ours_on="autodiff", rtol=1e-10, atol=1e-12,
                             err_msg=name)


@pytest.mark.parametrize("name", sorted(k for k, v in CASES.items() if v[3]))
def test_forward_matches_torch(name):
    ours, theirs, makers, _ = CASES[name]
    xs = [m() for m in makers]
    vs = [RNG.normal(size=x.shape) for x in xs]
    y, dy = jvp(ours, tuple(xs), tuple(vs))
    ty, tdy = torch.func.jvp(theirs, tuple(torch.tensor(x) for x in xs), tuple(torch.tensor(v) for v in vs))
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dy, tdy.numpy(), rtol=1e-10, atol=1e-12)


def test_float32_stays_float32():
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    y = ((x * 2.0 + 1.0) / 3.0).relu().sigmoid().sum()
    y.backward()
    assert y.data.dtype == np.float32 and x.grad.dtype == np.float32


def test_dual_numbers_algebra():
    d = Dual(3.0, 1.0)
    assert (d * d).tangent == 6.0  # eps^2 = 0
    assert (1 / d).tangent == pytest.approx(-1 / 9)
    assert np.exp(Dual(0.0, 2.0)).tangent == 2.0


def test_unsupported_ufunc_is_a_clear_error():
    with pytest.raises(TypeError, match="no forward-mode rule"):
        np.arctan2(Dual(1.0, 1.0), 2.0)
    with pytest.raises(TypeError, match="not differentiable"):
        np.arctan2(Tensor(1.0), 2.0)


def test_grad_accumulates_and_no_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * 2 * np.array([1.0, 2.0]))
    x.zero_grad()
    assert x.grad is None
    with T.no_grad():
        y = (x * 3.0).sum()
    assert not y.requires_grad and y._parents == ()


def test_shared_subexpression_gets_summed_gradient():
    x = Tensor(np.array(1.5), requires_grad=True)
    a = x * x
    y = a * a + a  # y = x^4 + x^2
    y.backward()
    assert x.grad == pytest.approx(4 * 1.5**3 + 2 * 1.5)


def test_nonscalar_backward_without_seed_is_an_error():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="needs seed"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match="seed has shape"):
        (x * 2.0).backward(np.ones(4))
