"""The derivatives of ``a ** b`` at the awkward points (issue 12, section 7), against torch in float64."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import deepcourse.autodiff as ad
from deepcourse.autodiff import source
from tests.helpers import assert_matches_reference

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:FutureWarning")


def f64(*v):
    return torch.tensor(v[0] if len(v) == 1 else v, dtype=torch.float64)


def test_forward_mode_negative_base_along_the_base():
    # (a, b) = (-2, 2) with tangent (1, 0): d/da a^b = b a^(b-1) = -4. The b-direction is not
    # taken, so ln(-2) = nan must not leak in (it did: the tangent was nan).
    y, dy = ad.jvp(lambda a, b: a**b, (np.array(-2.0), np.array(2.0)), (np.array(1.0), np.array(0.0)))
    _, t_dy = torch.func.jvp(lambda a: a ** f64(2.0), (f64(-2.0),), (f64(1.0),))
    assert float(y) == 4.0 and float(dy) == float(t_dy) == -4.0


def test_derivative_of_x_pow_0_at_0():
    assert ad.grad(lambda x: x**0)(0.0) == 0.0  # was nan (0 * 0^-1)
    assert ad.derivative(lambda x: x**0)(0.0) == 0.0
    x = torch.zeros((), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.grad(x**0, x)[0].item() == 0.0


@pytest.mark.parametrize("a, b", [(0.0, 2.0), (0.0, 0.0), (0.0, 0.5), (0.0, -1.0), (2.0, 0.0), (-2.0, 2.0),
                                  (1.5, -0.5)])
def test_pow_tensor_tensor_matches_torch(a, b):
    """Values and both partials, reverse mode, at zero bases, zero exponents and a negative base."""
    with np.errstate(all="ignore"):
        assert_matches_reference(lambda x, y: x**y, lambda x, y: x**y, [np.array([a]), np.array([b])],
                                 ours_on="autodiff", rtol=1e-12, atol=0)


def test_d_exponent_at_zero_base():
    g = ad.grad(lambda a, b: a**b, argnums=1)(0.0, 2.0)
    b = f64(2.0).requires_grad_()
    assert g == 0.0 == torch.autograd.grad(f64(0.0) ** b, b)[0].item()  # was nan (0 * ln 0)
    assert ad.grad(lambda b: 0.0**b)(2.0) == 0.0  # a constant zero base (Tensor.__rpow__)
    _, t = ad.jvp(lambda b: 0.0**b, np.array(2.0), np.array(1.0))
    assert float(t) == 0.0


def test_hvp_through_pow_at_zero_exponent():
    # forward-over-reverse goes through the same rules with dual numbers inside the tensor
    np.testing.assert_allclose(ad.hvp(lambda x: (x**0 + x**2).sum(), np.zeros(2), np.ones(2)), [2.0, 2.0])


def test_source_mode_pow_0_at_0():
    c = source.transform("def f(x):\n    return x ** 0 + x\n")  # raised ZeroDivisionError at x = 0
    assert c(0.0) == 1.0
    assert c.grad(0.0) == (1.0,)
    assert c.jvp((0.0,), (1.0,))[1] == 1.0
    np.testing.assert_allclose(c.grad(np.array([0.0, 2.0]))[0], [1.0, 1.0])
