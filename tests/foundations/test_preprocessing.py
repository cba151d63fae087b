from __future__ import annotations

import pytest
import torch

from deepcourse.foundations.preprocessing import Standardizer, one_hot, standardize


def test_one_hot_values():
    oh = one_hot(torch.tensor([2, 0, 1]), 3)
    torch.testing.assert_close(oh, torch.tensor([[0.0, 0, 1], [1, 0, 0], [0, 1, 0]]))
    torch.testing.assert_close(one_hot(torch.tensor([[1, 3]]), 4), torch.nn.functional.one_hot(
        torch.tensor([[1, 3]]), 4).float())
    assert one_hot(torch.tensor([1]), 2).sum().item() == 1.0


def test_one_hot_errors():
    with pytest.raises(ValueError, match="\\[0, 3\\).*\\[0, 3\\]"):
        one_hot(torch.tensor([0, 3]), 3)
    with pytest.raises(TypeError, match="integer"):
        one_hot(torch.tensor([0.0, 1.0]), 2)
    with pytest.raises(ValueError, match="num_classes"):
        one_hot(torch.tensor([0]), 0)


def test_standardizer_fits_on_train_only():
    g = torch.Generator().manual_seed(0)
    train = torch.randn(500, 3, generator=g) * torch.tensor([1.0, 10.0, 0.1]) + torch.tensor([5.0, -2.0, 0.0])
    test = torch.randn(100, 3, generator=g) * 3 + 7
    s = Standardizer().fit(train)
    z = s.transform(train)
    torch.testing.assert_close(z.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std(0, unbiased=False), torch.ones(3), atol=1e-5, rtol=0)
    # test data uses the train statistics (so it is not itself zero-mean)
    torch.testing.assert_close(s.transform(test), (test - train.mean(0)) / train.std(0, unbiased=False))
    torch.testing.assert_close(s.inverse_transform(s.transform(test)), test, atol=1e-5, rtol=1e-5)
    a, b = standardize(train, test)
    torch.testing.assert_close(b, s.transform(test))
    s2 = Standardizer().load_state_dict(s.state_dict())
    torch.testing.assert_close(s2.transform(test), s.transform(test))


def test_standardizer_constant_feature_and_errors():
    x = torch.tensor([[1.0, 2.0], [1.0, 4.0], [1.0, 6.0]])
    z = Standardizer().fit_transform(x)
    assert torch.isfinite(z).all() and torch.all(z[:, 0] == 0)
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(x)
    with pytest.raises(ValueError, match="shape \\(2,\\)"):
        Standardizer().fit(x).transform(torch.zeros(3, 5))
    with pytest.raises(TypeError, match="floating"):
        Standardizer().fit(torch.tensor([[1, 2], [3, 4]]))
