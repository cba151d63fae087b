"""The classifiers of module 9's experiments: the shared MLP and small CNN, by name."""

from __future__ import annotations

import pytest
import torch

from deepcourse.cnn import ConvNet
from deepcourse.foundations import MLP
from deepcourse.optimization.networks import CLASSIFIERS, build_classifier


@pytest.mark.parametrize("kind", CLASSIFIERS)
def test_each_kind_maps_images_to_logits(kind):
    model = build_classifier(kind, (3, 16, 16), 7, 8, dropout=0.1)
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 7)


def test_shared_models_and_tables():
    assert isinstance(build_classifier("mlp", (5,), 3, 4), MLP)
    assert isinstance(build_classifier("cnn", (1, 28, 28), 10, 4), ConvNet)
    with pytest.raises(ValueError, match="images"):
        build_classifier("cnn", (5,), 3, 4)
    with pytest.raises(ValueError, match="model must be"):
        build_classifier("vgg", (1, 8, 8), 3, 4)
