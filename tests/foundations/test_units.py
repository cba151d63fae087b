from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck

from deepcourse.foundations.units import LinearUnit, Maxout, NonlinearUnit, RadialUnit, linear_unit, radial_unit


def test_linear_unit_formula():
    x = torch.tensor([[1.0, 2.0, 3.0]])
    w = torch.tensor([[0.5, -1.0, 2.0]])
    b = torch.tensor([0.25])
    assert linear_unit(x, w, b).item() == pytest.approx(0.5 - 2.0 + 6.0 + 0.25)
    # x_0 = 1 reformulation: the bias is the weight of a constant input
    x1 = torch.cat([torch.ones(1, 1), x], 1)
    w1 = torch.cat([b[:, None], w], 1)
    torch.testing.assert_close(linear_unit(x1, w1), linear_unit(x, w, b))


def test_linear_layer_matches_nn_linear_and_gradcheck():
    torch.manual_seed(0)
    layer = LinearUnit(4, 3).double()
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(layer(x), F.linear(x, layer.weight, layer.bias))
    assert gradcheck(linear_unit, (x, layer.weight, layer.bias))


def test_radial_unit_formula_and_gradcheck():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    c = torch.tensor([[0.0, 0.0], [3.0, 0.0]])
    torch.testing.assert_close(radial_unit(x, c), torch.tensor([[5.0, 4.0], [0.0, 3.0]]))
    torch.testing.assert_close(radial_unit(x, c), torch.cdist(x, c))
    xd = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    cd = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert gradcheck(radial_unit, (xd, cd))
    # at the centre the gradient is defined (0), not NaN
    w = torch.zeros(1, 2, requires_grad=True)
    radial_unit(torch.zeros(1, 2), w).sum().backward()
    assert torch.isfinite(w.grad).all()


def test_radial_gaussian_kind():
    m = RadialUnit(2, 3, kind="gaussian", gamma=0.5)
    with torch.no_grad():
        m.weight.zero_()
    y = m(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    torch.testing.assert_close(y[0], torch.ones(3))
    torch.testing.assert_close(y[1], torch.full((3,), torch.exp(torch.tensor(-1.0)).item()))


def test_nonlinear_unit_is_sigma_of_linear():
    torch.manual_seed(0)
    u = NonlinearUnit(3, 2, activation="tanh")
    x = torch.randn(4, 3)
    torch.testing.assert_close(u(x), torch.tanh(F.linear(x, u.linear.weight, u.linear.bias)))


def test_maxout_formula_and_gradcheck():
    torch.manual_seed(0)
    m = Maxout(3, 2, pieces=4).double()
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    z = F.linear(x, m.linear.weight, m.linear.bias).view(6, 2, 4)
    torch.testing.assert_close(m(x), z.max(-1).values)
    assert gradcheck(m, (x,))
    # two pieces, one of them zero: Maxout realises ReLU(w^T x + b)
    r = Maxout(1, 1, pieces=2)
    with torch.no_grad():
        r.linear.weight.copy_(torch.tensor([[2.0], [0.0]]))
        r.linear.bias.zero_()
    t = torch.linspace(-2, 2, 9)[:, None]
    torch.testing.assert_close(r(t), torch.relu(2 * t))


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match="3 features.*\\(4, 5\\)"):
        LinearUnit(3, 2)(torch.randn(4, 5))
    with pytest.raises(ValueError, match="in_features"):
        LinearUnit(0, 2)
    with pytest.raises(ValueError, match="kind"):
        RadialUnit(2, kind="cosine")
    with pytest.raises(ValueError, match="pieces"):
        Maxout(2, 2, pieces=0)
    with pytest.raises(ValueError, match="unknown activation"):
        NonlinearUnit(2, 1, activation="sigmod")
    with pytest.raises(TypeError):
        LinearUnit(2)([1.0, 2.0])
