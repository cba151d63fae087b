r"""Losses and metrics on point sets: Chamfer distance (the L1 and L2 forms PoinTr reports), F-score, an
approximate Earth Mover's distance (Sinkhorn), and PointNet's transform regulariser.

With :math:`d_1(p) = \min_{g \in G} \|p - g\|^2` for each predicted point and :math:`d_2(g) = \min_{p \in P}
\|g - p\|^2` for each ground-truth point (Fan, Su, Guibas 2017; the notes' :math:`J_0`, :math:`J_1`):

.. math::
    \mathrm{CD}_{L2}(P, G) = \tfrac{1}{|P|}\textstyle\sum_p d_1(p) + \tfrac{1}{|G|}\sum_g d_2(g), \qquad
    \mathrm{CD}_{L1}(P, G) = \tfrac12\big(\tfrac{1}{|P|}\sum_p \sqrt{d_1(p)} + \tfrac{1}{|G|}\sum_g \sqrt{d_2(g)}\big)

(Yu et al. 2021, PoinTr, Sec. 4; the notes' :math:`d_{CD}` is twice CD-L1). The nearest neighbours in both
directions are found in one chunked pass over the distance matrix without autograd, and the distances recomputed
from them (the gradient of a minimum is the gradient of the term that attains it), so 16k x 16k clouds fit in
memory in the forward and the backward pass; no open3d or compiled kernel.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .ops import check_cloud, index_points, square_distance

__all__ = ["chamfer_terms", "chamfer_distance", "chamfer_l1", "chamfer_l2", "f_score", "sinkhorn_emd",
           "transform_regulariser"]


def chamfer_terms(p: Tensor, g: Tensor, chunk: int = 256) -> tuple[Tensor, Tensor]:
    """``d1: (B, |P|)`` squared distance of each predicted point to G, ``d2: (B, |G|)`` of each GT point to P."""
    check_cloud(p, "prediction")
    check_cloud(g, "ground truth", p.shape[-1])
    if p.shape[0] != g.shape[0]:
        raise ValueError(f"prediction and ground truth need the same batch size; got {p.shape[0]} and {g.shape[0]}")
    idx1, idx2 = _nearest_both_ways(p.detach(), g.detach(), chunk)
    return ((p - index_points(g, idx1)) ** 2).sum(-1), ((g - index_points(p, idx2)) ** 2).sum(-1)


@torch.no_grad()
def _nearest_both_ways(p: Tensor, g: Tensor, chunk: int) -> tuple[Tensor, Tensor]:
    """Nearest-neighbour indices P -> G ``(B, |P|)`` and G -> P ``(B, |G|)`` from one pass over the distance
    matrix, ``chunk`` rows of P at a time: row minima give the first, a running column minimum the second."""
    idx1 = []
    best = torch.full(g.shape[:2], float("inf"), dtype=p.dtype, device=p.device)
    idx2 = torch.zeros(g.shape[:2], dtype=torch.long, device=p.device)
    for s in range(0, p.shape[1], chunk):
        d = square_distance(p[:, s:s + chunk], g)
        idx1.append(d.argmin(2))
        col, arg = d.min(1)
        better = col < best
        best = torch.where(better, col, best)
        idx2 = torch.where(better, arg + s, idx2)
    return torch.cat(idx1, 1), idx2


def chamfer_distance(p: Tensor, g: Tensor, kind: str = "l1", reduction: str = "mean", chunk: int = 256) -> Tensor:
    """CD-L1 (``kind="l1"``) or CD-L2 (``"l2"``) between ``p: (B, N, D)`` and ``g: (B, M, D)``, per cloud
    ``(B,)`` with ``reduction="none"``, else their mean. ``chunk``: rows of the distance matrix per step (256 keeps
    each block in cache: 4x faster than the dense matrix at 2,048 x 2,048 on one CPU thread)."""
    d1, d2 = chamfer_terms(p, g, chunk)
    if kind == "l2":
        cd = d1.mean(1) + d2.mean(1)
    elif kind == "l1":  # sqrt has an infinite slope at 0: clamp so a perfect match gives a zero gradient
        cd = (d1.clamp_min(1e-12).sqrt().mean(1) + d2.clamp_min(1e-12).sqrt().mean(1)) / 2
    else:
        raise ValueError(f"chamfer_distance: kind must be 'l1' or 'l2'; got {kind!r}")
    if reduction == "none":
        return cd
    if reduction == "mean":
        return cd.mean()
    raise ValueError(f"reduction must be 'mean' or 'none'; got {reduction!r}")


def chamfer_l1(p: Tensor, g: Tensor, reduction: str = "mean") -> Tensor:
    return chamfer_distance(p, g, "l1", reduction)


def chamfer_l2(p: Tensor, g: Tensor, reduction: str = "mean") -> Tensor:
    return chamfer_distance(p, g, "l2", reduction)


@torch.no_grad()
def f_score(p: Tensor, g: Tensor, threshold: float = 0.01, reduction: str = "mean") -> Tensor:
    r"""F-score at distance ``threshold`` (Tatarchenko et al. 2019; PoinTr reports F-Score@1%):
    precision = share of predicted points within ``threshold`` of G, recall = share of G within ``threshold``
    of P, :math:`F = 2PR / (P + R)` (0 when both are 0)."""
    d1, d2 = chamfer_terms(p, g)
    prec = (d1 < threshold ** 2).float().mean(1)
    rec = (d2 < threshold ** 2).float().mean(1)
    f = torch.where(prec + rec > 0, 2 * prec * rec / (prec + rec).clamp_min(1e-12), torch.zeros_like(prec))
    return f.mean() if reduction == "mean" else f


def sinkhorn_emd(p: Tensor, g: Tensor, eps: float = 0.01, iters: int = 100) -> Tensor:
    r"""Approximate Earth Mover's distance ``(B,)``: entropic optimal transport (Cuturi 2013) between the
    uniform measures on ``p: (B, N, D)`` and ``g: (B, M, D)`` with cost :math:`\|p_i - g_j\|`, solved by
    log-domain Sinkhorn iterations; returns :math:`\sum_{ij} T_{ij} C_{ij}` for the plan T. As ``eps -> 0`` it
    tends to the exact EMD (the mean matched distance when N = M). For evaluation: memory O(N M)."""
    check_cloud(p, "prediction")
    check_cloud(g, "ground truth", p.shape[-1])
    c = square_distance(p, g).clamp_min(1e-12).sqrt()
    n, m = c.shape[1], c.shape[2]
    log_a, log_b = -math.log(n), -math.log(m)
    f = torch.zeros(c.shape[0], n, device=c.device, dtype=c.dtype)
    h = torch.zeros(c.shape[0], m, device=c.device, dtype=c.dtype)
    for _ in range(iters):
        f = -eps * torch.logsumexp((h.unsqueeze(1) - c) / eps + log_b, dim=2)
        h = -eps * torch.logsumexp((f.unsqueeze(2) - c) / eps + log_a, dim=1)
    plan = torch.exp((f.unsqueeze(2) + h.unsqueeze(1) - c) / eps + log_a + log_b)
    return (plan * c).sum((1, 2))


def transform_regulariser(a: Tensor) -> Tensor:
    r"""PointNet's orthogonality penalty :math:`\|I - A A^\top\|_F^2` (Qi et al. 2017, eq. 2), mean over the
    batch of ``a: (B, K, K)``."""
    if a.dim() != 3 or a.shape[1] != a.shape[2]:
        raise ValueError(f"transform_regulariser: expected (B, K, K) matrices; got {tuple(a.shape)}")
    eye = torch.eye(a.shape[1], device=a.device, dtype=a.dtype)
    return ((eye - a @ a.transpose(1, 2)) ** 2).sum((1, 2)).mean()
