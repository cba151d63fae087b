"""``tests.helpers.assert_matches_reference`` itself: torch vs torch with nested outputs, constants, and that it fails."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepcourse.autodiff import ops
from tests.helpers import assert_matches_reference

RNG = np.random.default_rng(5)


def lstm_ref(x, w_ih, w_hh):
    """torch's LSTM called functionally: parameters are inputs, so their gradients are compared too."""
    lstm = torch.nn.LSTM(3, 4, bias=False, batch_first=True).double()
    return torch.func.functional_call(lstm, {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh}, (x,))  # out, (h, c)


def lstm_ours(x, w_ih, w_hh):
    """The LSTM equations written out (gates i, f, g, o stacked as torch stacks them)."""
    h = c = torch.zeros(x.shape[0], 4, dtype=x.dtype)
    outs = []
    for t in range(x.shape[1]):
        i, f, g, o = (x[:, t] @ w_ih.T + h @ w_hh.T).chunk(4, dim=1)  # (B, 4) each
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs, 1), (h[None], c[None])  # (B, T, 4), ((1, B, 4), (1, B, 4))


def test_torch_against_torch_with_nested_outputs_and_parameters():
    inputs = [RNG.normal(size=(2, 5, 3)), RNG.normal(size=(16, 3)) * 0.5, RNG.normal(size=(16, 4)) * 0.5]
    assert_matches_reference(lstm_ours, lstm_ref, inputs, rtol=1e-10, atol=1e-12)


def test_integer_inputs_are_constants_and_inputs_may_be_torch_tensors():
    x, labels = torch.randn(4, 3, dtype=torch.float64), torch.tensor([0, 2, 1, 2])
    assert_matches_reference(lambda z, y: ops.log_softmax(z)[np.arange(4), y],
                             lambda z, y: torch.log_softmax(z, 1)[torch.arange(4), y], [x, labels],
                             ours_on="autodiff", rtol=1e-12, atol=1e-12)


def test_a_wrong_gradient_or_value_is_caught():
    x = RNG.normal(size=5)
    wrong_grad = lambda t: t * t.detach() * 2.0  # noqa: E731 - right value 2 x^2, gradient 2 x instead of 4 x
    with pytest.raises(AssertionError, match="gradient of input 0"):
        assert_matches_reference(wrong_grad, lambda t: 2.0 * t * t, [x])
    with pytest.raises(AssertionError, match="value of output 0"):
        assert_matches_reference(lambda t: t * 2.0, lambda t: t * 2.0 + 1e-6, [x], ours_on="autodiff")
    with pytest.raises(ValueError, match="values only"):
        assert_matches_reference(lambda t: t, lambda t: t, [x], ours_on="numpy")
    assert_matches_reference(lambda t: np.tanh(t), torch.tanh, [x], grad=False, ours_on="numpy")
