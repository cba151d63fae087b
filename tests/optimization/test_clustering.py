"""Weight clustering: k-means recovers clusters, codebook size, compressed-size arithmetic (Han et al.
2016, eq. 2), centroid fine-tuning keeps the sharing."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from deepcourse.optimization.clustering import (ClusteredLayers, centroid_gradients, cluster_model, cluster_tensor,
                                                compressed_bits, dense_bits, kmeans_1d)


def test_kmeans_recovers_clusters():
    torch.manual_seed(0)
    centers = torch.tensor([-1.0, 0.0, 2.0])
    v = torch.cat([c + 0.01 * torch.randn(100) for c in centers])
    c, a = kmeans_1d(v, 3)
    torch.testing.assert_close(torch.sort(c).values, centers, atol=0.01, rtol=0)
    assert a.shape == v.shape and set(a.tolist()) == {0, 1, 2}
    with pytest.raises(ValueError, match="k must"):
        kmeans_1d(v, 0)


@pytest.mark.parametrize("bits", [1, 2, 4])
def test_codebook_size_and_shared_values(bits):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 10))
    books = cluster_model(model, bits)
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            assert books[name].k == 2 ** bits
            assert len(torch.unique(p)) <= 2 ** bits
    # eq. 2: n * bits index bits + k * 32 per layer, biases at 32 bits
    expect = (5000 * bits + 2 ** bits * 32) + (500 * bits + 2 ** bits * 32) + 32 * (50 + 10)
    assert compressed_bits(model, books) == expect
    assert dense_bits(model) == 32 * (5000 + 50 + 500 + 10)


def test_compression_ratio_at_4_bits_is_near_8():
    model = nn.Linear(500, 400, bias=False)
    books = cluster_model(model, 4, iters=5)
    ratio = dense_bits(model) / compressed_bits(model, books)
    assert ratio == pytest.approx(32 * 2e5 / (4 * 2e5 + 16 * 32))
    assert 7.9 < ratio < 8.0


def test_keep_zeros_and_decode():
    w = torch.tensor([[0.0, 1.0, 1.1], [0.0, -2.0, -2.1]])
    book = cluster_tensor(w, 1, keep_zeros=True)
    out = book.decode()
    assert torch.all(out[w == 0] == 0)
    assert len(torch.unique(out[w != 0])) == 2
    assert math.isclose(float(out[0, 1]), 1.05, abs_tol=1e-6)


def test_centroid_fine_tuning_keeps_sharing():
    torch.manual_seed(0)
    model = nn.Linear(20, 5)
    books = cluster_model(model, 2)
    loss = model(torch.randn(8, 20)).pow(2).sum()
    loss.backward()
    g = centroid_gradients(model.weight.grad, books["weight"])
    assert torch.isclose(g.sum(), model.weight.grad.sum(), atol=1e-5)
    before = books["weight"].centroids.clone()
    ClusteredLayers(model, books, lr=0.01).step()
    assert not torch.equal(before, books["weight"].centroids)
    assert len(torch.unique(model.weight)) <= 4
