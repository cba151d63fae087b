"""Deep Embedded Clustering (Xie, Girshick & Farhadi 2016) and its regularised variants.

Pipeline (Xie et al. 2016, Sec. 3):

1. Pretrain a stacked denoising autoencoder (:mod:`deepcourse.autoencoders.stacked`); keep the encoder f.
2. Initialise K centroids by k-means on the codes ``z = f(x)``, best of 20 restarts (Sec. 3.2).
3. Repeat: every ``update_interval`` iterations recompute the soft assignments Q of all points (eq. 1)
   and the sharpened target P (eq. 3); in between, SGD on ``KL(P || Q)`` (eq. 2) over mini-batches,
   updating the encoder and the centroids together (eq. 4-5 give the gradients; autograd computes them).
4. Stop when fewer than ``tol`` (a fraction; the paper's 0.1 %) of the points changed cluster between
   two target updates, or after ``max_iter`` iterations.

``train_encoder=False`` is the paper's "DEC w/o backprop" ablation: the encoder is frozen and only the
centroids move. :class:`Regularisers` adds the non-clustering terms of the notes (Aljalbout et al. 2018):
reconstruction (IDEC, Guo et al. 2017: its own ``L_r + gamma L_c``, or the taxonomy's alpha schedule),
balanced or Zipf cluster sizes,
locality preservation over input-space nearest neighbours, and self-augmentation (Hu et al. 2017).
Everything is batched: no Python loop runs over samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor, nn

from deepcourse.autoencoders import encode_batched
from deepcourse.data.transforms import shift_and_noise
from deepcourse.metrics import cluster_acc, nmi

from . import losses as L

__all__ = ["ClusteringLayer", "Regularisers", "DECResult", "kmeans_init", "fit_dec", "most_confident"]


class ClusteringLayer(nn.Module):
    """The K trainable centroids ``mu_j`` and the Student-t soft assignment (Xie et al. 2016, eq. 1)."""

    def __init__(self, centroids: Tensor, nu: float = 1.0):
        super().__init__()
        if centroids.ndim != 2:
            raise ValueError(f"centroids must be (K, d), got shape {tuple(centroids.shape)}")
        if not nu > 0:
            raise ValueError(f"nu must be > 0, got {nu!r}")
        self.centroids = nn.Parameter(centroids.detach().clone().float())
        self.nu = float(nu)

    def forward(self, z: Tensor) -> Tensor:
        return L.soft_assignment(z, self.centroids, self.nu)  # (N, K)


@dataclass
class Regularisers:
    """Optional non-clustering terms added to the DEC loss (weights 0 = off).

    ``reconstruction``: keep the decoder and train it too. With ``gamma`` set, the loss is IDEC's own
    ``L_rec + gamma L_KL`` (Guo et al. 2017; :func:`losses.idec_loss`, gamma = 0.1 in the paper); without,
    the taxonomy's ``alpha(t) L_KL + (1 - alpha(t)) L_rec`` (Aljalbout et al. 2018) with ``alpha(t)`` from
    :func:`losses.alpha_schedule` (``schedule``, ``alpha``, ``warmup``). ``L_rec`` is the per-feature mean
    squared error in both. The other terms are added as ``weight * term``.
    """

    reconstruction: bool = False
    gamma: float | None = None
    schedule: str = "joint"
    alpha: float = 0.5
    warmup: int = 0
    balance: float = 0.0
    zipf: float = 0.0
    zipf_s: float = 1.0
    locality: float = 0.0
    locality_k: int = 5
    self_augmentation: float = 0.0
    image_shape: tuple[int, int] | None = None
    augment_shift: int = 1
    augment_noise: float = 0.05

    def validate(self) -> None:
        for name in ("balance", "zipf", "locality", "self_augmentation"):
            v = getattr(self, name)
            if not v >= 0:
                raise ValueError(f"Regularisers.{name} must be >= 0, got {v!r}")
        if self.schedule not in L.ALPHA_SCHEDULES:
            raise ValueError(f"Regularisers.schedule must be one of {L.ALPHA_SCHEDULES}, got {self.schedule!r}")
        if self.self_augmentation > 0 and self.image_shape is None:
            raise ValueError("Regularisers.image_shape (H, W) is needed for self_augmentation > 0")
        if self.gamma is not None and not self.gamma >= 0:
            raise ValueError(f"Regularisers.gamma must be >= 0 or None, got {self.gamma!r}")
        if self.locality > 0 and self.locality_k < 1:
            raise ValueError(f"Regularisers.locality_k must be >= 1, got {self.locality_k}")

    @property
    def any(self) -> bool:
        return self.reconstruction or self.balance > 0 or self.zipf > 0 or self.locality > 0 or self.self_augmentation > 0


@dataclass
class DECResult:
    """What :func:`fit_dec` returns. ``history``: one record per target update with ``iteration``,
    ``acc`` and ``nmi`` (when labels were given), ``changed`` (fraction of points that switched
    cluster since the last update) and ``loss`` (mean mini-batch loss since the last update).
    ``snapshots``: ``(iteration, z, y_pred)`` of a fixed random subset, for latent-space figures."""

    y_pred: Tensor
    q: Tensor
    z: Tensor
    centroids: Tensor
    history: list[dict[str, float]] = field(default_factory=list)
    snapshots: list[tuple[int, Tensor, Tensor]] = field(default_factory=list)
    iterations: int = 0
    converged: bool = False


def kmeans_init(z: Tensor, n_clusters: int, n_init: int = 20, seed: int = 0) -> tuple[Tensor, Tensor]:
    """k-means (Lloyd, k-means++ seeding) on the codes, best of ``n_init`` restarts (Xie et al. 2016, Sec. 3.2).

    Returns ``(centroids (K, d) float32, labels (N,) int64)``.
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    if not isinstance(n_clusters, int) or isinstance(n_clusters, bool) or not 1 <= n_clusters <= len(z):
        raise ValueError(f"n_clusters must be an int in [1, N={len(z)}], got {n_clusters!r}")
    if n_init < 1:
        raise ValueError(f"n_init must be >= 1, got {n_init}")
    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed)
    # as many OpenMP threads as torch uses: scikit-learn's default (every core) spin-waits for busy cores and
    # ran 3x slower on a loaded 2-core machine
    with threadpool_limits(torch.get_num_threads()):
        labels = km.fit_predict(z.detach().cpu().double().numpy())
    return torch.from_numpy(km.cluster_centers_).float(), torch.from_numpy(labels).long()


def most_confident(q: Tensor, per_cluster: int = 10) -> Tensor:
    """Indices of the ``per_cluster`` points with the highest ``q_ij`` among those assigned to cluster j,
    shape (K, per_cluster); -1 pads clusters with fewer members (Xie et al. 2016, Fig. 4)."""
    y = q.argmax(1)  # (N,)
    k = q.shape[1]
    score = torch.where(nn.functional.one_hot(y, k).bool(), q, torch.full_like(q, -1.0))  # (N, K)
    top = torch.topk(score, min(per_cluster, q.shape[0]), dim=0)  # values/indices (m, K)
    idx = torch.where(top.values >= 0, top.indices, torch.full_like(top.indices, -1))
    return idx.T.contiguous()  # (K, m)


def _evaluate(y_true: Tensor | None, y_pred: Tensor) -> dict[str, float]:
    if y_true is None:
        return {}
    return {"acc": cluster_acc(y_true, y_pred), "nmi": nmi(y_true, y_pred)}


def fit_dec(
    encoder: nn.Module,
    x: Tensor,
    n_clusters: int,
    *,
    y: Tensor | None = None,
    centroids: Tensor | None = None,
    nu: float = 1.0,
    lr: float = 0.01,
    momentum: float = 0.9,
    optimizer: str = "sgd",
    batch_size: int = 256,
    update_interval: int = 140,
    tol: float = 0.001,
    max_iter: int = 20_000,
    train_encoder: bool = True,
    n_init: int = 20,
    decoder: nn.Module | None = None,
    regularisers: Regularisers | None = None,
    snapshot_every: int = 0,
    snapshot_size: int = 2000,
    seed: int = 0,
    run: Any = None,
    log_prefix: str = "dec/",
    desc: str = "DEC",
) -> DECResult:
    """Train DEC (Xie et al. 2016, Sec. 3.1-3.2) on ``x`` (N, ...) from a pretrained ``encoder``.

    ``centroids``: initial (K, d) centroids; default k-means with ``n_init`` restarts on ``encoder(x)``.
    ``tol``: stop when the fraction of changed labels between two target updates is below it.
    ``train_encoder=False``: "DEC w/o backprop" (only the centroids move; the codes are computed once).
    ``optimizer``: ``"sgd"`` (with ``momentum``; DEC's) or ``"adam"`` (IDEC's code on MNIST, lr 1e-3).
    ``y``: labels, used only to log ACC/NMI in the history (never for training).
    ``snapshot_every``: keep the latent codes of ``snapshot_size`` fixed points every that many target
    updates (0 = only the first and the last).
    """
    for name, v, lo in (("batch_size", batch_size, 1), ("update_interval", update_interval, 1), ("max_iter", max_iter, 0)):
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    if not 0.0 <= tol < 1.0:
        raise ValueError(f"tol must be a fraction in [0, 1), got {tol!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    regs = regularisers or Regularisers()
    regs.validate()
    if regs.reconstruction and decoder is None:
        raise ValueError("Regularisers.reconstruction needs a decoder")
    if regs.reconstruction and not train_encoder:
        raise ValueError("Regularisers.reconstruction needs train_encoder=True (a frozen encoder cannot trade off)")
    if (regs.locality > 0 or regs.self_augmentation > 0) and not train_encoder:
        raise ValueError("locality and self-augmentation act on the encoder: use train_encoder=True")

    x = x.flatten(1)
    n = len(x)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    encoder.eval()  # no dropout in the DEC stage (the paper fine-tunes without corruption)
    z0 = encode_batched(encoder, x)
    if centroids is None:
        centroids, _ = kmeans_init(z0, n_clusters, n_init=n_init, seed=seed)
    if centroids.shape != (n_clusters, z0.shape[1]):
        raise ValueError(f"centroids must be (n_clusters, d) = ({n_clusters}, {z0.shape[1]}), got {tuple(centroids.shape)}")
    head = ClusteringLayer(centroids.to(z0), nu)
    if train_encoder:
        enc: Callable[[Tensor], Tensor] = encoder
        data = x
        params = list(encoder.parameters()) + list(head.parameters())
        if regs.reconstruction:
            params += list(decoder.parameters())
    else:  # frozen encoder: the codes never change, so compute them once
        enc, data, params = (lambda t: t), z0, list(head.parameters())
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum) if optimizer == "sgd" else torch.optim.Adam(params, lr=lr)

    knn = L.knn_graph(x, regs.locality_k) if regs.locality > 0 else None
    prior = L.zipf_prior(n_clusters, regs.zipf_s) if regs.zipf > 0 else None
    snap_idx = torch.randperm(n, generator=g)[:snapshot_size]

    res = DECResult(y_pred=torch.empty(0), q=torch.empty(0), z=torch.empty(0), centroids=torch.empty(0))
    y_prev: Tensor | None = None
    p_all = torch.empty(0)
    order = torch.randperm(n, generator=g)
    pos, it, loss_sum, loss_count, n_update = 0, 0, 0.0, 0, 0
    bar = run.progress(total=max_iter, desc=desc) if run is not None else None

    def full_pass() -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            z_all = encode_batched(enc, data)  # (N, d)
            return z_all, head(z_all)  # (N, K)

    try:
        while True:
            if it % update_interval == 0:
                z_all, q_all = full_pass()
                p_all = L.target_distribution(q_all)  # (N, K), fixed until the next update
                y_pred = q_all.argmax(1)
                changed = 1.0 if y_prev is None else float((y_pred != y_prev).float().mean())
                rec = {"iteration": float(it), "changed": changed,
                       "loss": loss_sum / loss_count if loss_count else float("nan"), **_evaluate(y, y_pred)}
                res.history.append(rec)
                if run is not None:
                    run.log(it, **{f"{log_prefix}{k}": v for k, v in rec.items() if k != "iteration" and math.isfinite(v)})
                    if bar is not None:
                        bar.set_postfix(changed=f"{changed:.4f}", **({"acc": f"{rec['acc']:.3f}"} if "acc" in rec else {}),
                                        refresh=False)
                if n_update == 0 or (snapshot_every and n_update % snapshot_every == 0):
                    res.snapshots.append((it, z_all[snap_idx].clone(), y_pred[snap_idx].clone()))
                n_update += 1
                loss_sum, loss_count = 0.0, 0
                if y_prev is not None and changed < tol:
                    res.converged = True
                    break
                y_prev = y_pred
            if it >= max_iter:
                break
            if pos + batch_size > n:  # a new epoch: reshuffle
                order, pos = torch.randperm(n, generator=g), 0
            idx = order[pos:pos + batch_size]
            pos += batch_size
            xb = data[idx]
            if train_encoder:
                encoder.train()
            z = enc(xb)  # (B, d)
            q = head(z)  # (B, K)
            if regs.reconstruction and regs.gamma is not None:  # IDEC: L_r + gamma L_c
                loss = L.idec_loss(p_all[idx], q, xb, decoder(z), regs.gamma)
            elif regs.reconstruction:
                a = L.alpha_schedule(regs.schedule, it, max_iter, regs.alpha, regs.warmup)
                rec_loss = ((decoder(z) - xb) ** 2).mean()  # per-feature MSE, as IDEC's Keras code
                loss = a * L.kl_clustering_loss(p_all[idx], q) + (1.0 - a) * rec_loss
            else:
                loss = L.kl_clustering_loss(p_all[idx], q)
            if regs.balance > 0:
                loss = loss + regs.balance * L.balance_loss(q)
            if prior is not None:
                loss = loss + regs.zipf * L.cluster_size_prior_loss(q, prior)
            if knn is not None:
                nb_idx, sim = knn[0][idx], knn[1][idx]  # (B, k)
                z_nb = enc(data[nb_idx.reshape(-1)]).view(len(idx), nb_idx.shape[1], -1)  # (B, k, d)
                loss = loss + regs.locality * L.locality_loss(z, z_nb, sim)
            if regs.self_augmentation > 0:
                z_aug = enc(shift_and_noise(xb, regs.image_shape, regs.augment_shift, regs.augment_noise, g))  # (B, d)
                loss = loss + regs.self_augmentation * L.self_augmentation_loss(z, z_aug)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite DEC loss at iteration {it + 1}; lower lr (now {lr})")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            encoder.eval()
            loss_sum += float(loss.detach())
            loss_count += 1
            it += 1
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    z_all, q_all = full_pass()
    res.y_pred, res.q, res.z, res.centroids = q_all.argmax(1), q_all, z_all, head.centroids.detach().clone()
    if res.history[-1]["iteration"] != it:  # stopped at max_iter between two target updates: record the end
        changed = float((res.y_pred != y_prev).float().mean()) if y_prev is not None else 1.0
        res.history.append({"iteration": float(it), "changed": changed,
                            "loss": loss_sum / loss_count if loss_count else float("nan"), **_evaluate(y, res.y_pred)})
    if not res.snapshots or res.snapshots[-1][0] != it:
        res.snapshots.append((it, z_all[snap_idx].clone(), res.y_pred[snap_idx].clone()))
    res.iterations = it
    return res
