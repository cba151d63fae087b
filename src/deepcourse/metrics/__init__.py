"""Metrics used by the experiments and the report.

Implemented: classification (accuracy, top-k, confusion matrix, precision/recall/F1).
Planned, each in its own module when its course module arrives: ``clustering`` (ACC with the Hungarian
matching, NMI, ARI), ``generative`` (FID, KID), ``geometric`` (Chamfer distance), ``ranking``.
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

__all__ = [
    "accuracy",
    "classification_report",
    "confusion_matrix",
    "precision_recall_f1",
    "precision_recall_f1_from_confusion",
    "top_k_accuracy",
]
