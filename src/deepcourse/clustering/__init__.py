"""Module 5: deep clustering (DEC, IDEC and the regularisers of the notes).

Experiments live in :mod:`deepcourse.clustering.experiments` (imported by the registry, not here).
"""

from __future__ import annotations

from .dec import ClusteringLayer, DECResult, Regularisers, fit_dec, kmeans_init, most_confident
from .losses import (
    ALPHA_SCHEDULES,
    alpha_schedule,
    augment_images,
    balance_loss,
    cluster_distribution,
    cluster_size_prior_loss,
    kl_clustering_loss,
    kmeans_loss,
    knn_graph,
    locality_loss,
    pairwise_sq_dists,
    reconstruction_loss,
    self_augmentation_loss,
    soft_assignment,
    target_distribution,
    zipf_prior,
)

__all__ = [
    "ClusteringLayer", "DECResult", "Regularisers", "fit_dec", "kmeans_init", "most_confident",
    "ALPHA_SCHEDULES", "alpha_schedule", "augment_images", "balance_loss", "cluster_distribution",
    "cluster_size_prior_loss", "kl_clustering_loss", "kmeans_loss", "knn_graph", "locality_loss",
    "pairwise_sq_dists", "reconstruction_loss", "self_augmentation_loss", "soft_assignment",
    "target_distribution", "zipf_prior",
]
