"""Classification metrics against hand-computed values and scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from deepcourse.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    precision_recall_f1,
    precision_recall_f1_from_confusion,
    top_k_accuracy,
)


def _random_problem(seed: int = 0, n: int = 200, c: int = 5):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, generator=g)
    targets = torch.randint(0, c, (n,), generator=g)
    return logits, targets


# ------------------------------------------------------------------------------------------ accuracy

def test_accuracy_hand_values():
    assert accuracy(torch.tensor([0, 1, 2, 1]), torch.tensor([0, 1, 1, 1])) == pytest.approx(0.75)
    logits = torch.tensor([[2.0, 1.0], [0.1, 0.9], [5.0, -1.0]])  # argmax 0, 1, 0
    assert accuracy(logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)


def test_accuracy_accepts_numpy_and_lists():
    assert accuracy(np.array([1, 0, 1]), np.array([1, 1, 1])) == pytest.approx(2 / 3)
    assert accuracy([[0.2, 0.8], [0.9, 0.1]], [1, 0]) == 1.0
    assert isinstance(accuracy(np.array([1]), [1]), float)
    frozen = np.array([1, 0, 1])
    frozen.flags.writeable = False  # e.g. a memory-mapped dataset: no torch warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert accuracy(frozen, frozen) == 1.0


def test_accuracy_matches_sklearn():
    logits, targets = _random_problem()
    expected = skm.accuracy_score(targets.numpy(), logits.argmax(1).numpy())
    assert accuracy(logits, targets) == pytest.approx(expected)


def test_accuracy_segmentation_layout():
    # scores (N, C, H, W) against targets (N, H, W): classes on dim 1, as cross_entropy expects
    logits = torch.zeros(2, 3, 4, 4)
    logits[:, 2] = 1.0
    targets = torch.full((2, 4, 4), 2)
    targets[0, 0, 0] = 0
    assert accuracy(logits, targets) == pytest.approx(31 / 32)


def test_accuracy_float_labels_are_labels():
    assert accuracy(torch.tensor([1.0, 0.0]), torch.tensor([1, 1])) == 0.5


def test_accuracy_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match="logits_or_preds of shape"):
        accuracy(torch.zeros(4, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="does not match targets"):
        accuracy(torch.zeros(4), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="threshold"):
        accuracy(torch.tensor([0.3, 0.7]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="targets must hold integer"):
        accuracy(torch.tensor([0, 1]), torch.tensor([0.5, 1.0]))
    with pytest.raises(TypeError, match="logits_or_preds must be"):
        accuracy("abc", torch.tensor([0]))
    with pytest.raises(ValueError, match="empty"):
        accuracy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))


# -------------------------------------------------------------------------------------------- top-k

def test_top_k_hand_values():
    logits = torch.tensor([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    targets = torch.tensor([2, 1, 0])
    assert top_k_accuracy(logits, targets, k=1) == pytest.approx(0.0)
    assert top_k_accuracy(logits, targets, k=2) == pytest.approx(2 / 3)
    assert top_k_accuracy(logits, targets, k=3) == pytest.approx(1.0)


def test_top_k_matches_sklearn_and_top1_is_accuracy():
    logits, targets = _random_problem(seed=1, c=10)
    for k in (1, 3, 5):
        expected = skm.top_k_accuracy_score(targets.numpy(), logits.numpy(), k=k, labels=range(10))
        assert top_k_accuracy(logits, targets, k=k) == pytest.approx(expected)
    assert top_k_accuracy(logits, targets, k=1) == pytest.approx(accuracy(logits, targets))


def test_top_k_errors():
    logits, targets = _random_problem(c=4)
    with pytest.raises(ValueError, match=r"k must be in \[1, 4\]"):
        top_k_accuracy(logits, targets, k=5)
    with pytest.raises(ValueError, match=r"k must be in"):
        top_k_accuracy(logits, targets, k=0)
    with pytest.raises(TypeError, match="k must be an int"):
        top_k_accuracy(logits, targets, k=1.5)
    with pytest.raises(ValueError, match=r"logits must have shape \(N, C\)"):
        top_k_accuracy(logits[0], targets, k=1)
    with pytest.raises(ValueError, match="targets must have shape"):
        top_k_accuracy(logits, targets[:-1], k=1)
    with pytest.raises(ValueError, match="targets must lie in"):
        top_k_accuracy(logits, torch.full_like(targets, 7), k=1)


# ---------------------------------------------------------------------------------- confusion matrix

def test_confusion_matrix_hand_values():
    preds = torch.tensor([0, 1, 1, 2, 2, 2])
    targets = torch.tensor([0, 1, 2, 2, 2, 0])
    cm = confusion_matrix(preds, targets, 3)
    expected = torch.tensor([[1, 0, 1], [0, 1, 0], [0, 1, 2]])  # rows true, columns predicted
    assert torch.equal(cm, expected)
    assert cm.dtype == torch.int64


def test_confusion_matrix_matches_sklearn_with_logits_and_unused_class():
    logits, targets = _random_problem(seed=2, c=6)
    logits[:, 5] = -100.0  # class 5 never predicted
    cm = confusion_matrix(logits, targets, 6)
    expected = skm.confusion_matrix(targets.numpy(), logits.argmax(1).numpy(), labels=range(6))
    np.testing.assert_array_equal(cm.numpy(), expected)
    assert int(cm.sum()) == len(targets)


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match=r"preds must lie in \[0, 1\]"):
        confusion_matrix(torch.tensor([0, 2]), torch.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match="targets must lie in"):
        confusion_matrix(torch.tensor([0, 1]), torch.tensor([-1, 1]), 2)
    with pytest.raises(ValueError, match="num_classes must be >= 1"):
        confusion_matrix(torch.tensor([0]), torch.tensor([0]), 0)
    with pytest.raises(TypeError, match="num_classes must be an int"):
        confusion_matrix(torch.tensor([0]), torch.tensor([0]), 2.0)


# ------------------------------------------------------------------------------- precision/recall/F1

def test_precision_recall_f1_hand_values():
    # cm rows true, cols pred: [[1,0,1],[0,1,0],[0,1,2]]
    preds = torch.tensor([0, 1, 1, 2, 2, 2])
    targets = torch.tensor([0, 1, 2, 2, 2, 0])
    p, r, f = precision_recall_f1(preds, targets, 3)
    torch.testing.assert_close(p, torch.tensor([1.0, 0.5, 2 / 3], dtype=torch.float64))
    torch.testing.assert_close(r, torch.tensor([0.5, 1.0, 2 / 3], dtype=torch.float64))
    torch.testing.assert_close(f, torch.tensor([2 / 3, 2 / 3, 2 / 3], dtype=torch.float64))


@pytest.mark.parametrize("average", [None, "macro", "micro", "weighted"])
def test_precision_recall_f1_matches_sklearn(average):
    logits, targets = _random_problem(seed=3, c=4, n=150)
    logits[:, 3] -= 100.0  # class 3 never predicted: its precision is 0/0 -> zero_division
    preds = logits.argmax(1)
    ours = precision_recall_f1(logits, targets, 4, average=average)
    theirs = skm.precision_recall_fscore_support(
        targets.numpy(), preds.numpy(), labels=range(4), average=average, zero_division=0
    )[:3]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=1e-12)


def test_micro_equals_accuracy_and_zero_division():
    logits, targets = _random_problem(seed=4)
    p, r, f = precision_recall_f1(logits, targets, 5, average="micro")
    acc = accuracy(logits, targets)
    assert p == pytest.approx(acc) and r == pytest.approx(acc) and f == pytest.approx(acc)
    cm = torch.tensor([[2, 0], [0, 0]])  # class 1 absent and never predicted
    p, r, f = precision_recall_f1_from_confusion(cm, zero_division=1.0)
    assert p.tolist() == [1.0, 1.0] and r.tolist() == [1.0, 1.0] and f.tolist() == [1.0, 1.0]


def test_precision_recall_f1_errors():
    with pytest.raises(ValueError, match="average must be one of"):
        precision_recall_f1(torch.tensor([0]), torch.tensor([0]), 2, average="binary")
    with pytest.raises(ValueError, match="cm must be a square matrix"):
        precision_recall_f1_from_confusion(torch.zeros(2, 3))


def test_classification_report_is_json_friendly():
    import json

    logits, targets = _random_problem(seed=5, c=3)
    rep = classification_report(logits, targets, 3, class_names=["a", "b", "c"])
    json.dumps(rep)
    assert rep["accuracy"] == pytest.approx(accuracy(logits, targets))
    assert set(rep["per_class"]) == {"a", "b", "c"}
    assert sum(v["support"] for v in rep["per_class"].values()) == len(targets)
    assert rep["macro_f1"] == pytest.approx(
        skm.f1_score(targets.numpy(), logits.argmax(1).numpy(), average="macro")
    )
    with pytest.raises(ValueError, match="class_names must have"):
        classification_report(logits, targets, 3, class_names=["a"])


# ----------------------------------------------------------------------------------- property & device

@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")  # sklearn, c == 1
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6).flatmap(
    lambda c: st.tuples(st.just(c), st.lists(st.tuples(st.integers(0, c - 1), st.integers(0, c - 1)),
                                             min_size=1, max_size=60))))
def test_confusion_and_f1_agree_with_sklearn(case):
    c, pairs = case
    targets = np.array([t for t, _ in pairs])
    preds = np.array([p for _, p in pairs])
    cm = confusion_matrix(preds, targets, c)
    np.testing.assert_array_equal(cm.numpy(), skm.confusion_matrix(targets, preds, labels=range(c)))
    assert accuracy(preds, targets) == pytest.approx(skm.accuracy_score(targets, preds))
    f1 = precision_recall_f1(preds, targets, c)[2]
    np.testing.assert_allclose(
        f1.numpy(), skm.f1_score(targets, preds, labels=range(c), average=None, zero_division=0), atol=1e-12
    )


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_metrics_on_cuda_match_cpu():
    logits, targets = _random_problem(seed=6, c=7)
    cm_cpu = confusion_matrix(logits, targets, 7)
    cm_gpu = confusion_matrix(logits.cuda(), targets.cuda(), 7)
    assert cm_gpu.device.type == "cuda"
    assert torch.equal(cm_gpu.cpu(), cm_cpu)
    assert accuracy(logits.cuda(), targets) == pytest.approx(accuracy(logits, targets))
    assert top_k_accuracy(logits.cuda(), targets.cuda(), k=3) == pytest.approx(top_k_accuracy(logits, targets, k=3))
