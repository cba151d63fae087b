"""Classification metrics on torch tensors (NumPy arrays and lists are accepted too).

Conventions, shared with scikit-learn so that results can be compared one to one:

- *Predictions* are either class labels with the same shape as the targets, or scores (logits or
  probabilities) with one extra class dimension at position 1, as ``torch.nn.functional.cross_entropy``
  expects: ``(N, C)`` against targets ``(N,)``, or ``(N, C, H, W)`` against targets ``(N, H, W)``.
  Scores are turned into labels by ``argmax`` over the class dimension.
- The confusion matrix has the **true** class on the rows and the **predicted** class on the columns,
  ``cm[i, j] = #{n : y_n = i, yhat_n = j}`` (the layout of ``sklearn.metrics.confusion_matrix``).
- Precision, recall and F1 follow van Rijsbergen (1979, *Information Retrieval*, ch. 7):
  ``P_c = TP_c / (TP_c + FP_c)``, ``R_c = TP_c / (TP_c + FN_c)`` and
  ``F1_c = 2 P_c R_c / (P_c + R_c)``, the harmonic mean of the two (the F-measure with beta = 1).
  A ratio with an empty denominator is set to ``zero_division`` (0 by default, as in scikit-learn).

Scalar results are plain Python floats; per-class results and confusion matrices are torch tensors on
the input's device.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

__all__ = [
    "accuracy",
    "top_k_accuracy",
    "confusion_matrix",
    "precision_recall_f1",
    "precision_recall_f1_from_confusion",
    "classification_report",
]

Average = Literal["macro", "micro", "weighted"]
_AVERAGES = (None, "macro", "micro", "weighted")


def _as_tensor(x: Any, name: str) -> torch.Tensor:
    """Convert a tensor, NumPy array, list or scalar to a tensor, naming ``name`` on failure."""
    if isinstance(x, torch.Tensor):
        return x.detach()
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            raise TypeError(f"{name} must be a numeric array, got a NumPy array of dtype object")
        arr = np.ascontiguousarray(x)
        if not arr.flags.writeable:  # torch warns on read-only memory; metrics never write, but copy
            arr = arr.copy()
        return torch.from_numpy(arr)
    if isinstance(x, (list, tuple, int, float)):
        try:
            return torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{name} must be numeric, could not convert {type(x).__name__}: {err}") from err
    raise TypeError(
        f"{name} must be a torch.Tensor, numpy.ndarray or list, got {type(x).__name__}"
    )


def _check_targets(targets: torch.Tensor) -> torch.Tensor:
    if targets.is_floating_point():
        if not torch.equal(targets, targets.round()):
            raise ValueError("targets must hold integer class labels, got non-integer floats")
        targets = targets.long()
    elif targets.dtype == torch.bool:
        targets = targets.long()
    elif targets.is_complex():
        raise TypeError("targets must hold integer class labels, got a complex tensor")
    return targets.long()


def _to_labels(preds: torch.Tensor, targets: torch.Tensor, name: str) -> torch.Tensor:
    """Return integer labels of ``targets``' shape from labels or class scores (class dim 1)."""
    if preds.dim() == targets.dim() + 1:
        if preds.dim() < 2:
            raise ValueError(f"{name} of shape {tuple(preds.shape)} has no class dimension")
        expected = (preds.shape[0],) + tuple(preds.shape[2:])
        if expected != tuple(targets.shape):
            raise ValueError(
                f"{name} of shape {tuple(preds.shape)} (scores with classes on dim 1) does not match "
                f"targets of shape {tuple(targets.shape)}: expected targets of shape {expected}"
            )
        if preds.shape[1] == 0:
            raise ValueError(f"{name} has 0 classes on dim 1, shape {tuple(preds.shape)}")
        return preds.argmax(dim=1)
    if preds.shape == targets.shape:
        if preds.is_floating_point() and not torch.equal(preds, preds.round()):
            raise ValueError(
                f"{name} has the shape of targets {tuple(targets.shape)} but holds non-integer values; "
                "pass class labels, scores of shape (N, C, ...), or threshold binary probabilities first "
                "(e.g. (p > 0.5).long())"
            )
        return preds.long()
    raise ValueError(
        f"{name} of shape {tuple(preds.shape)} does not match targets of shape {tuple(targets.shape)}: "
        "pass labels of the same shape, or scores with one extra class dimension at position 1"
    )


def _check_num_classes(num_classes: Any) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"num_classes must be an int, got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    return int(num_classes)


def accuracy(logits_or_preds: Any, targets: Any) -> float:
    """Fraction of correct predictions, ``(1/N) sum_n [yhat_n = y_n]``.

    ``logits_or_preds`` is either labels of the targets' shape or scores with classes on dim 1
    (``(N, C)`` for targets ``(N,)``), reduced by argmax. Returns a Python float in [0, 1].
    """
    preds_t = _as_tensor(logits_or_preds, "logits_or_preds")
    targets_t = _check_targets(_as_tensor(targets, "targets"))
    labels = _to_labels(preds_t, targets_t, "logits_or_preds")
    if targets_t.numel() == 0:
        raise ValueError("targets is empty: accuracy of zero samples is undefined")
    return (labels == targets_t.to(labels.device)).float().mean().item()


def top_k_accuracy(logits: Any, targets: Any, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    Used for ImageNet since Krizhevsky, Sutskever & Hinton (2012, Sec. 6: "top-1 and top-5 error").
    ``logits`` has shape ``(N, C)`` and ``targets`` ``(N,)``; ``k`` must lie in ``[1, C]``.
    Ties are broken by ``torch.topk``'s order.
    """
    logits_t = _as_tensor(logits, "logits")
    targets_t = _check_targets(_as_tensor(targets, "targets"))
    if logits_t.dim() != 2:
        raise ValueError(f"logits must have shape (N, C), got shape {tuple(logits_t.shape)}")
    if targets_t.dim() != 1 or targets_t.shape[0] != logits_t.shape[0]:
        raise ValueError(
            f"targets must have shape ({logits_t.shape[0]},) to match logits {tuple(logits_t.shape)}, "
            f"got {tuple(targets_t.shape)}"
        )
    num_classes = logits_t.shape[1]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {k!r}")
    if not 1 <= k <= num_classes:
        raise ValueError(f"k must be in [1, {num_classes}] (the number of classes), got {k}")
    if targets_t.numel() == 0:
        raise ValueError("targets is empty: accuracy of zero samples is undefined")
    if targets_t.min() < 0 or targets_t.max() >= num_classes:
        raise ValueError(
            f"targets must lie in [0, {num_classes - 1}], got values in "
            f"[{int(targets_t.min())}, {int(targets_t.max())}]"
        )
    top = logits_t.topk(int(k), dim=1).indices  # (N, k)
    hit = (top == targets_t.to(top.device).unsqueeze(1)).any(dim=1)  # (N,)
    return hit.float().mean().item()


def confusion_matrix(preds: Any, targets: Any, num_classes: int) -> torch.Tensor:
    """Counts ``cm[i, j]`` of samples with true class ``i`` predicted as ``j``; shape ``(C, C)``, int64.

    ``preds`` may be labels or scores with classes on dim 1 (see the module docstring). Labels outside
    ``[0, num_classes)`` raise ``ValueError`` rather than being dropped silently.
    """
    num_classes = _check_num_classes(num_classes)
    preds_t = _as_tensor(preds, "preds")
    targets_t = _check_targets(_as_tensor(targets, "targets"))
    labels = _to_labels(preds_t, targets_t, "preds").reshape(-1)
    truth = targets_t.to(labels.device).reshape(-1)
    for name, values in (("preds", labels), ("targets", truth)):
        if values.numel() and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(
                f"{name} must lie in [0, {num_classes - 1}] for num_classes={num_classes}, got values in "
                f"[{int(values.min())}, {int(values.max())}]"
            )
    # One bincount over the flattened pair index i * C + j instead of a Python loop over samples.
    flat = truth * num_classes + labels  # (N,)
    counts = torch.bincount(flat, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)  # (C, C)


def precision_recall_f1_from_confusion(
    cm: Any,
    average: Average | None = None,
    zero_division: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | tuple[float, float, float]:
    """Precision, recall and F1 from a confusion matrix (true classes on rows).

    ``TP_c = cm[c, c]``, ``FP_c = sum_i cm[i, c] - TP_c`` (column), ``FN_c = sum_j cm[c, j] - TP_c`` (row).

    ``average``:
      - ``None``: three float64 tensors of shape ``(C,)``, one value per class;
      - ``"macro"``: unweighted mean over classes;
      - ``"weighted"``: mean weighted by each class's support (row sum);
      - ``"micro"``: ratios of the summed counts (for single-label data all three equal accuracy).
    Scalars are returned as Python floats.
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    cm_t = _as_tensor(cm, "cm")
    if cm_t.dim() != 2 or cm_t.shape[0] != cm_t.shape[1]:
        raise ValueError(f"cm must be a square matrix (C, C), got shape {tuple(cm_t.shape)}")
    cm_t = cm_t.double()
    tp = cm_t.diagonal()  # (C,)
    predicted = cm_t.sum(dim=0)  # (C,) column sums: TP + FP
    support = cm_t.sum(dim=1)  # (C,) row sums: TP + FN

    def ratio(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
        safe = torch.where(den > 0, den, torch.ones_like(den))
        return torch.where(den > 0, num / safe, torch.full_like(num, float(zero_division)))

    if average == "micro":
        tp_sum, pred_sum, sup_sum = tp.sum(), predicted.sum(), support.sum()
        p = ratio(tp_sum, pred_sum)
        r = ratio(tp_sum, sup_sum)
        f = ratio(2 * tp_sum, pred_sum + sup_sum)  # 2PR/(P+R) in counts: 2TP / (2TP + FP + FN)
        return p.item(), r.item(), f.item()

    precision = ratio(tp, predicted)
    recall = ratio(tp, support)
    f1 = ratio(2 * tp, predicted + support)  # equals 2PR/(P+R) without dividing by a zero P+R
    if average is None:
        return precision, recall, f1
    if average == "macro":
        return precision.mean().item(), recall.mean().item(), f1.mean().item()
    total = support.sum()
    if total == 0:
        z = float(zero_division)
        return z, z, z
    w = support / total  # (C,)
    return (w * precision).sum().item(), (w * recall).sum().item(), (w * f1).sum().item()


def precision_recall_f1(
    preds: Any,
    targets: Any,
    num_classes: int,
    average: Average | None = None,
    zero_division: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | tuple[float, float, float]:
    """Per-class (``average=None``) or averaged precision, recall and F1 of labels or scores.

    Same conventions and averages as :func:`precision_recall_f1_from_confusion`, which it calls on
    :func:`confusion_matrix` ``(preds, targets, num_classes)``; matches
    ``sklearn.metrics.precision_recall_fscore_support(labels=range(C), zero_division=0)``.
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    cm = confusion_matrix(preds, targets, num_classes)
    return precision_recall_f1_from_confusion(cm, average=average, zero_division=zero_division)


def classification_report(
    preds: Any,
    targets: Any,
    num_classes: int,
    class_names: list[str] | None = None,
) -> dict[str, Any]:
    """All of the above in one JSON-friendly dict (floats and lists only).

    Keys: ``accuracy``, ``macro_f1``, ``weighted_f1``, ``confusion_matrix`` (list of lists) and
    ``per_class``: ``{name: {"precision", "recall", "f1", "support"}}``.
    """
    num_classes = _check_num_classes(num_classes)
    if class_names is None:
        class_names = [str(c) for c in range(num_classes)]
    elif len(class_names) != num_classes:
        raise ValueError(
            f"class_names must have num_classes={num_classes} entries, got {len(class_names)}"
        )
    cm = confusion_matrix(preds, targets, num_classes)
    precision, recall, f1 = precision_recall_f1_from_confusion(cm)
    support = cm.sum(dim=1)
    total = int(support.sum())
    return {
        "accuracy": float(cm.diagonal().sum()) / total if total else 0.0,
        "macro_f1": precision_recall_f1_from_confusion(cm, average="macro")[2],
        "weighted_f1": precision_recall_f1_from_confusion(cm, average="weighted")[2],
        "confusion_matrix": cm.tolist(),
        "per_class": {
            name: {
                "precision": float(precision[c]),
                "recall": float(recall[c]),
                "f1": float(f1[c]),
                "support": int(support[c]),
            }
            for c, name in enumerate(class_names)
        },
    }
