"""GCN and GIN layers against PyG's GCNConv and GINConv (values and gradients, float64), the sparse and the
project-first paths, the models' shapes and errors, and a GCN that learns the karate club split."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from deepcourse.data.graphs import karate_club
from deepcourse.gnn import GCN, GCNLayer, GIN, GINLayer, gin_mlp
from tests.helpers import assert_matches_reference

pyg_nn = pytest.importorskip("torch_geometric.nn")


def _graph(n=12, f=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    e = torch.randint(0, n, (2, 30), generator=g)
    e = e[:, e[0] != e[1]]
    return torch.randn(n, f, generator=g, dtype=torch.float64), torch.cat([e, e.flip(0)], 1)


def test_gcn_layer_matches_pyg_gcnconv():
    x, ei = _graph()
    ours, ref = GCNLayer(5, 4).double(), pyg_nn.GCNConv(5, 4).double()
    w, b = torch.randn(4, 5, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    assert_matches_reference(lambda x, w, b, ei: functional_call(ours, {"lin.weight": w, "bias": b}, (x, ei)),
                             lambda x, w, b, ei: functional_call(ref, {"lin.weight": w, "bias": b}, (x, ei)),
                             [x, w, b, ei], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f_in,hidden", [(5, 8), (9, 4)])  # aggregate-first and project-first paths
def test_gin_layer_matches_pyg_ginconv(f_in, hidden):
    x, ei = _graph(f=f_in)
    mlp = gin_mlp(f_in, hidden, batch_norm=False).double()
    ours, ref = GINLayer(mlp, in_features=f_in), pyg_nn.GINConv(mlp)
    params = {k: torch.randn_like(v) for k, v in mlp.named_parameters()}
    names = list(params)
    assert_matches_reference(
        lambda x, *ps: functional_call(ours, {f"mlp.{k}": p for k, p in zip(names, ps)}, (x, ei)),
        lambda x, *ps: functional_call(ref, {f"nn.{k}": p for k, p in zip(names, ps)}, (x, ei)),
        [x, *params.values()], rtol=1e-10, atol=1e-12)


def test_sparse_input_matches_dense():
    x, ei = _graph()
    x = x * (torch.rand_like(x) < 0.3)
    torch.manual_seed(0)
    gcn = GCNLayer(5, 3).double()
    torch.testing.assert_close(gcn(x.to_sparse(), ei), gcn(x, ei))
    gin = GINLayer(gin_mlp(5, 3, batch_norm=False).double(), in_features=5)
    torch.testing.assert_close(gin(x.to_sparse(), ei), gin(x, ei))


def test_models_shapes_and_errors():
    x, ei = _graph()
    batch = torch.tensor([0] * 6 + [1] * 6)
    assert GCN(5, 8, 3, graph_level=True)(x.float(), ei, batch).shape == (2, 3)
    assert GCN(5, 8, 3)(x.float(), ei).shape == (12, 3)
    assert GIN(5, 8, 3, layers=3)(x.float(), ei, batch).shape == (2, 3)
    assert GIN(5, 8, 3, graph_level=False)(x.float(), ei).shape == (12, 3)
    with pytest.raises(ValueError, match=r"\(N, 5\)"):
        GCNLayer(5, 3)(torch.randn(12, 4), ei)
    with pytest.raises(ValueError, match=r"\(2, E\)"):
        GCNLayer(5, 3)(torch.randn(12, 5), ei.T)
    with pytest.raises(ValueError, match="outside"):
        GCNLayer(5, 3)(torch.randn(3, 5), ei)


def test_gcn_learns_the_karate_club_from_four_labels():
    data = karate_club()
    data.train_mask = torch.zeros(34, dtype=torch.bool)
    data.train_mask[[0, 1, 32, 33]] = True  # the two leaders and a follower of each
    torch.manual_seed(0)
    model = GCN(34, 16, 2, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(100):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(data.x, data.edge_index)[data.train_mask],
                                          data.y[data.train_mask]).backward()
        opt.step()
    acc = (model(data.x, data.edge_index).argmax(1) == data.y).float().mean()
    assert acc > 0.8, acc
