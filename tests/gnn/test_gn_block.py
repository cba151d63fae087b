"""The Graph Network block: aggregations against PyG's scatter, every configuration's shapes, permutation
equivariance of node outputs and invariance of the global output, the MPNN update against a hand-written
one, attention weights summing to one, and errors."""

from __future__ import annotations

import pytest
import torch

from deepcourse.gnn import CONFIGS, GNBlock, GNConfig, GraphNetwork, aggregate, complete_edges, softmax_by_index


def _graph(n=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    e = torch.randint(0, n, (2, 16), generator=g)
    e = e[:, e[0] != e[1]]
    return torch.randn(n, 6, generator=g, dtype=torch.float64), e


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_aggregate_matches_pyg_scatter(reduce):
    from torch_geometric.utils import scatter

    src = torch.randn(20, 3, dtype=torch.float64)
    index = torch.randint(0, 6, (20,))
    index[0] = 5  # ensure the last group exists
    ours = aggregate(src, index, 7, reduce)
    ref = scatter(src, index, 0, 7, reduce=reduce)
    torch.testing.assert_close(ours, ref)
    assert torch.all(ours[6] == 0)  # empty group


def test_softmax_by_index_sums_to_one_per_group():
    index = torch.tensor([0, 0, 1, 1, 1, 3])
    w = softmax_by_index(torch.randn(6), index, 4)
    torch.testing.assert_close(aggregate(w, index, 4, "sum"), torch.tensor([1.0, 1.0, 0.0, 1.0]))


def test_complete_edges_counts_pairs_within_graphs():
    batch = torch.tensor([0, 0, 0, 1, 1])
    e = complete_edges(batch)
    assert e.shape == (2, 3 * 2 + 2 * 1)
    assert torch.all(batch[e[0]] == batch[e[1]]) and torch.all(e[0] != e[1])


@pytest.mark.parametrize("config", list(CONFIGS))
def test_every_configuration_is_permutation_equivariant(config):
    torch.manual_seed(0)
    x, ei = _graph()
    ea = torch.randn(ei.shape[1], 2, dtype=torch.float64)
    model = GraphNetwork(6, 8, 3, blocks=2, config=config, edge_features=2).double().eval()
    out = model(x, ei, None, edge_attr=ea)
    assert out.shape == (1, 3)
    sigma = torch.randperm(7)
    xp = torch.empty_like(x)
    xp[sigma] = x
    perm_e = torch.randperm(ei.shape[1])
    torch.testing.assert_close(model(xp, sigma[ei][:, perm_e], None, edge_attr=ea[perm_e]), out)


def test_mpnn_block_equals_the_hand_written_update():
    torch.manual_seed(0)
    v, ei = _graph()
    block = GNBlock(6, "mpnn").double()
    e = torch.randn(ei.shape[1], 6, dtype=torch.float64)
    u = torch.zeros(1, 6, dtype=torch.float64)
    batch = torch.zeros(7, dtype=torch.long)
    v2, e2, u2 = block(v, e, u, ei, batch)
    s, r = ei
    e_ref = block.phi_e(torch.cat([e, v[r], v[s]], 1)) + e
    ebar = torch.zeros(7, 6, dtype=torch.float64).index_add_(0, r, e_ref)
    v_ref = block.phi_v(torch.cat([ebar, v], 1)) + v
    torch.testing.assert_close(e2, e_ref)
    torch.testing.assert_close(v2, v_ref)
    torch.testing.assert_close(u2, block.phi_u(v_ref.sum(0, keepdim=True)) + u)


def test_deep_sets_config_ignores_edges_and_relation_network_ignores_topology():
    torch.manual_seed(0)
    x, ei = _graph()
    other = torch.tensor([[0, 1], [1, 0]])
    for config in ("deep-sets", "relation-network", "non-local"):
        model = GraphNetwork(6, 8, 2, config=config).double().eval()
        torch.testing.assert_close(model(x, ei), model(x, other))
    mpnn = GraphNetwork(6, 8, 2, config="mpnn").double().eval()
    assert not torch.allclose(mpnn(x, ei), mpnn(x, other))


def test_errors():
    with pytest.raises(ValueError, match="aggregations"):
        GNBlock(4, GNConfig(rho_ev="median"))
    with pytest.raises(ValueError, match="config"):
        GraphNetwork(3, 4, 2, config="transformer")
    block = GNBlock(4, "mpnn")
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        block(torch.randn(3, 5), None, torch.zeros(1, 4), torch.tensor([[0], [1]]), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="edge attributes"):
        block(torch.randn(3, 4), None, torch.zeros(1, 4), torch.tensor([[0], [1]]), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="reduce"):
        aggregate(torch.randn(3), torch.zeros(3, dtype=torch.long), 1, "prod")
