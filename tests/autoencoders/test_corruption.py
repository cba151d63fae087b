from __future__ import annotations

import math

import pytest
import torch

from deepcourse.autoencoders.corruption import (
    binary_gaussian_noise,
    binary_salt_and_pepper,
    corrupt,
    corrupt_binary,
    from_pm1,
    gaussian_noise,
    masking,
    salt_and_pepper,
    to_pm1,
)


def _g(seed=0):
    return torch.Generator().manual_seed(seed)


def test_seeded_and_not_in_place():
    x = torch.rand(200, 64)
    x0 = x.clone()
    for fn, arg in ((gaussian_noise, 0.3), (salt_and_pepper, 0.3), (masking, 0.3)):
        a, b = fn(x, arg, _g(1)), fn(x, arg, _g(1))
        assert torch.equal(a, b)
        assert not torch.equal(a, fn(x, arg, _g(2)))
        assert torch.equal(x, x0)


def test_gaussian_noise_statistics_and_clip():
    x = torch.full((100_000,), 0.5)
    y = gaussian_noise(x, 0.2, _g())
    assert abs(float((y - x).std()) - 0.2) < 0.005
    assert abs(float((y - x).mean())) < 0.005
    c = gaussian_noise(x, 2.0, _g(), clip=(0.0, 1.0))
    assert c.min() >= 0 and c.max() <= 1
    assert torch.equal(gaussian_noise(x, 0.0, _g()), x)


def test_masking_fraction_and_value():
    x = torch.rand(200_000) + 0.5  # never 0 before masking
    y = masking(x, 0.3, _g())
    changed = y != x
    assert abs(float(changed.float().mean()) - 0.3) < 0.005
    assert (y[changed] == 0).all()
    assert torch.equal(masking(x, 0.0, _g()), x)
    assert (masking(x, 1.0, _g()) == 0).all()


def test_salt_and_pepper_fraction_and_values():
    x = torch.full((200_000,), 0.5)
    y = salt_and_pepper(x, 0.4, _g())
    assert abs(float((y == 0).float().mean()) - 0.2) < 0.005
    assert abs(float((y == 1).float().mean()) - 0.2) < 0.005
    assert abs(float((y == 0.5).float().mean()) - 0.6) < 0.005


def test_bad_arguments():
    x = torch.rand(4, 4)
    with pytest.raises(ValueError, match="p must be"):
        masking(x, 1.5)
    with pytest.raises(ValueError, match="std"):
        gaussian_noise(x, -1.0)
    with pytest.raises(TypeError, match="floating-point"):
        masking(torch.ones(3, dtype=torch.long), 0.1)
    with pytest.raises(TypeError, match="torch.Tensor"):
        masking([1.0, 2.0], 0.1)
    with pytest.raises(ValueError, match="kind"):
        corrupt(x, "blur", 0.1)
    with pytest.raises(ValueError, match="kind"):
        corrupt_binary(to_pm1(x), "masking", 0.1)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        binary_gaussian_noise(x, 0.05)


def test_binary_round_trip_and_noise():
    x = torch.rand(50_000)
    s = to_pm1(x)
    assert set(s.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(from_pm1(s), (x > 0.5).float())
    # Gaussian of variance v on the [0, 1] scale flips a pixel when the noise passes 0.5
    var = 0.25
    y = binary_gaussian_noise(s, var, _g())
    assert set(y.unique().tolist()) <= {-1.0, 1.0}
    p_flip = 0.5 * math.erfc(0.5 / math.sqrt(var) / math.sqrt(2))  # Phi(-0.5 / sigma)
    assert abs(float((y != s).float().mean()) - p_flip) < 0.01
    # salt and pepper of density d flips about d / 2 of the pixels
    y = binary_salt_and_pepper(s, 0.4, _g())
    assert set(y.unique().tolist()) <= {-1.0, 1.0}
    assert abs(float((y != s).float().mean()) - 0.2) < 0.01
    assert torch.equal(corrupt_binary(s, "salt_and_pepper", 0.4, _g()), y)
