"""Tensor-side augmentation (src/deepcourse/data/transforms.py): crops, flips, noise, self-augmentation's T(x)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from deepcourse.data.transforms import cifar_augment, gaussian_noise, random_crop, random_hflip, shift_and_noise


def test_crop_is_a_window_of_the_padded_image():
    torch.manual_seed(0)
    x = torch.randn(16, 3, 8, 8)
    out = random_crop(x, 2)
    padded = F.pad(x, (2, 2, 2, 2))
    assert out.shape == x.shape
    for i in range(len(x)):
        hits = [(dy, dx) for dy in range(5) for dx in range(5) if torch.equal(out[i], padded[i, :, dy:dy + 8, dx:dx + 8])]
        assert hits, f"image {i} is not a crop of its padded version"


def test_crop_offsets_vary_and_padding_zero_is_identity():
    torch.manual_seed(0)
    x = torch.randn(64, 1, 8, 8)
    assert not all(torch.equal(a, b) for a, b in zip(random_crop(x, 4), x))
    assert torch.equal(random_crop(x, 0), x)


def test_flip_probability_extremes():
    x = torch.randn(4, 3, 5, 5)
    assert torch.equal(random_hflip(x, 0.0), x)
    assert torch.equal(random_hflip(x, 1.0), x.flip(3))


def test_reproducible_with_a_generator():
    x = torch.randn(8, 3, 32, 32)
    a = cifar_augment(x, generator=torch.Generator().manual_seed(3))
    b = cifar_augment(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_gaussian_noise_scale_and_zero():
    x = torch.zeros(20_000)
    assert torch.equal(gaussian_noise(x, 0.0), x)
    out = gaussian_noise(x, 0.5, torch.Generator().manual_seed(0))
    assert out.std().item() == pytest.approx(0.5, rel=0.05)


def test_shift_and_noise_shifts_each_image_with_zero_fill():
    x = torch.arange(1.0, 17.0).view(1, 16)
    out = shift_and_noise(x.repeat(50, 1), (4, 4), max_shift=1, noise=0.0, generator=torch.Generator().manual_seed(0))
    assert out.shape == (50, 16)
    padded = F.pad(x.view(1, 4, 4), (1, 1, 1, 1))[0]  # (6, 6)
    windows = {tuple(padded[dy:dy + 4, dx:dx + 4].flatten().tolist()) for dy in range(3) for dx in range(3)}
    seen = {tuple(r.tolist()) for r in out}
    assert seen <= windows and len(seen) > 1  # each output one of the 9 shifts, and not all the same
    assert tuple(x[0].tolist()) in seen


def test_bad_input():
    with pytest.raises(ValueError, match="padding"):
        random_crop(torch.zeros(1, 1, 4, 4), -1)
    with pytest.raises(ValueError, match="batch of images"):
        random_crop(torch.zeros(4, 4), 1)
    with pytest.raises(ValueError, match="std"):
        gaussian_noise(torch.zeros(3), -1.0)
    with pytest.raises(ValueError, match="H\\*W"):
        shift_and_noise(torch.zeros(2, 15), (4, 4))
