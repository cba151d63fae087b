from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck

from deepcourse.foundations import activations as A


def x64(*shape, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).requires_grad_()


# (our function, torch reference)
PAIRS = {
    "sigmoid": (A.sigmoid, torch.sigmoid),
    "tanh": (A.tanh, torch.tanh),
    "relu": (A.relu, torch.relu),
    "leaky_relu": (lambda x: A.leaky_relu(x, 0.1), lambda x: F.leaky_relu(x, 0.1)),
    "elu": (lambda x: A.elu(x, 1.3), lambda x: F.elu(x, 1.3)),
    "swish": (lambda x: A.swish(x, 1.7), lambda x: x * torch.sigmoid(1.7 * x)),
    "silu": (A.silu, F.silu),
    "mish": (A.mish, F.mish),
    "relu6": (A.relu6, F.relu6),
    "softplus": (lambda x: A.softplus(x, 2.0), lambda x: F.softplus(x, beta=2.0)),
    "softmax": (lambda x: A.softmax(x, -1), lambda x: torch.softmax(x, -1)),
    "log_softmax": (lambda x: A.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0)),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_matches_torch_and_gradcheck(name):
    ours, ref = PAIRS[name]
    x = x64(5, 7)
    torch.testing.assert_close(ours(x), ref(x))
    # kinks (relu, relu6, leaky) are at 0/6: random points are almost surely away from them
    assert gradcheck(ours, (x,), eps=1e-6, atol=1e-5)


def test_known_values():
    assert A.sigmoid(torch.tensor(0.0)).item() == 0.5
    assert A.sigmoid(torch.tensor(math.log(3.0))).item() == pytest.approx(0.75)
    assert A.tanh(torch.tensor(0.0)).item() == 0.0
    assert A.relu(torch.tensor([-2.0, 3.0])).tolist() == [0.0, 3.0]
    assert A.leaky_relu(torch.tensor([-2.0, 3.0]), 0.1).tolist() == pytest.approx([-0.2, 3.0])
    assert A.elu(torch.tensor(-1.0)).item() == pytest.approx(math.exp(-1) - 1)
    assert A.relu6(torch.tensor([-1.0, 3.0, 9.0])).tolist() == [0.0, 3.0, 6.0]
    assert A.softplus(torch.tensor(0.0)).item() == pytest.approx(math.log(2))
    assert A.mish(torch.tensor(1.0)).item() == pytest.approx(math.tanh(math.log1p(math.e)))
    # Swish: beta = 0 is x / 2; large beta approaches ReLU
    x = torch.linspace(-3, 3, 13)
    torch.testing.assert_close(A.swish(x, 0.0), x / 2)
    torch.testing.assert_close(A.swish(x, 200.0), torch.relu(x), atol=1e-6, rtol=0)


def test_sigmoid_derivative_formula():
    x = x64(20)
    (g,) = torch.autograd.grad(A.sigmoid(x).sum(), x)
    s = torch.sigmoid(x)
    torch.testing.assert_close(g, s * (1 - s))


def test_stable_at_extremes():
    x = torch.tensor([-1e4, -100.0, 0.0, 100.0, 1e4])
    for fn in (A.sigmoid, A.tanh, A.softplus, A.elu, A.silu, A.mish, A.swish):
        y = fn(x)
        assert torch.isfinite(y).all(), fn.__name__
    torch.testing.assert_close(A.sigmoid(x), torch.sigmoid(x))
    assert A.softplus(torch.tensor(1e4)).item() == 1e4
    # ELU's discarded exp branch must not poison the gradient at large x
    xg = torch.tensor([1e4, -5.0], requires_grad=True)
    A.elu(xg).sum().backward()
    assert torch.isfinite(xg.grad).all()


def test_softmax_shift_invariance_and_huge_logits():
    z = x64(4, 6)
    for c in (-1000.0, 3.5, 1e4):
        torch.testing.assert_close(A.softmax(z + c), A.softmax(z))
    big = torch.tensor([[1e4, 0.0, -1e4]])
    p = A.softmax(big)
    assert torch.isfinite(p).all() and p[0, 0].item() == 1.0
    torch.testing.assert_close(A.softmax(z).sum(-1), torch.ones(4, dtype=torch.float64))
    torch.testing.assert_close(A.log_softmax(big), torch.log_softmax(big, -1))


def test_softmax_jacobian_formula():
    # d sigma_i / d q_k = sigma_i (delta_ik - sigma_k)   (notes, "Properties of softmax")
    q = x64(5)
    jac = torch.autograd.functional.jacobian(A.softmax, q)
    s = torch.softmax(q, 0)
    torch.testing.assert_close(jac, torch.diag(s) - s[:, None] * s[None, :])


def test_prelu_per_channel():
    x = x64(2, 3, 4, 4)
    w = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(A.prelu(x, w), F.prelu(x, w))
    assert gradcheck(A.prelu, (x, w), eps=1e-6, atol=1e-5)
    m = A.PReLU(3)
    assert m.weight.shape == (3,) and torch.all(m.weight == 0.25)
    m(torch.randn(2, 3, 5)).sum().backward()
    assert m.weight.grad is not None and m.weight.grad.shape == (3,)
    with pytest.raises(ValueError, match="3 slopes"):
        A.prelu(torch.randn(2, 4), torch.ones(3))


def test_swish_learnable_beta_gets_gradient():
    m = A.Swish(beta=1.0)
    assert isinstance(m.beta, torch.nn.Parameter)
    m(torch.randn(10)).sum().backward()
    assert m.beta.grad is not None and m.beta.grad.item() != 0
    frozen = A.Swish(learnable=False)
    assert not any(True for _ in frozen.parameters())
    x = x64(6)
    beta = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    assert gradcheck(A.swish, (x, beta), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_get_activation_modules(name):
    m = A.get_activation(name)
    x = torch.randn(3, 4)
    assert m(x).shape == x.shape


def test_bad_input_errors():
    with pytest.raises(ValueError, match="unknown activation 'rleu'.*relu"):
        A.get_activation("rleu")
    with pytest.raises(TypeError):
        A.get_activation(3)
    with pytest.raises(ValueError, match="negative_slope"):
        A.LeakyReLU(1.5)
    with pytest.raises(ValueError, match="dim=3"):
        A.softmax(torch.randn(2, 2), dim=3)
    with pytest.raises(ValueError, match="beta"):
        A.softplus(torch.randn(2), beta=0)
