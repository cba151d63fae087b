"""The real datasets staged in shared/data (skipped where that folder is absent)."""

from __future__ import annotations

import pytest
import torch

from deepcourse.data import all_ok, check, load_dataset, load_tensors

# From shared/data/MANIFEST.md
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist(shared_data):
    assert all_ok(check("mnist"))
    x, y = load_tensors("mnist", "train")
    assert x.shape == (60000, 28, 28) and x.dtype == torch.uint8 and y.dtype == torch.int64
    assert y[:5].tolist() == [5, 0, 4, 1, 9]
    assert torch.bincount(y).tolist() == MNIST_TRAIN_COUNTS
    assert abs(x.float().mean().item() / 255 - 0.1306605) < 1e-6
    xt, yt = load_tensors("mnist", "test", root=shared_data)
    assert xt.shape == (10000, 28, 28) and yt[:5].tolist() == [7, 2, 1, 0, 4]
    assert torch.bincount(yt).tolist() == MNIST_TEST_COUNTS


def test_mnist_torchvision_dataset(shared_data):
    from torchvision.datasets import MNIST

    ds = load_dataset("mnist", "test")
    assert isinstance(ds, MNIST) and len(ds) == 10000
    img, label = ds[0]
    assert img.size == (28, 28) and label == 7


def test_fashion_mnist(shared_data):
    from torchvision.datasets import FashionMNIST

    x, y = load_tensors("fashion-mnist", "train")
    assert x.shape == (60000, 28, 28) and y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert torch.bincount(y).tolist() == [6000] * 10
    xt, yt = load_tensors("fashion-mnist", "test")
    assert xt.shape == (10000, 28, 28) and torch.bincount(yt).tolist() == [1000] * 10
    ds = load_dataset("fashion-mnist", "test")
    assert isinstance(ds, FashionMNIST) and ds.classes[9] == "Ankle boot"


def test_usps(shared_data):
    x, y = load_tensors("usps", "train")
    assert x.shape == (7291, 16, 16) and x.dtype == torch.uint8
    assert y[:10].tolist() == [6, 5, 4, 7, 3, 6, 3, 1, 0, 1]
    assert torch.bincount(y).tolist() == [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]
    _, yt = load_tensors("usps", "test")
    assert torch.bincount(yt).tolist() == [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]


def test_cifar10_jpeg_present(shared_data):
    # decoding all 60,000 JPEGs takes ~20 s once; the decode path is tested on a tiny zip in
    # test_data_registry.py, here only the staged file is checked.
    assert all_ok(check("cifar10-jpeg"))


@pytest.mark.slow
def test_cifar10_jpeg_decode(shared_data):
    """Decodes the 10,000 test JPEGs (about 5 s once; later calls read the cached .npz)."""
    x, y = load_tensors("cifar10-jpeg", "test")
    assert x.shape == (10000, 3, 32, 32) and x.dtype == torch.uint8
    assert torch.bincount(y).tolist() == [1000] * 10
    ds = load_dataset("cifar10-jpeg", "test")
    img, label = ds[9999]
    assert img.size == (32, 32) and label == 9 and ds.classes[9] == "truck"
