"""Truncated SVD of dense layers: the Eckart-Young errors, the two-layer form, parameter counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepcourse.optimization.svd import (break_even_rank, compress_linears, dense_params, rank_for_energy,
                                         svd_linear, truncation_error)


def test_reconstruction_error_equals_discarded_singular_values():
    torch.manual_seed(0)
    w = torch.randn(40, 25, dtype=torch.float64)
    s = torch.linalg.svdvals(w)
    for t in (1, 5, 24):
        fro, spec = truncation_error(w, t)
        assert fro == pytest.approx(float(s[t:].pow(2).sum().sqrt()), rel=1e-9)
        assert spec == pytest.approx(float(s[t]), rel=1e-9)
    assert truncation_error(w, 25)[0] == pytest.approx(0.0, abs=1e-9)


def test_two_layer_factorisation_matches_the_rank_t_map():
    torch.manual_seed(0)
    layer = nn.Linear(30, 20)
    seq = svd_linear(layer, 7)
    first, second = seq
    assert first.bias is None and first.weight.shape == (7, 30)  # Sigma_t V_t^T, no bias
    assert second.weight.shape == (20, 7) and torch.equal(second.bias, layer.bias)  # U_t and W's bias
    u, s, vh = torch.linalg.svd(layer.weight.detach().double(), full_matrices=False)
    w7 = ((u[:, :7] * s[:7]) @ vh[:7]).float()
    x = torch.randn(5, 30)
    assert torch.allclose(seq(x), x @ w7.T + layer.bias, atol=1e-5)
    full = svd_linear(layer, 20)
    assert torch.allclose(full(x), layer(x), atol=1e-5)  # full rank: exact


def test_compress_linears_counts_and_skips():
    model = nn.Sequential(nn.Linear(100, 80), nn.ReLU(), nn.Linear(80, 10))
    assert break_even_rank(model[0]) == (100 * 80 - 1) // 180
    small = compress_linears(model, 8, skip=["2"])
    assert isinstance(small[0], nn.Sequential) and isinstance(small[2], nn.Linear)
    assert dense_params(small) == 8 * (100 + 80) + 80 + 80 * 10 + 10
    assert isinstance(model[0], nn.Linear)  # the original is untouched
    same = compress_linears(model, 60)  # above break-even: nothing changes
    assert dense_params(same) == dense_params(model)
    with pytest.raises(ValueError, match="unknown"):
        compress_linears(model, {"nope": 3})


def test_rank_for_energy_and_bad_rank():
    w = torch.diag(torch.tensor([3.0, 2.0, 1.0]))
    assert rank_for_energy(w, 9 / 14) == 1 and rank_for_energy(w, 13 / 14) == 2 and rank_for_energy(w, 1.0) == 3
    with pytest.raises(ValueError, match="rank"):
        svd_linear(nn.Linear(4, 3), 4)


def test_rank_sweep_drops_ranks_that_save_nothing_and_keeps_the_output_layer():
    from deepcourse.optimization.svd import rank_sweep

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3))
    x, y = torch.randn(30, 20), torch.randint(0, 3, (30,))
    dense, rows = rank_sweep(model, x, y, [2, 4, 16], x[:8], rounds=1, repeats=1)
    assert dense["params"] == 20 * 16 + 16 + 16 * 3 + 3
    assert [r["rank"] for r in rows] == [2, 4]  # rank 16 is above the 20x16 layer's break-even rank (8)
    assert rows[0]["params"] == 2 * (20 + 16) + 16 + 16 * 3 + 3  # the output layer stays dense
    assert all(0 <= r["acc"] <= 1 and r["latency_ms"] > 0 and r["flops"] < dense["flops"] for r in rows)
