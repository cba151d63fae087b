import pytest
import torch
from torch import nn

from deepcourse.core import eval_mode, predict


def test_predict_batches_in_eval_mode_and_restores_training():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    model.train()
    x = torch.randn(10, 4)
    out = predict(model, x, batch_size=3)
    assert out.shape == (10, 3) and not out.requires_grad
    with torch.no_grad():
        model.eval()
        ref = model(x)
        model.train()
    torch.testing.assert_close(out, ref)  # dropout off: eval mode was used
    assert model.training


def test_predict_prep_and_empty_and_bad_input():
    model = nn.Linear(2, 1)
    out = predict(model, torch.zeros(0, 2))
    assert out.shape == (0, 1)
    torch.testing.assert_close(predict(model, torch.ones(2, 2), prep=lambda b: b * 0), model(torch.zeros(2, 2)).detach())
    with pytest.raises(ValueError, match="batch_size"):
        predict(model, torch.ones(2, 2), batch_size=0)
    with pytest.raises(TypeError, match="Tensor"):
        predict(model, [[1.0, 2.0]])


def test_eval_mode_restores_each_flag_even_on_error():
    a, b = nn.Dropout(), nn.Dropout()
    a.train()
    b.eval()
    with pytest.raises(RuntimeError):
        with eval_mode(a, b):
            assert not a.training and not b.training and not torch.is_grad_enabled()
            raise RuntimeError("boom")
    assert a.training and not b.training and torch.is_grad_enabled()
    with pytest.raises(TypeError):
        with eval_mode("not a model"):
            pass
