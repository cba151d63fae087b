import pytest
import torch

from deepcourse.data import load_splits, stratified_subset


def test_digits_splits_are_fixed_disjoint_and_independent_of_the_run_seed():
    a = load_splits("digits")
    b = load_splits("digits")
    torch.testing.assert_close(a.x_test, b.x_test)
    assert len(a.x_train) + len(a.x_val) + len(a.x_test) == 1797
    assert a.x_train.shape[1:] == (64,) and 0.0 <= float(a.x_train.min()) and float(a.x_train.max()) <= 1.0
    rows = {tuple(r.tolist()) for r in a.x_test}
    assert not any(tuple(r.tolist()) in rows for r in a.x_train[:200])
    assert a.num_classes == 10


def test_subset_is_stratified_and_val_zero_is_empty():
    s = load_splits("digits", subset=500, val=0.0)
    assert len(s.x_train) == 500 and len(s.x_val) == 0
    counts = torch.bincount(s.y_train)
    assert int(counts.max() - counts.min()) <= 3


def test_tabular_is_standardised_on_train():
    s = load_splits("wine")
    torch.testing.assert_close(s.x_train.mean(0), torch.zeros(13), atol=1e-5, rtol=0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown dataset"):
        load_splits("nope")
    with pytest.raises(ValueError, match="val"):
        load_splits("iris", val=1.5)
    with pytest.raises(ValueError, match="subset"):
        load_splits("iris", subset=10_000)
    with pytest.raises(ValueError, match="val_frac=0.01 .* leaves no validation"):
        load_splits("iris", subset=5, val=0.01)


def test_stratified_subset_counts():
    y = torch.tensor([0] * 90 + [1] * 10)
    idx = stratified_subset(y, 20, seed=0)
    assert torch.bincount(y[idx]).tolist() == [18, 2]


@pytest.mark.parametrize("name,shape", [("mnist", (1, 28, 28)), ("cifar10-jpeg", (3, 32, 32))])
def test_real_images(name, shape, data_root):
    s = load_splits(name, subset=200, test_subset=100, root=data_root)
    assert s.input_shape == shape and len(s.x_test) == 100 and s.x_train.dtype == torch.float32
