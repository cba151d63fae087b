"""Module 5: deep clustering (DEC, IDEC and the regularisers of the notes).

:mod:`.losses` holds the clustering and regularisation losses, :mod:`.dec` the DEC algorithm, and
:mod:`.dec_pipeline` the pipeline the experiments share (data, SDAE pretraining, the Table 2 comparison).
Experiments live in the :mod:`deepcourse.clustering.experiments` package (imported by the registry, not here).
"""

from __future__ import annotations

from .dec import ClusteringLayer, DECResult, Regularisers, fit_dec, kmeans_init, most_confident
from .dec_pipeline import (DATASETS, DECConfig, compare_dec, load_points, normalise_points, percent, pretrain_sdae,
                           rescale_embedding, run_dec)
from .losses import (
    ALPHA_SCHEDULES,
    alpha_schedule,
    balance_loss,
    cluster_distribution,
    cluster_size_prior_loss,
    idec_loss,
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
    "DATASETS", "DECConfig", "compare_dec", "load_points", "normalise_points", "percent", "pretrain_sdae", "run_dec",
    "rescale_embedding",
    "ALPHA_SCHEDULES", "alpha_schedule", "balance_loss", "cluster_distribution",
    "cluster_size_prior_loss", "idec_loss", "kl_clustering_loss", "kmeans_loss", "knn_graph", "locality_loss",
    "pairwise_sq_dists", "reconstruction_loss", "self_augmentation_loss", "soft_assignment",
    "target_distribution", "zipf_prior",
]
