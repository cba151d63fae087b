from __future__ import annotations

import torch
import torch.nn.functional as F

from deepcourse.foundations.gradient_flow import init_for, layer_grad_norms
from deepcourse.foundations.models import MLP


def test_init_for_zero_biases_and_scale():
    torch.manual_seed(0)
    relu = init_for(MLP(200, (200,), 10, activation="relu"), "relu")
    sig = init_for(MLP(200, (200,), 10, activation="sigmoid"), "sigmoid")
    for m in (relu, sig):
        assert all((layer.bias == 0).all() for layer in m.linear_layers())
    w_relu, w_sig = relu.linear_layers()[0].weight, sig.linear_layers()[0].weight
    assert abs(w_relu.std().item() - (2 / 200) ** 0.5) < 0.01  # He: var 2 / fan_in
    assert abs(w_sig.std().item() - (2 / 400) ** 0.5) < 0.01  # Glorot: var 2 / (fan_in + fan_out)


def test_layer_grad_norms_one_per_layer_and_vanishing_for_sigmoid():
    torch.manual_seed(0)
    x, y = torch.randn(64, 16), torch.randint(0, 4, (64,))
    ratios = {}
    for act in ("sigmoid", "relu"):
        model = init_for(MLP(16, (16,) * 7, 4, activation=act), act)
        norms = layer_grad_norms(model, F.cross_entropy(model(x), y))
        assert len(norms) == 8 and all(n > 0 for n in norms)
        ratios[act] = norms[0] / norms[-1]
    assert ratios["sigmoid"] < 0.01 < ratios["relu"]
