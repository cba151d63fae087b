"""src/deepcourse/pointcloud/ops.py against brute-force references: FPS (the notes' procedure, one point at a
time), kNN and ball query (full distance matrix and sort), grouping."""

from __future__ import annotations

import pytest
import torch

from deepcourse.pointcloud import (ball_query, farthest_point_sample, group, index_points, knn, nearest_neighbour,
                                   square_distance)
from tests.helpers import assert_matches_reference


def naive_fps(x: torch.Tensor, m: int, start: int = 0) -> list[int]:
    """Two working sets S and R; move into S the point of R whose nearest point in S is farthest."""
    s, r = [start], set(range(len(x))) - {start}
    while len(s) < m:
        best = max(sorted(r), key=lambda j: min(float(((x[j] - x[i]) ** 2).sum()) for i in s))
        s.append(best)
        r.remove(best)
    return s


def test_fps_matches_the_notes_procedure():
    x = torch.randn(3, 60, 3, dtype=torch.float64)
    idx = farthest_point_sample(x, 12, start=5)
    for b in range(3):
        assert idx[b].tolist() == naive_fps(x[b], 12, 5)


def test_fps_start_farthest_is_order_independent_and_batched_starts():
    x = torch.randn(2, 100, 3, dtype=torch.float64)
    perm = torch.randperm(100)
    a = x[0][farthest_point_sample(x, 16, start="farthest")[0]]
    b = x[0, perm][farthest_point_sample(x[:, perm], 16, start="farthest")[0]]
    assert torch.equal(a, b)
    idx = farthest_point_sample(x, 4, start=torch.tensor([3, 7]))
    assert idx[:, 0].tolist() == [3, 7] and len(set(idx[0].tolist())) == 4


def test_fps_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(B, N, D\)"):
        farthest_point_sample(torch.randn(10, 3), 4)
    with pytest.raises(ValueError, match="m must be"):
        farthest_point_sample(torch.randn(1, 10, 3), 11)


def test_square_distance_matches_cdist():
    a, b = torch.randn(2, 17, 3, dtype=torch.float64), torch.randn(2, 23, 3, dtype=torch.float64)
    assert_matches_reference(square_distance, lambda a, b: torch.cdist(a, b) ** 2, [a, b], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("chunk", [7, 1024])
def test_knn_matches_sorting_all_distances(chunk):
    q, r = torch.randn(2, 30, 3, dtype=torch.float64), torch.randn(2, 50, 3, dtype=torch.float64)
    d, idx = knn(q, r, 5, chunk=chunk)
    full = torch.cdist(q, r) ** 2
    ref_d, ref_i = full.sort(-1)
    assert torch.equal(idx, ref_i[..., :5])
    torch.testing.assert_close(d, ref_d[..., :5])
    _, self_idx = knn(r, r, 1)
    assert torch.equal(self_idx[..., 0], torch.arange(50).expand(2, -1))  # a point finds itself first


def test_nearest_neighbour_gradient_matches_dense_min():
    a, b = torch.randn(2, 20, 3, dtype=torch.float64), torch.randn(2, 15, 3, dtype=torch.float64)
    assert_matches_reference(lambda a, b: nearest_neighbour(a, b, chunk=6)[0],
                             lambda a, b: (torch.cdist(a, b) ** 2).min(-1).values, [a, b], rtol=1e-8, atol=1e-10)


def test_ball_query_against_brute_force():
    q, r = torch.rand(2, 10, 3, dtype=torch.float64), torch.rand(2, 80, 3, dtype=torch.float64)
    radius, k = 0.3, 6
    idx = ball_query(q, r, radius, k, chunk=4)
    d = torch.cdist(q, r)
    for b in range(2):
        for i in range(10):
            inside = [j for j in d[b, i].argsort().tolist() if d[b, i, j] <= radius]
            want = inside[:k] + [inside[0] if inside else int(d[b, i].argmin())] * max(0, k - len(inside))
            if not inside:
                want = [int(d[b, i].argmin())] * k
            assert idx[b, i].tolist() == want


def test_group_and_index_points():
    x = torch.randn(2, 9, 4)
    idx = torch.randint(0, 9, (2, 3, 5))
    g = group(x, idx)
    assert g.shape == (2, 3, 5, 4)
    assert torch.equal(g[1, 2, 3], x[1, idx[1, 2, 3]])
    c = index_points(x, idx[:, :, 0])
    assert torch.equal(group(x, idx, c), g - c.unsqueeze(2))
