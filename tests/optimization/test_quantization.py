"""Quantised models compute nearly what the fp32 model computes, and are smaller."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepcourse.cnn import ConvNet
from deepcourse.foundations import MLP
from deepcourse.optimization.quantization import (cast_model, convert_qat, fusion_groups, measure_latency,
                                                  model_size_bytes, prepare_qat, quantize_dynamic, quantize_static)


def _cnn() -> ConvNet:
    """Conv-BN-ReLU-pool blocks of 8 and 16 channels on 8x8 inputs, one hidden layer of 32."""
    return ConvNet(num_classes=10, in_channels=1, image_size=8, widths=(8, 16), convs_per_block=1, batch_norm=True,
                   hidden=32, hidden_layers=1)


def _rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max())


def test_dynamic_linear_close_and_smaller():
    torch.manual_seed(0)
    model = MLP(64, (256, 256), 10).eval()
    q = quantize_dynamic(model)
    x = torch.randn(32, 64)
    with torch.no_grad():
        assert _rel_err(q(x), model(x)) < 0.05
    assert model_size_bytes(model) / model_size_bytes(q) > 3.0


def test_dynamic_lstm_close():
    torch.manual_seed(0)
    lstm = nn.LSTM(8, 32, batch_first=True)
    q = quantize_dynamic(lstm)
    x = torch.randn(4, 12, 8)
    with torch.no_grad():
        assert _rel_err(q(x)[0], lstm(x)[0]) < 0.05


def test_fusion_groups_of_the_cnn():
    model = _cnn()
    assert fusion_groups(model) == [["0", "1", "2"], ["4", "5", "6"], ["9", "10"]]


def test_static_int8_close_to_fp32():
    torch.manual_seed(0)
    model = _cnn().eval()
    calib = [torch.randn(32, 1, 8, 8) for _ in range(4)]
    q = quantize_static(model, calib)
    x = torch.randn(64, 1, 8, 8)
    with torch.no_grad():
        out, ref = q(x), model(x)
    assert _rel_err(out, ref) < 0.1
    assert (out.argmax(1) == ref.argmax(1)).float().mean() >= 0.85
    assert any(".quantized." in type(m).__module__ and type(m).__name__ == "ConvReLU2d" for m in q.modules())
    with pytest.raises(ValueError, match="calibration"):
        quantize_static(model, [])


def test_qat_trains_and_converts():
    torch.manual_seed(0)
    model = MLP(16, (32,), 4)
    qat = prepare_qat(model)
    opt = torch.optim.SGD(qat.parameters(), lr=0.2)
    x, y = torch.randn(128, 16), torch.randint(0, 4, (128,))
    losses = []
    for _ in range(8):
        loss = nn.functional.cross_entropy(qat(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    q = convert_qat(qat)
    with torch.no_grad():
        fake = qat.eval()(x)
        out = q(x)
    assert _rel_err(out, fake) < 0.1  # the same grid; rounding of the int32 requantisation may differ by a step
    assert (out.argmax(1) == fake.argmax(1)).float().mean() >= 0.9


def test_casts_and_latency():
    torch.manual_seed(0)
    model = MLP(16, (32,), 4).eval()
    x = torch.randn(8, 16)
    b = cast_model(model, torch.bfloat16)
    with torch.no_grad():
        assert _rel_err(b(x.bfloat16()).float(), model(x)) < 0.05
    assert model_size_bytes(model) / model_size_bytes(b) > 1.3
    assert next(model.parameters()).dtype == torch.float32  # a copy
    assert measure_latency(model, x, repeats=3, warmup=1) > 0
    with pytest.raises(ValueError, match="dtype"):
        cast_model(model, torch.int8)
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(model, x, repeats=0)
