from __future__ import annotations

import torch

from deepcourse.foundations.approximation import SigmoidNet, fit_sigmoid_net, target_function


def test_sigmoid_net_shapes_and_formula():
    net = SigmoidNet(5, torch.Generator().manual_seed(0))
    x = torch.linspace(0, 1, 7, dtype=torch.float64)
    assert net.hidden(x).shape == (7, 5)
    expected = torch.sigmoid(x[:, None] * net.w + net.b) @ net.v + net.c
    torch.testing.assert_close(net(x), expected)


def test_fit_improves_with_units_and_is_seeded():
    x = torch.linspace(0, 1, 60, dtype=torch.float64)
    y = target_function(x)
    errs = [(fit_sigmoid_net(n, x, y, steps=40, seed=1)(x) - y).abs().max().item() for n in (1, 16)]
    assert errs[1] < 0.2 * errs[0]
    a, b = fit_sigmoid_net(4, x, y, steps=20, seed=3), fit_sigmoid_net(4, x, y, steps=20, seed=3)
    torch.testing.assert_close(a(x), b(x))
