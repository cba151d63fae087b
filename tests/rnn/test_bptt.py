"""Explicit BPTT (the notes' delta equations, aggregated by hand) against autograd, float64, every variant."""

from __future__ import annotations

import pytest
import torch

from deepcourse.rnn import VARIANTS, LSTMCell, Recurrent, lstm_bptt, lstm_forward_trace

ALL = list(VARIANTS) + ["NP+FGR", "CIFG+FGR", "NIG+FGR", "NOG+NOAF", "NIAF+NOAF"]


def _cell(variant: str, seed: int = 0) -> LSTMCell:
    torch.manual_seed(seed)
    cell = LSTMCell(3, 5, variant).double()
    cell.fused = False  # autograd through the literal per-step equations
    with torch.no_grad():
        for p in cell.parameters():
            p.normal_(0, 0.6)  # larger than the default, so that peepholes and gates matter
    return cell


@pytest.mark.parametrize("variant", ALL)
def test_manual_bptt_equals_autograd(variant):
    cell = _cell(variant)
    x = torch.randn(4, 9, 3, dtype=torch.float64, requires_grad=True)
    y0 = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    state = (y0, c0) + ((torch.zeros(4, 15, dtype=torch.float64),) if cell.variant.fgr else ())
    out, _ = Recurrent(cell)(x, state)
    delta = torch.randn(out.shape, dtype=torch.float64)
    names = [k for k, _ in cell.named_parameters()]
    auto = torch.autograd.grad((out * delta).sum(), [p for _, p in cell.named_parameters()] + [x, y0, c0])
    manual = lstm_bptt(cell, x.detach(), delta, y0.detach(), c0.detach())
    assert set(manual) == set(names) | {"x", "y0", "c0"}
    for k, g in zip(names + ["x", "y0", "c0"], auto):
        err = (manual[k] - g).abs().max().item()
        assert err < 1e-10, f"{variant}: d{k} differs from autograd by {err:.2e}"
    if cell.peephole is not None:  # the peephole terms are exercised, not trivially zero
        assert manual["peephole"].abs().max() > 1e-3


def test_trace_equals_forward():
    cell = _cell("vanilla", 1)
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    out, (y, c) = Recurrent(cell)(x)
    tr = lstm_forward_trace(cell, x)
    assert torch.allclose(tr.y[1:].transpose(0, 1), out, atol=1e-14) and torch.allclose(tr.c[-1], c, atol=1e-14)


def test_delta_shape_is_checked():
    cell = _cell("NP")
    with pytest.raises(ValueError, match=r"\(B, T, N\) = \(2, 4, 5\)"):
        lstm_bptt(cell, torch.randn(2, 4, 3, dtype=torch.float64), torch.randn(2, 4, 3, dtype=torch.float64))
