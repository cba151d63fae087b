"""Paired/unpaired translation data and the pix2pix/CycleGAN folder loaders (on tiny generated fixtures)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from deepcourse.data import DataMissingError
from deepcourse.gan import data as D


def test_sobel_edges_of_a_square():
    x = -torch.ones(1, 1, 8, 8)
    x[..., 2:6, 2:6] = 1  # a bright square on a dark background
    e = D.sobel_edges(x)
    assert e.shape == (1, 1, 8, 8) and set(e.unique().tolist()) <= {-1.0, 1.0}
    assert e[0, 0, 4, 4] == -1 and e[0, 0, 0, 0] == -1  # flat inside and outside
    assert e[0, 0, 2, 4] == 1 and e[0, 0, 4, 1] == 1  # the square's border is an edge
    soft = D.sobel_edges(x, threshold=None)
    assert soft.min() >= -1 and soft.max() == 1
    assert torch.equal(D.sobel_edges(-torch.ones(2, 3, 5, 5)), -torch.ones(2, 1, 5, 5))  # no edges, no NaN
    with pytest.raises(ValueError, match="threshold"):
        D.sobel_edges(x, threshold=1.5)


def test_edges2fashion_is_deterministic_and_paired(data_root):
    (e, x, y), (et, xt, yt) = D.load_paired("edges2fashion", data_root, subset=200, test_subset=100)
    (e2, x2, _), _ = D.load_paired("edges2fashion", data_root, subset=200, test_subset=100)
    assert e.shape == x.shape == (200, 1, 28, 28) and len(y) == 200 and et.shape == (100, 1, 28, 28)
    assert torch.equal(e, e2) and torch.equal(x, x2)  # a fixed subset
    assert torch.equal(e[:5], D.sobel_edges(x[:5]))
    assert x.min() >= -1 and x.max() <= 1 and torch.bincount(y, minlength=10).min() >= 15  # stratified
    with pytest.raises(ValueError, match="edges2fashion"):
        D.load_paired("edges2shoes")


def test_mnist_usps_common_size(data_root):
    (xa, ya, xb, yb), (ta, tya, tb, tyb) = D.load_unpaired_digits("mnist-usps", data_root, subset=100, test_subset=50)
    assert xa.shape == xb.shape == (100, 1, 16, 16) and len(ya) == len(yb) == 100
    assert ta.shape == tb.shape == (50, 1, 16, 16) and len(tya) == len(tyb) == 50
    assert xa.min() >= -1 and xa.max() <= 1
    with pytest.raises(ValueError, match="mnist-usps"):
        D.load_unpaired_digits("svhn-mnist")


def _save(path, array):
    Image.fromarray(array.astype(np.uint8)).save(path)


def test_pix2pix_aligned_folder(tmp_path):
    folder = tmp_path / "facades" / "train"
    folder.mkdir(parents=True)
    for i in range(3):  # A | B side by side: A all i*40, B all 255 - i*40
        img = np.zeros((4, 8, 3))
        img[:, :4] = i * 40
        img[:, 4:] = 255 - i * 40
        _save(folder / f"{i + 1}.png", img)
    a, b = D.load_aligned_folder("facades", "train", root=tmp_path)
    assert a.shape == b.shape == (3, 3, 4, 4)
    assert torch.allclose(a[1], torch.full((3, 4, 4), 40 / 127.5 - 1))
    assert torch.allclose(b[2], torch.full((3, 4, 4), (255 - 80) / 127.5 - 1))
    a8, _ = D.load_aligned_folder("facades", "train", root=tmp_path, size=8, limit=2)
    assert a8.shape == (2, 3, 8, 8)
    with pytest.raises(ValueError, match="split"):
        D.load_aligned_folder("facades", "val", root=tmp_path)
    with pytest.raises(DataMissingError, match="maps"):
        D.load_aligned_folder("maps", root=tmp_path)


def test_cyclegan_unaligned_folder(tmp_path):
    base = tmp_path / "horse2zebra"
    for side, n in (("A", 2), ("B", 3)):
        (base / f"train{side}").mkdir(parents=True)
        for i in range(n):
            _save(base / f"train{side}" / f"n{i:03d}.jpg", np.full((6, 6, 3), 200 if side == "A" else 10))
    a, b = D.load_unaligned_folder("horse2zebra", "train", root=tmp_path)
    assert a.shape == (2, 3, 6, 6) and b.shape == (3, 3, 6, 6)
    assert a.mean() > 0.5 and b.mean() < -0.8
    with pytest.raises(ValueError, match="testA"):
        D.load_unaligned_folder("horse2zebra", "test", root=tmp_path)
    with pytest.raises(DataMissingError):
        D.load_unaligned_folder("monet2photo", root=tmp_path)
