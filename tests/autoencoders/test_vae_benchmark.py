from __future__ import annotations

import math

import torch

from deepcourse.autoencoders import active_units, dense_vae, pixel_baseline_nll


def test_pixel_baseline_is_the_bernoulli_nll_of_the_training_means():
    x_train = torch.tensor([[[[1.0, 0.0]]], [[[1.0, 1.0]]]])  # (2, 1, 1, 2): pixel means 1 (clamped) and 0.5
    x_test = torch.tensor([[[[1.0, 1.0]]]])
    expected = -(math.log(1 - 1e-3) + math.log(0.5))
    assert abs(pixel_baseline_nll(x_train, x_test) - expected) < 1e-5


def test_active_units_counts_dimensions_whose_mean_varies():
    torch.manual_seed(0)
    model = dense_vae((1, 4, 4), (8,), 3)
    with torch.no_grad():
        head = model.encoder.net[-1]  # the linear layer to (mu, logvar)
        head.weight[1].zero_()
        head.bias[1] = 0.0  # mu_2 is constant: an inactive unit
        head.weight[:3] *= 10  # the other two means vary strongly
    x = torch.rand(200, 1, 4, 4)
    assert active_units(model, x) == 2.0
    assert model.training  # eval mode is restored
