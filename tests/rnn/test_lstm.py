"""The cells of deepcourse.rnn.lstm against torch's (same weights, values and gradients) and the variants'
defining equations."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from deepcourse.rnn import VARIANTS, ElmanCell, GRUCell, LSTMCell, LSTMVariant, Recurrent, lstm_forward_trace
from tests.helpers import assert_matches_reference


def _torch_params(m, names=("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")):
    return [getattr(m, k).detach().double() for k in names]


def test_np_lstm_equals_torch_lstm():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(5, 7, batch_first=True).double()
    ours = Recurrent(LSTMCell(5, 7, "NP")).double()
    x = torch.randn(3, 6, 5, dtype=torch.float64)

    def f_ours(x, w_ih, w_hh, b_ih, b_hh):
        out, (y, c) = functional_call(ours, {"cell.weight_ih": w_ih, "cell.weight_hh": w_hh,
                                             "cell.bias": b_ih + b_hh}, (x,))
        return out, (y, c)

    def f_ref(x, w_ih, w_hh, b_ih, b_hh):
        out, (h, c) = functional_call(ref, {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih,
                                            "bias_hh_l0": b_hh}, (x,))
        return out, (h[0], c[0])

    assert_matches_reference(f_ours, f_ref, [x, *_torch_params(ref)], grad=True, rtol=1e-9, atol=1e-11)
    ours.cell.fused = False  # the step-by-step autograd path gives the same
    assert_matches_reference(f_ours, f_ref, [x, *_torch_params(ref)], grad=True, rtol=1e-9, atol=1e-11)


def test_lstm_cell_single_step_equals_torch_lstm_cell():
    torch.manual_seed(1)
    ref = torch.nn.LSTMCell(4, 3).double()
    ours = LSTMCell(4, 3, "NP").double()
    x, h, c = (torch.randn(2, k, dtype=torch.float64) for k in (4, 3, 3))
    assert_matches_reference(
        lambda x, h, c, wi, wh, bi, bh: functional_call(ours, {"weight_ih": wi, "weight_hh": wh, "bias": bi + bh},
                                                        (x, (h, c))),
        lambda x, h, c, wi, wh, bi, bh: functional_call(ref, {"weight_ih": wi, "weight_hh": wh, "bias_ih": bi,
                                                              "bias_hh": bh}, (x, (h, c))),
        [x, h, c, *_torch_params(ref, ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))], rtol=1e-9, atol=1e-11)


def _assert_single_layer_matches(ours, ref, x):
    """Our ``Recurrent(cell)`` against a one-layer torch RNN/GRU given the same weights, gradients included."""
    assert_matches_reference(
        lambda x, wi, wh, bi, bh: functional_call(ours, {"cell.weight_ih": wi, "cell.weight_hh": wh, "cell.bias_ih": bi,
                                                          "cell.bias_hh": bh}, (x,)),
        lambda x, wi, wh, bi, bh: (lambda o, h: (o, h[0]))(*functional_call(
            ref, {"weight_ih_l0": wi, "weight_hh_l0": wh, "bias_ih_l0": bi, "bias_hh_l0": bh}, (x,))),
        [x, *_torch_params(ref)], rtol=1e-9, atol=1e-11)


def test_gru_equals_torch_gru():
    torch.manual_seed(2)
    ref = torch.nn.GRU(5, 6, batch_first=True).double()
    ours = Recurrent(GRUCell(5, 6)).double()
    x = torch.randn(3, 7, 5, dtype=torch.float64)
    _assert_single_layer_matches(ours, ref, x)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_elman_equals_torch_rnn(nonlinearity):
    torch.manual_seed(3)
    ref = torch.nn.RNN(4, 5, batch_first=True, nonlinearity=nonlinearity).double()
    ours = Recurrent(ElmanCell(4, 5, nonlinearity)).double()
    x = torch.randn(2, 8, 4, dtype=torch.float64)
    _assert_single_layer_matches(ours, ref, x)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "FGR"] + ["NOG+NOAF", "NIG+NFG", "NP+CIFG"])
def test_fused_path_equals_step_by_step(variant):
    """FusedLSTM (explicit BPTT as the backward) against autograd through the per-step equations."""
    torch.manual_seed(4)
    layer = Recurrent(LSTMCell(3, 4, variant)).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_(0, 0.5)
    x, y0, c0 = torch.randn(2, 6, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64), \
        torch.randn(2, 4, dtype=torch.float64)
    names = [k for k, _ in layer.named_parameters()]

    def call(fused):
        def f(x, y0, c0, *params):
            layer.cell.fused = fused
            out, (y, c) = functional_call(layer, dict(zip(names, params)), (x, (y0, c0)))
            return out, (y, c)
        return f

    assert_matches_reference(call(True), call(False), [x, y0, c0, *[p.detach() for p in layer.parameters()]],
                             rtol=1e-10, atol=1e-12)


def test_variant_equations_hold():
    torch.manual_seed(5)
    x = torch.randn(2, 5, 3)
    for name, check in [("NIG", lambda tr: (tr.i == 1).all()), ("NFG", lambda tr: (tr.f == 1).all()),
                        ("NOG", lambda tr: (tr.o == 1).all()), ("NIAF", lambda tr: torch.equal(tr.z, tr.z_bar)),
                        ("CIFG", lambda tr: torch.allclose(tr.f, 1 - tr.i)),
                        ("NOAF", lambda tr: torch.allclose(tr.y[1:], tr.c[1:] * tr.o))]:
        assert check(lstm_forward_trace(LSTMCell(3, 4, name), x)), name
    assert LSTMCell(3, 4, "NP").peephole is None and LSTMCell(3, 4).peephole.shape == (12,)
    assert LSTMCell(3, 4, "FGR").weight_gg.shape == (12, 12)
    assert LSTMVariant.parse("NP+FGR").name == "NP+FGR" and LSTMVariant.parse("vanilla").name == "vanilla"


def test_fgr_gate_recurrence_changes_output():
    torch.manual_seed(6)
    cell = LSTMCell(3, 4, "FGR")
    x = torch.randn(2, 5, 3)
    out, state = Recurrent(cell)(x)
    assert len(state) == 3 and state[2].shape == (2, 12)
    with torch.no_grad():
        cell.weight_gg.zero_()
    out0, _ = Recurrent(cell)(x)
    plain = LSTMCell(3, 4)
    plain.load_state_dict({k: v for k, v in cell.state_dict().items() if k != "weight_gg"})
    assert torch.allclose(out0, Recurrent(plain)(x)[0], atol=1e-6) and not torch.allclose(out, out0)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="unknown LSTM variant"):
        LSTMCell(3, 4, "NXG")
    with pytest.raises(ValueError, match="CIFG"):
        LSTMCell(3, 4, "CIFG+NIG")
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        LSTMCell(3, 4)(torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"\(B, T, C\) with C = 3"):
        Recurrent(LSTMCell(3, 4))(torch.randn(2, 5))
    with pytest.raises(ValueError, match="hidden_size"):
        GRUCell(3, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        ElmanCell(3, 4, "sigmoid")
