from __future__ import annotations

import math

import pytest
import torch

from deepcourse.data import (FUNCTIONS_1D, function_1d, gaussian_grid, gaussian_grid_centres,
                             regression_with_outliers, spirals, train_val_split, two_moons, xor)

GENERATORS = [
    lambda seed: xor(101, 0.1, seed),
    lambda seed: two_moons(101, 0.1, seed),
    lambda seed: spirals(101, 1.5, 0.05, seed),
    lambda seed: spirals(99, 2.0, 0.0, seed, classes=3),
    lambda seed: gaussian_grid(101, 5, 0.05, seed),
    lambda seed: function_1d("sine", 101, 0.1, seed),
    lambda seed: regression_with_outliers(101, 0.1, seed),
]


@pytest.mark.parametrize("make", GENERATORS)
def test_seeded_float32_and_deterministic(make):
    x1, y1 = make(0)
    x2, y2 = make(0)
    x3, y3 = make(1)
    assert x1.dtype == torch.float32 and y1.dtype == torch.float32
    assert len(x1) == len(y1) == (99 if x1.shape[0] == 99 else 101)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not (torch.equal(x1, x3) and torch.equal(y1, y3))
    assert torch.isfinite(x1).all() and torch.isfinite(y1).all()


def test_global_rng_untouched():
    torch.manual_seed(123)
    a = torch.rand(3)
    torch.manual_seed(123)
    xor(10, 0.1, 0)
    assert torch.equal(torch.rand(3), a)


def test_xor_labels_are_xor_of_corner():
    x, y = xor(400, 0.0, 0)
    assert x.shape == (400, 2) and y.shape == (400,)
    assert torch.equal(y, (x[:, 0].round() != x[:, 1].round()).float())
    assert y.sum().item() == 200  # balanced


def test_two_moons_shapes_and_balance():
    x, y = two_moons(201, 0.0, 3)
    assert x.shape == (201, 2) and set(y.unique().tolist()) == {0.0, 1.0}
    assert (y == 0).sum().item() == 100
    outer = x[y == 0]
    assert torch.allclose(outer.norm(dim=1), torch.ones(100), atol=1e-5)  # unit circle without noise


def test_spirals_classes_and_radius():
    x, y = spirals(300, 1.0, 0.0, 0, classes=3)
    assert set(y.unique().tolist()) == {0.0, 1.0, 2.0}
    assert [(y == k).sum().item() for k in range(3)] == [100, 100, 100]
    assert x.norm(dim=1).max() <= 1.0 + 1e-6


def test_gaussian_grid_centres_and_modes():
    c = gaussian_grid_centres(5)
    assert c.shape == (25, 2)
    assert sorted(set(c[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    x, mode = gaussian_grid(2000, 5, 0.05, 0)
    assert x.shape == (2000, 2) and mode.shape == (2000,)
    assert len(mode.unique()) == 25
    dist = (x - c[mode.long()]).norm(dim=1)
    assert dist.max() < 0.05 * 6  # every sample is near its own mode
    assert abs(x.std(0).mean().item() - math.sqrt(8)) < 0.2  # var of uniform over {-4..4} grid = 8


@pytest.mark.parametrize("name", list(FUNCTIONS_1D))
def test_function_1d(name):
    x, y = function_1d(name, 64, 0.0, 0)
    assert x.shape == (64, 1) and y.shape == (64, 1)
    assert x[0].item() == 0.0 and x[-1].item() == 1.0
    assert torch.allclose(y, FUNCTIONS_1D[name][0](x))


def test_function_1d_known_values():
    x, y = function_1d("sine", 5, 0.0, 0)  # x = 0, .25, .5, .75, 1
    assert torch.allclose(y.squeeze(), torch.tensor([0.0, 1.0, 0.0, -1.0, 0.0]), atol=1e-6)


def test_regression_with_outliers():
    x, y, mask = regression_with_outliers(200, 0.1, 0, return_mask=True)
    assert x.shape == y.shape == (200, 1) and mask.sum().item() == 20
    resid = (y - (2 * x + 1)).squeeze()
    assert resid[~mask].abs().max() < 0.5 and resid[mask].min() >= 4.5


@pytest.mark.parametrize("call, arg", [
    (lambda: xor(0, 0.1, 0), "n"),
    (lambda: xor(10, -1.0, 0), "noise"),
    (lambda: spirals(10, 0.0, 0.1, 0), "turns"),
    (lambda: spirals(10, 1.0, 0.1, 0, classes=1), "classes"),
    (lambda: gaussian_grid(10, 0, 0.05, 0), "grid"),
    (lambda: function_1d("nope", 10, 0.0, 0), "fn_name"),
    (lambda: regression_with_outliers(10, 0.7, 0), "outlier_frac"),
    (lambda: train_val_split(10, 1.5, 0), "val_frac"),
])
def test_bad_arguments_name_the_argument(call, arg):
    with pytest.raises(ValueError, match=arg):
        call()


def test_bad_seed_type():
    with pytest.raises(TypeError, match="seed"):
        xor(10, 0.1, "0")


def test_train_val_split_deterministic_disjoint():
    tr, va = train_val_split(1000, 0.1, 0)
    tr2, va2 = train_val_split(1000, 0.1, 0)
    assert torch.equal(tr, tr2) and torch.equal(va, va2)
    assert len(va) == 100 and len(tr) == 900
    assert tr.dtype == torch.int64
    assert torch.equal(torch.sort(torch.cat([tr, va])).values, torch.arange(1000))
    assert not torch.equal(train_val_split(1000, 0.1, 1)[1], va)
    assert len(train_val_split(3, 0.01, 0)[1]) == 1
