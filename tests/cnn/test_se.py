"""Squeeze-and-Excitation: output = x * sigmoid(gates), gates (B, C, 1, 1), and torchvision's SE as a reference."""

from __future__ import annotations

import pytest
import torch
import torchvision

from deepcourse.cnn import SqueezeExcitation, mobilenet_v1, mobilenet_v2


def test_gates_shape_range_and_output():
    torch.manual_seed(0)
    se = SqueezeExcitation(32, reduction=8)
    x = torch.randn(3, 32, 5, 7)
    g = se.gates(x)
    assert g.shape == (3, 32, 1, 1)
    assert (g > 0).all() and (g < 1).all()
    torch.testing.assert_close(se(x), x * g)
    # Eqs. 2-3 written out by hand
    z = x.mean(dim=(2, 3))
    s = torch.sigmoid(torch.relu(z @ se.fc1.weight.T + se.fc1.bias) @ se.fc2.weight.T + se.fc2.bias)
    torch.testing.assert_close(g[:, :, 0, 0], s)


def test_reduction_sets_hidden_width():
    assert SqueezeExcitation(64, 16).hidden == 4
    assert SqueezeExcitation(256, 16).hidden == 16
    assert SqueezeExcitation(8, 16).hidden == 4  # min_hidden keeps a usable gate on narrow layers
    se = SqueezeExcitation(64, 4)
    assert sum(p.numel() for p in se.parameters()) == 64 * 16 + 16 + 16 * 64 + 64


def test_gate_is_per_image_and_spatially_constant():
    se = SqueezeExcitation(4, 1)
    x = torch.randn(2, 4, 3, 3)
    ratio = se(x) / x
    torch.testing.assert_close(ratio, ratio[:, :, :1, :1].expand_as(ratio))
    assert not torch.allclose(se.gates(x)[0], se.gates(x)[1])


def test_matches_torchvision_squeeze_excitation():
    torch.manual_seed(0)
    ours = SqueezeExcitation(16, 4)
    ref = torchvision.ops.SqueezeExcitation(16, 4)  # 1x1 convolutions instead of linear layers
    with torch.no_grad():
        ref.fc1.weight.copy_(ours.fc1.weight[:, :, None, None])
        ref.fc1.bias.copy_(ours.fc1.bias)
        ref.fc2.weight.copy_(ours.fc2.weight[:, :, None, None])
        ref.fc2.bias.copy_(ours.fc2.bias)
    x = torch.randn(2, 16, 4, 4)
    torch.testing.assert_close(ours(x), ref(x))


def test_pluggable_into_mobilenets():
    for model in (mobilenet_v1(alpha=0.25, se_reduction=4), mobilenet_v2(alpha=0.25, se_reduction=4)):
        assert any(isinstance(m, SqueezeExcitation) for m in model.modules())
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("kwargs", [dict(channels=0), dict(channels=8, reduction=0), dict(channels=2.5)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="channels|reduction"):
        SqueezeExcitation(**kwargs)


def test_wrong_input_shape():
    with pytest.raises(ValueError, match="expected input"):
        SqueezeExcitation(8)(torch.randn(2, 4, 3, 3))
