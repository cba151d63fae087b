"""WideResNet-d-k: parameter counts of the paper's Table 4, shapes, and where dropout sits."""

from __future__ import annotations

import pytest
import torch

from deepcourse.cnn import WideResNet, wide_resnet
from deepcourse.core.models import count_parameters


@pytest.mark.parametrize("depth, widen, published", [(28, 10, 36.5e6), (16, 8, 11.0e6), (40, 4, 8.9e6)])
def test_parameter_counts_match_paper(depth, widen, published):
    # Zagoruyko & Komodakis 2016, Table 4 (CIFAR-10), given to 0.1M
    assert count_parameters(wide_resnet(depth, widen)) == pytest.approx(published, abs=0.06e6)


def test_cifar_output_shape():
    model = wide_resnet(16, 2, dropout=0.3)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_blocks_per_group_and_widths():
    model = wide_resnet(22, 3)
    assert [len(g) for g in model.groups] == [3, 3, 3]
    assert [g[-1].conv2.out_channels for g in model.groups] == [48, 96, 192]


def test_dropout_between_convolutions_only_in_training():
    torch.manual_seed(0)
    model = wide_resnet(10, 1, dropout=0.5, base=4)
    x = torch.randn(2, 3, 16, 16)
    model.train()
    assert not torch.allclose(model(x), model(x))
    model.eval()
    torch.testing.assert_close(model(x), model(x))


@pytest.mark.parametrize("kwargs, word", [(dict(depth=27), "depth"), (dict(widen=0), "widen"), (dict(dropout=1.0), "dropout")])
def test_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        WideResNet(**kwargs)
