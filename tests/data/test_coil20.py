"""COIL-20 loader on a tiny fake COIL20.mat (the real checksum is replaced by the fixture's)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.io
import torch

from deepcourse.data import builtin, load_tensors
from deepcourse.data.registry import FileSpec, get_spec, register_dataset, unregister_dataset


def test_coil20_registered():
    spec = get_spec("coil20")
    (f,) = spec.files
    assert f.path == "coil20/COIL20.mat" and f.size == 896630
    assert f.sha256 == "b22b9beb0668f707990eda2b5f922384fd3e6d63d6df7ede3a3b5e2319c4e397"
    assert spec.splits == ("train",) and len(spec.classes) == 20


@pytest.fixture
def fake_coil(tmp_path, fx):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (6, 1024), dtype=np.uint8)
    Y = np.array([[1], [1], [2], [2], [20], [20]], dtype=np.float64)  # MATLAB labels 1..20 as doubles
    p = tmp_path / "coil20" / "COIL20.mat"
    p.parent.mkdir()
    scipy.io.savemat(p, {"X": X, "Y": Y})
    spec = replace(get_spec("coil20"), name="tiny-coil20",
                   files=(FileSpec("coil20/COIL20.mat", fx.sha256(p), p.stat().st_size),))
    register_dataset(spec, replace=True)
    yield tmp_path, X
    unregister_dataset("tiny-coil20")


def test_coil20_loader(fake_coil):
    root, X = fake_coil
    x, y = load_tensors("tiny-coil20", "train", root=root)
    assert x.dtype == torch.uint8 and x.shape == (6, 32, 32)
    assert y.dtype == torch.int64 and y.tolist() == [0, 0, 1, 1, 19, 19]
    assert np.array_equal(x[3].numpy().T.ravel(), X[3])  # rows of X are column-major (MATLAB) images
    with pytest.raises(ValueError, match="split"):
        load_tensors("tiny-coil20", "test", root=root)


def test_coil20_real(shared_data):
    if not (shared_data / "coil20" / "COIL20.mat").is_file():
        pytest.skip("COIL20.mat not staged")
    x, y = load_tensors("coil20", root=shared_data)
    assert x.shape == (1440, 32, 32) and torch.bincount(y).tolist() == [72] * 20
    assert builtin._coil20 is get_spec("coil20").loader
