"""Clustering and regularisation losses of module 5, each next to its formula.

Clustering losses (Aljalbout et al. 2018, "Clustering with Deep Learning: Taxonomy and New Methods"):

* :func:`kmeans_loss`: hard assignment, ``L = (1/N) sum_i min_k ||z_i - mu_k||^2`` (Yang et al. 2016a);
  the binary ``s_ik`` of the notes is replaced by a ``min`` over a broadcast distance matrix.
* :func:`soft_assignment`: Student-t kernel ``q_ij`` (Xie, Girshick & Farhadi 2016, eq. 1).
* :func:`target_distribution`: the sharpened ``p_ij`` (Xie et al. 2016, eq. 3).
* :func:`kl_clustering_loss`: ``KL(P || Q)`` (Xie et al. 2016, eq. 2), the cluster-hardening loss.

Non-clustering regularisers:

* :func:`balance_loss`: ``KL(G || U)`` with ``g_k = (1/N) sum_i q_ik`` (Aljalbout et al. 2018).
* :func:`cluster_size_prior_loss` / :func:`zipf_prior`: ``KL(G || F)`` with ``F`` a Zipf law on ranks.
* :func:`locality_loss`: ``sum_i sum_{j in N_k(i)} s(x_i, x_j) ||z_i - z_j||^2`` (Aljalbout et al. 2018).
* :func:`self_augmentation_loss`: ``-(1/N) sum s(f(x), f(T(x)))`` (Hu et al. 2017); ``T`` is
  :func:`deepcourse.data.transforms.shift_and_noise`.
* :func:`reconstruction_loss` and :func:`alpha_schedule`: the taxonomy's ``alpha L_c + (1 - alpha) L_n``
  with alpha pretrain-then-finetune, joint or ramped (Aljalbout et al. 2018, Sec. 2.3).
* :func:`idec_loss`: IDEC's own objective ``L = L_r + gamma L_c`` with gamma = 0.1 (Guo et al. 2017, Sec. 3).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "pairwise_sq_dists", "kmeans_loss", "soft_assignment", "target_distribution", "kl_clustering_loss",
    "cluster_distribution", "balance_loss", "zipf_prior", "cluster_size_prior_loss", "knn_graph",
    "locality_loss", "self_augmentation_loss", "reconstruction_loss", "idec_loss", "alpha_schedule",
    "ALPHA_SCHEDULES",
]

_EPS = 1e-12


def _check_zm(z: Tensor, mu: Tensor) -> None:
    if not isinstance(z, Tensor) or not isinstance(mu, Tensor):
        raise TypeError(f"z and centroids must be tensors, got {type(z).__name__} and {type(mu).__name__}")
    if z.ndim != 2 or mu.ndim != 2 or z.shape[1] != mu.shape[1]:
        raise ValueError(f"z must be (N, d) and centroids (K, d) with the same d, got {tuple(z.shape)} and "
                         f"{tuple(mu.shape)}")


def pairwise_sq_dists(z: Tensor, mu: Tensor) -> Tensor:
    """``||z_i - mu_k||^2`` for all pairs by broadcasting, shape (N, K)."""
    _check_zm(z, mu)
    return ((z[:, None, :] - mu[None, :, :]) ** 2).sum(-1)  # (N, 1, d) - (1, K, d) -> (N, K)


def kmeans_loss(z: Tensor, mu: Tensor) -> Tensor:
    """Hard k-means loss ``(1/N) sum_i min_k ||z_i - mu_k||^2`` (Yang et al. 2016a; notes, Q1).

    The ``min`` picks the assignment ``s_ik`` implicitly; its gradient flows only to the nearest
    centroid, and it jumps when a point changes cluster: the discontinuity the notes warn about.
    """
    return pairwise_sq_dists(z, mu).min(dim=1).values.mean()


def soft_assignment(z: Tensor, mu: Tensor, nu: float = 1.0) -> Tensor:
    """Student-t soft assignment (Xie et al. 2016, eq. 1; van der Maaten & Hinton 2008):

    ``q_ij = (1 + ||z_i - mu_j||^2 / nu)^(-(nu+1)/2) / sum_j' (1 + ||z_i - mu_j'||^2 / nu)^(-(nu+1)/2)``.

    ``nu``: degrees of freedom (the paper fixes 1). Computed in log space then softmax-normalised,
    so that far points do not underflow to 0/0.
    """
    if not isinstance(nu, (int, float)) or isinstance(nu, bool) or not nu > 0:
        raise ValueError(f"nu must be a number > 0, got {nu!r}")
    d2 = pairwise_sq_dists(z, mu)  # (N, K)
    logits = -(nu + 1.0) / 2.0 * torch.log1p(d2 / nu)  # log of the unnormalised kernel
    return torch.softmax(logits, dim=1)  # (N, K), rows sum to 1


def _check_q(q: Tensor, name: str = "q") -> None:
    if not isinstance(q, Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(q).__name__}")
    if q.ndim != 2:
        raise ValueError(f"{name} must be (N, K) soft assignments, got shape {tuple(q.shape)}")


def target_distribution(q: Tensor) -> Tensor:
    """The auxiliary target of Xie et al. (2016, eq. 3): ``p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j')``.

    ``f_j = sum_i q_ij`` is the soft cluster frequency: squaring sharpens each row (purity), and dividing
    by ``f_j`` stops large clusters from distorting the space. Returned without gradient (a fixed target).
    """
    _check_q(q)
    q = q.detach()
    w = q ** 2 / q.sum(dim=0, keepdim=True).clamp_min(_EPS)  # (N, K)
    return w / w.sum(dim=1, keepdim=True).clamp_min(_EPS)


def kl_clustering_loss(p: Tensor, q: Tensor) -> Tensor:
    """``KL(P || Q) = sum_i sum_j p_ij log(p_ij / q_ij)`` averaged over the N samples (Xie et al. 2016, eq. 2).

    Terms with ``p_ij = 0`` contribute 0 (the 0 log 0 = 0 convention).
    """
    _check_q(p, "p")
    _check_q(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {tuple(p.shape)} and {tuple(q.shape)}")
    terms = torch.where(p > 0, p * (torch.log(p.clamp_min(_EPS)) - torch.log(q.clamp_min(_EPS))), torch.zeros_like(p))
    return terms.sum() / p.shape[0]


def cluster_distribution(q: Tensor) -> Tensor:
    """``g_k = P(y = k) = (1/N) sum_i q_ik`` (Aljalbout et al. 2018), shape (K,)."""
    _check_q(q)
    return q.mean(dim=0)


def balance_loss(q: Tensor) -> Tensor:
    """``KL(G || U) = sum_k g_k log(g_k K)``: 0 when clusters are used equally (Aljalbout et al. 2018)."""
    g = cluster_distribution(q)
    return (g * (torch.log(g.clamp_min(_EPS)) + math.log(q.shape[1]))).sum()


def zipf_prior(k: int, s: float = 1.0) -> Tensor:
    """Zipf's law on ranks: ``f(r; s, K) = r^-s / sum_n n^-s`` for r = 1..K (largest first), shape (K,)."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    if not s >= 0:
        raise ValueError(f"s must be >= 0, got {s!r}")
    w = torch.arange(1, k + 1, dtype=torch.float64) ** (-float(s))
    return w / w.sum()


def cluster_size_prior_loss(q: Tensor, prior: Tensor) -> Tensor:
    """``KL(G_sorted || F)``: the cluster-size distribution, ranked largest first, against a prior ``F``.

    Ranking (sort) makes the prior say *how unequal* the sizes are without fixing which cluster is large;
    with ``F`` uniform this equals :func:`balance_loss`.
    """
    g = cluster_distribution(q)
    if prior.shape != g.shape:
        raise ValueError(f"prior must have one entry per cluster ({g.shape[0]}), got shape {tuple(prior.shape)}")
    g_sorted = torch.sort(g, descending=True).values
    f = prior.to(g)
    return (g_sorted * (torch.log(g_sorted.clamp_min(_EPS)) - torch.log(f.clamp_min(_EPS)))).sum()


def knn_graph(x: Tensor, k: int, chunk: int = 2048) -> tuple[Tensor, Tensor]:
    """The ``k`` nearest neighbours of every row of ``x`` (itself excluded) and their similarities.

    Returns ``(idx (N, k) int64, sim (N, k))`` with the heat kernel ``s = exp(-d^2 / sigma^2)``, sigma^2
    the median neighbour distance^2 (a scale-free choice in (0, 1]). Brute force in row chunks
    (``||a||^2 - 2 a.b + ||b||^2`` as one matmul per chunk), so memory stays at ``chunk x N``.
    """
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k < len(x):
        raise ValueError(f"k must be an int in [1, N-1] = [1, {len(x) - 1}], got {k!r}")
    xs = x.detach().flatten(1).float()
    sq = (xs ** 2).sum(1)  # (N,)
    ds, ids = [], []
    for i in range(0, len(xs), chunk):
        d2 = sq[i:i + chunk, None] - 2 * xs[i:i + chunk] @ xs.T + sq[None, :]  # (c, N)
        rows = torch.arange(i, min(i + chunk, len(xs)), device=xs.device)
        d2[rows - i, rows] = float("inf")  # a point is not its own neighbour
        v, j = torch.topk(d2, k, dim=1, largest=False)  # (c, k)
        ds.append(v.clamp_min(0))
        ids.append(j)
    d2, idx = torch.cat(ds), torch.cat(ids)  # (N, k)
    sigma2 = d2.median().clamp_min(_EPS)
    return idx, torch.exp(-d2 / sigma2)


def locality_loss(z: Tensor, z_neighbours: Tensor, sim: Tensor) -> Tensor:
    """Locality preservation (Aljalbout et al. 2018): ``(1/N) sum_i sum_{j in N_k(i)} s_ij ||z_i - z_j||^2``.

    ``z``: (N, d); ``z_neighbours``: (N, k, d) embeddings of each point's input-space neighbours;
    ``sim``: (N, k) similarities ``s(x_i, x_j)`` in (0, 1].
    """
    if z_neighbours.ndim != 3 or z_neighbours.shape[0] != z.shape[0] or z_neighbours.shape[2] != z.shape[1]:
        raise ValueError(f"z_neighbours must be (N, k, d) = ({z.shape[0]}, k, {z.shape[1]}), got {tuple(z_neighbours.shape)}")
    if sim.shape != z_neighbours.shape[:2]:
        raise ValueError(f"sim must be (N, k) = {tuple(z_neighbours.shape[:2])}, got {tuple(sim.shape)}")
    d2 = ((z[:, None, :] - z_neighbours) ** 2).sum(-1)  # (N, k)
    return (sim * d2).sum(1).mean()


def self_augmentation_loss(a: Tensor, b: Tensor) -> Tensor:
    """``-(1/N) sum_i s(f(x_i), f(T(x_i)))`` with ``s`` the cosine similarity (Hu et al. 2017).

    ``a``, ``b``: (N, d) representations (embeddings, or soft assignments q) of x and of T(x).
    Minimum -1 when every pair points the same way; cosine ignores scale, so shrinking all
    embeddings to 0 cannot lower it.
    """
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"a and b must be (N, d) of the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return -torch.nn.functional.cosine_similarity(a, b, dim=1, eps=1e-8).mean()


def reconstruction_loss(x: Tensor, x_rec: Tensor) -> Tensor:
    """Autoencoder reconstruction ``(1/N) sum_i ||x_i - g(f(x_i))||^2`` (IDEC, Guo et al. 2017, eq. 7)."""
    if x.shape != x_rec.shape:
        raise ValueError(f"x and x_rec must have the same shape, got {tuple(x.shape)} and {tuple(x_rec.shape)}")
    return ((x - x_rec) ** 2).flatten(1).sum(1).mean()


def idec_loss(p: Tensor, q: Tensor, x: Tensor, x_rec: Tensor, gamma: float = 0.1) -> Tensor:
    r"""IDEC (Guo, Gao, Liu & Yin 2017, Sec. 3): :math:`L = L_r + \gamma L_c` with :math:`\gamma = 0.1`.

    :math:`L_c = \mathrm{KL}(P \Vert Q)` per sample (:func:`kl_clustering_loss`) and :math:`L_r` the
    reconstruction error of the *kept* decoder, as the authors' code computes it: squared error averaged over
    the features and the batch (Keras ``mse``). The reconstruction term stays at full weight and the
    clustering term is the small correction, so the embedding cannot drift far from what reconstructs the
    data (the "local structure preservation" of the title); DEC is the limit without :math:`L_r`.
    """
    if not gamma >= 0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    if x.shape != x_rec.shape:
        raise ValueError(f"x and x_rec must have the same shape, got {tuple(x.shape)} and {tuple(x_rec.shape)}")
    return ((x_rec - x) ** 2).mean() + gamma * kl_clustering_loss(p, q)


ALPHA_SCHEDULES = ("pretrain-then-finetune", "joint", "ramp")


def alpha_schedule(kind: str, step: int, total: int, alpha: float = 0.5, warmup: int = 0) -> float:
    """Weight ``alpha`` of ``L = alpha L_c + (1 - alpha) L_n`` at ``step`` (Aljalbout et al. 2018, Sec. 2.3).

    * ``pretrain-then-finetune``: 0 for ``step < warmup`` (non-clustering loss only), then 1.
    * ``joint``: the constant ``alpha``. IDEC's ``L_r + gamma L_c`` (:func:`idec_loss`) is this form with
      alpha = gamma / (1 + gamma) = 1/11, times 1 + gamma.
    * ``ramp``: grows linearly from 0 to ``alpha`` over ``warmup`` steps (or over ``total`` when warmup = 0).
    """
    if kind not in ALPHA_SCHEDULES:
        raise ValueError(f"schedule must be one of {ALPHA_SCHEDULES}, got {kind!r}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if step < 0 or total < 1 or warmup < 0:
        raise ValueError(f"need step >= 0, total >= 1, warmup >= 0; got step={step}, total={total}, warmup={warmup}")
    if kind == "pretrain-then-finetune":
        return 0.0 if step < warmup else 1.0
    if kind == "joint":
        return float(alpha)
    span = warmup if warmup > 0 else total
    return float(alpha) * min(1.0, step / span)
