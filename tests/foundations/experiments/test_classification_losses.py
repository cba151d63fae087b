from __future__ import annotations

import torch

from deepcourse.foundations.experiments.classification_losses import digit_attributes, softmax_ce_multilabel


def test_digit_attributes():
    a = digit_attributes(torch.arange(10))
    assert a.shape == (10, 3)
    assert a[:, 0].nonzero().squeeze(1).tolist() == [0, 2, 4, 6, 8]
    assert a[:, 1].nonzero().squeeze(1).tolist() == [5, 6, 7, 8, 9]
    assert a[:, 2].nonzero().squeeze(1).tolist() == [2, 3, 5, 7]


def test_softmax_wiring_cannot_say_yes_twice():
    t = torch.tensor([[1.0, 1.0, 0.0]])  # two labels on at once
    logits = torch.tensor([[5.0, 5.0, -5.0]], requires_grad=True)
    loss = softmax_ce_multilabel(logits, t)
    loss.backward()
    assert torch.allclose(logits.grad, torch.zeros_like(logits.grad), atol=1e-3)  # at its optimum...
    assert (torch.softmax(logits, 1) > 0.5).sum() == 0  # ...no label passes 0.5


def test_table_rows_and_softmax_rows_sum_to_one(run_tiny):
    summary, tables, _ = run_tiny("classification-losses", "steps=3", "hidden=8")
    assert summary["status"] in ("passed", "failed"), summary.get("reason")
    assert len(tables[0]["rows"]) == 4
    assert summary["metrics"]["softmax_row_sum_err"] < 1e-5
