from __future__ import annotations

import pytest
import torch
from torch import nn

from deepcourse.foundations.models import MLP


def test_mlp_structure_and_shapes():
    m = MLP(64, (32, 16), 10, activation="tanh", dropout=0.1, batch_norm=True)
    kinds = [type(layer).__name__ for layer in m.net]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear"]
    assert m(torch.randn(5, 64)).shape == (5, 10)
    assert m(torch.randn(5, 8, 8)).shape == (5, 10)  # images are flattened
    assert [layer.out_features for layer in m.linear_layers()] == [32, 16, 10]
    assert MLP(3, (), 2)(torch.randn(4, 3)).shape == (4, 2)  # no hidden layer: one linear layer
    out = MLP(3, (4,), 2, output_activation="softmax")(torch.randn(4, 3))
    torch.testing.assert_close(out.sum(1), torch.ones(4))


def test_mlp_backward_reaches_every_parameter():
    torch.manual_seed(0)
    m = MLP(4, (8, 8), 3, activation="prelu", batch_norm=True)
    m(torch.randn(6, 4)).sum().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_mlp_dropout_only_in_training():
    m = MLP(4, (64,), 2, dropout=0.5)
    x = torch.randn(3, 4)
    m.eval()
    torch.testing.assert_close(m(x), m(x))
    m.train()
    torch.manual_seed(0)
    a = m(x)
    assert not torch.allclose(a, m(x))


def test_mlp_registered():
    from deepcourse.core.models import create_model, list_models

    assert "mlp" in list_models()
    m = create_model("mlp", small=True)
    assert isinstance(m, nn.Module) and m(torch.randn(4, 64)).shape == (4, 10)


def test_mlp_bad_input():
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        MLP(4, (8,), 2, activation="relux")
    with pytest.raises(ValueError, match="dropout"):
        MLP(4, (8,), 2, dropout=1.0)
    with pytest.raises(ValueError, match="hidden widths"):
        MLP(4, (8, 0), 2)
    with pytest.raises(ValueError, match="expected 4 input features, got 5"):
        MLP(4, (8,), 2)(torch.randn(3, 5))
    with pytest.raises(ValueError, match="batched"):
        MLP(4, (8,), 2)(torch.randn(4))
