"""Metrics used by the experiments and the report.

Implemented: ``classification`` (accuracy, top-k, confusion matrix, precision/recall/F1), ``clustering``
(unsupervised accuracy with the Hungarian matching, NMI, ARI) and ``generative`` (domain FID/KID,
classifier score, mode coverage; imported from ``deepcourse.metrics.generative``).
Planned, each in its own module when its course module arrives: ``geometric`` (Chamfer distance), ``ranking``.
"""

from __future__ import annotations

from deepcourse.metrics.classification import (
    accuracy,
    classification_report,
    confusion_matrix,
    precision_recall_f1,
    precision_recall_f1_from_confusion,
    top_k_accuracy,
)
from deepcourse.metrics.clustering import ari, cluster_acc, cluster_mapping, contingency, nmi
from deepcourse.metrics.correlation import spearman

__all__ = [
    "ari",
    "cluster_acc",
    "cluster_mapping",
    "contingency",
    "nmi",
    "spearman",
    "accuracy",
    "classification_report",
    "confusion_matrix",
    "precision_recall_f1",
    "precision_recall_f1_from_confusion",
    "top_k_accuracy",
]
