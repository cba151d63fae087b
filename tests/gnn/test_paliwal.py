"""Tests of the Paliwal et al. message-passing GNN: topology kept, permutation equivariance of node states and
invariance of the graph output, the neighbour-count option, and the scatter helpers against PyG's."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.nn import global_max_pool
from torch_geometric.utils import scatter

from deepcourse.gnn.formula_graphs import Vocabulary, formula_graph, to_data
from deepcourse.gnn.formulas import generate_problems
from deepcourse.gnn.paliwal import PaliwalGNN, graph_max_pool, mean_by_receiver
from tests.helpers import assert_matches_reference


@pytest.fixture(autouse=True)
def one_thread():
    """These models are tiny: on a busy machine, one intra-op thread is much faster than several."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def formula_data(rep="subexpr", i=0):
    p = generate_problems(2, seed=5)[i]
    g = formula_graph(p.goal, rep)
    return to_data(g, Vocabulary(g.labels))


def model(vocab=40, **kw):
    torch.manual_seed(0)
    return PaliwalGNN(vocab, **{"hidden": 16, "hops": 3, "expand": 32, **kw}).double()


def test_output_graph_keeps_topology():
    d = formula_data()
    out = model().forward_graph(d)
    assert torch.equal(out.edge_index, d.edge_index) and torch.equal(out.edge_attr, d.edge_attr)
    assert out.x.shape == (d.num_nodes, 16)


@pytest.mark.parametrize("rep", ["ast", "subexpr", "subexpr-topdown"])
def test_permuting_nodes_permutes_states_and_keeps_the_graph_output(rep):
    d, m = formula_data(rep), model()
    perm = torch.randperm(d.num_nodes, generator=torch.Generator().manual_seed(1))  # new node i is old perm[i]
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(len(perm))
    e_order = torch.randperm(d.edge_index.shape[1], generator=torch.Generator().manual_seed(2))
    pd = Data(x=d.x[perm], edge_index=inv[d.edge_index][:, e_order], edge_attr=d.edge_attr[e_order])
    torch.testing.assert_close(m.node_states(pd), m.node_states(d)[perm])
    torch.testing.assert_close(m(pd), m(d))


def test_neighbour_counts_fix_the_mean():
    """A mean cannot tell one child from two equal children (the notes' remark); the counts can."""
    one = Data(x=torch.tensor([1, 2]), edge_index=torch.tensor([[0, 1], [1, 0]]), edge_attr=torch.tensor([0, 1]))
    two = Data(x=torch.tensor([1, 2, 2]), edge_index=torch.tensor([[0, 0, 1, 2], [1, 2, 0, 0]]),
               edge_attr=torch.tensor([0, 0, 1, 1]))
    plain = model(vocab=3)
    torch.testing.assert_close(plain(one), plain(two))
    counted = model(vocab=3, neighbour_counts=True)
    assert not torch.allclose(counted(one), counted(two))


def test_zero_hops_is_a_bag_of_tokens_and_batches_match_single_graphs():
    d0, d1 = formula_data(i=0), formula_data("ast", i=1)
    m0 = model(hops=0)
    no_edges = Data(x=d0.x, edge_index=torch.zeros(2, 0, dtype=torch.long), edge_attr=torch.zeros(0, dtype=torch.long))
    torch.testing.assert_close(m0(no_edges), m0(d0))
    m = model()
    out = m(Batch.from_data_list([d0, d1]))
    torch.testing.assert_close(out, torch.cat([m(d0), m(d1)]))


def test_split_first_layer_equals_the_concatenated_message_mlp():
    d, m = formula_data(), model(hops=2)
    h = m.mlp_v(m.token(d.x))
    h_e = m.mlp_e(torch.nn.functional.one_hot(d.edge_attr, 2).double())
    src, dst = d.edge_index
    for net in m.hop_nets:  # the formulas of the notes, written the slow way: an MLP per edge on [h_u, h_v, h_e]
        parts = [h]
        for direction, mlp in ((0, net.parent), (1, net.child)):
            mask = d.edge_attr == direction
            msg = mlp(torch.cat([h[src[mask]], h[dst[mask]], h_e[mask]], dim=1))
            parts.append(scatter(msg, dst[mask], 0, dim_size=d.num_nodes, reduce="mean"))
        h = h + net.aggr(torch.cat(parts, dim=1))
    torch.testing.assert_close(m.node_states(d), h)


def test_scatter_helpers_match_pyg():
    g = torch.Generator().manual_seed(0)
    msg = torch.randn(9, 4, dtype=torch.float64, generator=g)
    recv = torch.tensor([0, 2, 2, 4, 4, 4, 0, 1, 2])
    assert_matches_reference(lambda m, r: mean_by_receiver(m, r, 6)[0],
                             lambda m, r: scatter(m, r, 0, dim_size=6, reduce="mean"), [msg, recv])
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    assert_matches_reference(lambda h, b: graph_max_pool(h, b, 3), lambda h, b: global_max_pool(h, b, 3), [msg, batch])


def test_bad_inputs():
    m = model()
    d = formula_data()
    with pytest.raises(ValueError, match=r"data.x must be \(N,\)"):
        m(Data(x=d.x.float(), edge_index=d.edge_index, edge_attr=d.edge_attr))
    with pytest.raises(ValueError, match=r"edge_attr must be \(E,\)"):
        m(Data(x=d.x, edge_index=d.edge_index, edge_attr=d.edge_attr[:-1]))
    with pytest.raises(ValueError, match="directions"):
        m(Data(x=d.x, edge_index=d.edge_index, edge_attr=d.edge_attr + 1))
    with pytest.raises(ValueError):
        PaliwalGNN(10, hops=-1)
