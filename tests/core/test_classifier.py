import pytest
import torch
from torch import nn

from deepcourse.core import Run, train_classifier
from deepcourse.data import load_splits


def _blobs(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) * 0.3 + torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])[y]
    return x, y


def _splits():
    x, y = _blobs(400)
    return {"x_train": x[:300], "y_train": y[:300], "x_val": x[300:350], "y_val": y[300:350],
            "x_test": x[350:], "y_test": y[350:]}


def test_trains_selects_on_validation_and_reports_test(tmp_path):
    run = Run(tmp_path / "r", device="cpu", seed=0, progress=False)
    torch.manual_seed(0)
    res = train_classifier(nn.Linear(2, 3), _splits(), run, epochs=5, lr=0.1, batch_size=32)
    assert res["test_acc"] > 0.9
    assert res["val_acc"] == max(a for _, a in res["curve"])
    assert 1 <= res["best_epoch"] <= 5 and res["epochs_run"] == 5
    assert (tmp_path / "r" / "checkpoints" / "model.pt").exists()


def test_a_broken_learning_setup_does_not_reach_the_floor(tmp_path):
    """Labels shuffled against inputs: the recipe cannot learn, so the test accuracy stays near chance."""
    run = Run(tmp_path / "r", device="cpu", seed=0, progress=False)
    s = _splits()
    s["y_train"] = s["y_train"][torch.randperm(300, generator=torch.Generator().manual_seed(1))]
    res = train_classifier(nn.Linear(2, 3), s, run, epochs=5, lr=0.1, batch_size=32)
    assert res["test_acc"] < 0.7


def test_bad_arguments(tmp_path):
    run = Run(tmp_path / "r", device="cpu", seed=0, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        train_classifier(nn.Linear(2, 3), _splits(), run, epochs=0, lr=0.1)
    with pytest.raises(ValueError, match="optimizer"):
        train_classifier(nn.Linear(2, 3), _splits(), run, epochs=1, lr=0.1, optimizer="rmsprop?")
    with pytest.raises(TypeError, match="x_train"):
        train_classifier(nn.Linear(2, 3), object(), run, epochs=1, lr=0.1)


def test_works_with_load_splits(tmp_path):
    s = load_splits("iris")
    run = Run(tmp_path / "r", device="cpu", seed=0, progress=False)
    torch.manual_seed(0)
    res = train_classifier(nn.Linear(4, 3), s, run, epochs=20, lr=0.05, batch_size=16, optimizer="sgd",
                           scheduler="cosine")
    assert res["test_acc"] > 0.8
