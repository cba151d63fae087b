"""Second-order CCN: covariance of the internal activations and invariance of the output under a permutation
of the input graph (Kondor et al. 2018, Definition 2), and shape errors."""

from __future__ import annotations

import pytest
import torch

from deepcourse.gnn.ccn import CCN2D, receptive_fields


def _graph(n: int = 9, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    edges = {(i, i + 1) for i in range(n - 1)}  # a path, plus random chords
    for _ in range(n):
        a, b = torch.randint(0, n, (2,), generator=g).tolist()
        if a != b:
            edges.add((min(a, b), max(a, b)))
    e = torch.tensor(sorted(edges)).T
    return torch.randn(n, 4, generator=g, dtype=torch.float64), torch.cat([e, e.flip(0)], 1)


def _permute(x, edge_index, sigma):
    """Node v of the input becomes node sigma[v]."""
    xp = torch.empty_like(x)
    xp[sigma] = x
    return xp, sigma[edge_index]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_activations_are_covariant_and_output_invariant(seed):
    torch.manual_seed(seed)
    x, ei = _graph(9, seed)
    model = CCN2D(4, 3, 2, levels=3, hidden=8).double().eval()
    sigma = torch.randperm(9, generator=torch.Generator().manual_seed(seed + 10))
    xp, eip = _permute(x, ei, sigma)
    ours, theirs = model.activations(x, ei), model.activations(xp, eip)
    for level, (a, b) in enumerate(zip(ours, theirs)):
        for i in range(9):
            j = int(sigma[i])
            m = int(a.size[i])
            assert int(b.size[j]) == m
            field_i = a.P[i, :m]  # vertices of the field of i, in i's order
            field_j = b.P[j, :m]  # the same vertices, renamed by sigma, in j's order
            assert sorted(sigma[field_i].tolist()) == sorted(field_j.tolist())
            pi = torch.tensor([field_j.tolist().index(int(sigma[v])) for v in field_i])  # slot of each vertex
            expect = a.F[i, :m, :m]
            got = b.F[j][pi][:, pi]
            torch.testing.assert_close(got, expect, rtol=1e-10, atol=1e-12, msg=f"level {level}, node {i}")
    torch.testing.assert_close(model(x, ei), model(xp, eip), rtol=1e-10, atol=1e-12)


def test_batched_graphs_match_single_graphs():
    torch.manual_seed(0)
    (x1, e1), (x2, e2) = _graph(6, 1), _graph(8, 2)
    model = CCN2D(4, 3, 2, levels=2, hidden=8).double().eval()
    x = torch.cat([x1, x2])
    ei = torch.cat([e1, e2 + 6], 1)
    batch = torch.tensor([0] * 6 + [1] * 8)
    out = model(x, ei, batch)
    torch.testing.assert_close(out[0], model(x1, e1)[0])
    torch.testing.assert_close(out[1], model(x2, e2)[0])


def test_receptive_fields_are_hop_balls():
    ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])  # path 0-1-2-3
    fields = receptive_fields(ei, torch.zeros(4, dtype=torch.long), 2)
    assert fields[0].tolist() == torch.eye(4, dtype=torch.bool).tolist()
    assert fields[1][0].tolist() == [True, True, False, False]
    assert fields[2][0].tolist() == [True, True, True, False]


def test_gradients_flow_and_bad_shapes_raise():
    x, ei = _graph(7, 3)
    model = CCN2D(4, 3, 2, levels=2, hidden=8).double()
    model(x, ei).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        model(torch.randn(7, 5, dtype=torch.float64), ei)
    with pytest.raises(ValueError, match=r"\(2, E\)"):
        model(x, ei[0])
