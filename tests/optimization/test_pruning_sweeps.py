"""The pruning and clustering sweeps on a tiny trained MLP: metrics and rows for every amount."""

from __future__ import annotations

import pytest
import torch

from deepcourse.foundations import MLP
from deepcourse.optimization.pruning import MaskCallback, sparsity
from deepcourse.optimization.pruning_sweeps import (channel_sweep, clustering_sweep, csr_speedups, gradual_run,
                                                    unstructured_sweep)


def _data(n=256):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 12, generator=g)
    return x, (x[:, 0] + x[:, 1] > 0).long()  # (N, 12), (N,)


def _net():
    torch.manual_seed(0)
    return gradual_run(MLP(12, (32, 16), 2), _data(), target=0.0, epochs=3, lr=1e-2, batch_size=32, seed=0)


def _finetune_recorder(calls):
    def finetune(model, masks, name):
        calls.append(name)
        MaskCallback(model, masks).on_step_end(None, {})  # what training would hold: masked weights stay zero
    return finetune


def test_unstructured_and_channel_sweeps():
    net, test, calls = _net(), _data(128), []
    rows, m = unstructured_sweep("mlp", net, (0.5, 0.9), test, _finetune_recorder(calls), latency_x=test[0][:8],
                                 repeats=2)
    assert calls == ["mlp-unstructured-0.5", "mlp-unstructured-0.9"]
    assert m["mlp_measured_sparsity_0.9"] == pytest.approx(0.9, abs=0.01) and m["mlp_latency_ms_csr_0.9"] > 0
    assert [r["amount"] for r in rows] == [0.5, 0.9] and sparsity(net) == 0.0  # copies were pruned
    rows, m = channel_sweep("mlp", net, (0.5,), test, _finetune_recorder(calls), latency_x=test[0][:8], repeats=2)
    assert m["mlp_structured_same_function"] == 1.0 and m["mlp_params_ratio_channels_0.5"] > 1.5


def test_gradual_clustering_and_csr():
    g = gradual_run(MLP(12, (32, 16), 2), _data(), target=0.8, epochs=3, lr=1e-2, batch_size=32, seed=0)
    assert sparsity(g) == pytest.approx(0.8, abs=0.01)
    rows, m = clustering_sweep(_net(), (1, 4), _data(128))
    assert [r["bits"] for r in rows] == [1, 4] and m["cluster_ratio_1bit"] > m["cluster_ratio_4bit"] > 4
    rows, m = csr_speedups(32, 4, (0.5, 0.9), repeats=2)
    assert set(m) == {"csr_speedup_0.5", "csr_speedup_0.9"} and all(r["CSR ms"] > 0 for r in rows)
