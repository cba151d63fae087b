"""Batched point-cloud operations in pure torch: farthest point sampling, k-nearest neighbours, ball query
and grouping. No compiled extension: every op is a few tensor calls that run on CPU and GPU alike.

Shapes: clouds are ``(B, N, D)`` (batch, points, coordinates); index tensors are ``(B, M)`` or ``(B, M, k)``
of ``torch.long``. Distances between all pairs are computed in row chunks (``chunk`` query points at a time), so
kNN on 16k x 16k points never holds the whole 16k x 16k matrix.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_cloud", "square_distance", "farthest_point_sample", "index_points", "knn", "ball_query", "group",
           "nearest_neighbour"]


def check_cloud(x: Tensor, name: str = "points", dims: int | None = None) -> None:
    """Raise ValueError unless ``x`` is a floating ``(B, N, D)`` tensor (with ``D == dims`` when given)."""
    if not isinstance(x, Tensor) or x.dim() != 3 or not x.is_floating_point():
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a floating tensor of shape (B, N, D); got {shape}")
    if dims is not None and x.shape[-1] != dims:
        raise ValueError(f"{name} must have shape (B, N, {dims}); got {tuple(x.shape)}")


def square_distance(a: Tensor, b: Tensor) -> Tensor:
    """``(B, N, M)`` squared Euclidean distances between ``a: (B, N, D)`` and ``b: (B, M, D)``, through
    ``|a|^2 + |b|^2 - 2 a.b`` (one batched matmul), clamped at 0 against round-off."""
    d = (a * a).sum(-1, keepdim=True) + (b * b).sum(-1).unsqueeze(1) - 2 * a @ b.transpose(1, 2)
    return d.clamp_min_(0) if not d.requires_grad else d.clamp_min(0)


@torch.no_grad()
def farthest_point_sample(x: Tensor, m: int, start: int | Tensor | str = 0) -> Tensor:
    """Indices ``(B, m)`` of ``m`` points chosen by farthest point sampling (the notes' procedure).

    S starts as ``{x[start]}``; every step moves into S the remaining point whose distance to its nearest
    point in S is largest. We keep, for every point, its distance to S (``(B, N)``) and lower it with the
    newly added point each step: O(N m) time and O(N) memory, never the N x N matrix. Deterministic given
    ``start`` (an int, or a ``(B,)`` tensor of start indices); ties go to the lowest index.
    ``start="farthest"`` starts from the point farthest from the centroid, which does not depend on the order
    of the points: the sample is then the same set for any permutation of the input (up to exact ties).
    """
    check_cloud(x)
    b, n, _ = x.shape
    if not 1 <= m <= n:
        raise ValueError(f"farthest_point_sample: m must be in [1, N={n}]; got {m}")
    idx = torch.empty(b, m, dtype=torch.long, device=x.device)
    rows = torch.arange(b, device=x.device)
    if isinstance(start, str):
        if start != "farthest":
            raise ValueError(f"farthest_point_sample: start must be an index or 'farthest'; got {start!r}")
        far = ((x - x.mean(1, keepdim=True)) ** 2).sum(-1).argmax(-1)
    else:
        far = torch.as_tensor(start, dtype=torch.long, device=x.device).expand(b).clone()
    dist = torch.full((b, n), float("inf"), dtype=x.dtype, device=x.device)
    for i in range(m):
        idx[:, i] = far
        centre = x[rows, far].unsqueeze(1)  # (B, 1, D)
        dist = torch.minimum(dist, ((x - centre) ** 2).sum(-1))
        far = dist.argmax(-1)
    return idx


def index_points(x: Tensor, idx: Tensor) -> Tensor:
    """Gather ``x: (B, N, C)`` at ``idx: (B, ...)`` -> ``(B, ..., C)`` (differentiable in ``x``)."""
    b = x.shape[0]
    flat = idx.reshape(b, -1)
    out = torch.gather(x, 1, flat.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
    return out.reshape(*idx.shape, x.shape[-1])


@torch.no_grad()
def knn(query: Tensor, ref: Tensor, k: int, chunk: int = 1024) -> tuple[Tensor, Tensor]:
    """The ``k`` nearest points of ``ref: (B, N, D)`` to each point of ``query: (B, M, D)``.

    Returns ``(dist2, idx)``, both ``(B, M, k)``, sorted by increasing squared distance (a query point that
    is also in ``ref`` finds itself first). Computed ``chunk`` query rows at a time: memory O(B chunk N)."""
    check_cloud(query, "query")
    check_cloud(ref, "ref", query.shape[-1])
    if not 1 <= k <= ref.shape[1]:
        raise ValueError(f"knn: k must be in [1, N={ref.shape[1]}]; got {k}")
    ds, ids = [], []
    for s in range(0, query.shape[1], chunk):
        d, i = square_distance(query[:, s:s + chunk], ref).topk(k, dim=-1, largest=False, sorted=True)
        ds.append(d)
        ids.append(i)
    return torch.cat(ds, 1), torch.cat(ids, 1)


def nearest_neighbour(a: Tensor, b: Tensor, chunk: int = 2048) -> tuple[Tensor, Tensor]:
    """For each point of ``a: (B, N, D)``, the squared distance to its nearest point in ``b: (B, M, D)`` and
    that point's index, both ``(B, N)``. The index search runs without autograd in chunks; the distance is
    then recomputed from the gathered neighbours, so its gradient (flowing into ``a`` and ``b``) needs O(N)
    memory, not O(N M) (the gradient of a minimum is the gradient of the term that attains it)."""
    _, idx = knn(a.detach(), b.detach(), 1, chunk)
    idx = idx.squeeze(-1)
    return ((a - index_points(b, idx)) ** 2).sum(-1), idx


@torch.no_grad()
def ball_query(query: Tensor, ref: Tensor, radius: float, k: int, chunk: int = 1024) -> Tensor:
    """Up to ``k`` points of ``ref`` within ``radius`` of each query point: indices ``(B, M, k)``.

    PointNet++'s CUDA kernel takes the first ``k`` in-ball points in index order, which depends on how the
    points happen to be ordered; we take the ``k`` nearest in-ball points (sorted by distance), so grouping
    commutes with permutations of ``ref``. When fewer than ``k`` fall inside, the nearest one fills the
    remaining slots (as the kernel repeats its first); a query with no point inside (possible only if the
    query is not in ``ref``) gets its nearest neighbour in every slot."""
    check_cloud(query, "query")
    check_cloud(ref, "ref", query.shape[-1])
    n = ref.shape[1]
    if not 1 <= k <= n or radius <= 0:
        raise ValueError(f"ball_query: need 1 <= k <= N={n} and radius > 0; got k={k}, radius={radius}")
    out = []
    for s in range(0, query.shape[1], chunk):
        d = square_distance(query[:, s:s + chunk], ref)
        dk, idx = d.topk(k, dim=-1, largest=False, sorted=True)
        out.append(torch.where(dk <= radius * radius, idx, idx[..., :1]))
    return torch.cat(out, 1)


def group(x: Tensor, idx: Tensor, centres: Tensor | None = None) -> Tensor:
    """Gather neighbourhoods: ``x: (B, N, C)`` at ``idx: (B, M, k)`` -> ``(B, M, k, C)``; with ``centres:
    (B, M, C)`` each neighbourhood is translated to its centre's frame (``x_j - c_i``)."""
    g = index_points(x, idx)
    return g - centres.unsqueeze(2) if centres is not None else g
