from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import deepcourse.data as data
from deepcourse.data import (DataCorruptError, DataMissingError, DatasetSpec, FileSpec, check, format_check,
                             format_list, get_spec, list_datasets, load_dataset, load_tensors, register_dataset,
                             unregister_dataset, verify, where)
from deepcourse.data import builtin


def test_builtin_registry_entries():
    names = list_datasets()
    for name in ("mnist", "fashion-mnist", "usps", "cifar10-jpeg", "coil20"):
        assert name in names
    mnist = get_spec("mnist")
    files = {f.path: f for f in mnist.files}
    f = files["mnist/train-images-idx3-ubyte.gz"]
    assert f.sha256 == "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971" and f.size == 9719438
    assert f.urls == ("https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",)
    assert "staged" in mnist.description and mnist.licence and mnist.citation
    fashion = get_spec("fashion-mnist")
    assert all(u.startswith("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")
               for fs in fashion.files for u in fs.urls)
    assert len(fashion.files) == 4 and fashion.total_size == 26421856 + 29491 + 4422079 + 5125


def test_unknown_name_lists_known(tmp_path):
    with pytest.raises(ValueError) as e:
        get_spec("mnsit")
    assert "mnist" in str(e.value) and "fashion-mnist" in str(e.value)
    with pytest.raises(ValueError):
        load_tensors("nope", root=tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_tensors("mnist", "validation", root=tmp_path)


def test_register_twice_refused():
    spec = get_spec("mnist")
    with pytest.raises(ValueError, match="already registered"):
        register_dataset(spec)
    with pytest.raises(TypeError):
        register_dataset("mnist")


def test_where(tmp_path):
    assert where("mnist", tmp_path) == tmp_path / "mnist"
    assert where("cifar10-jpeg", tmp_path) == tmp_path / "cifar10-jpeg"


def test_missing_error_message(tmp_path):
    with pytest.raises(DataMissingError) as e:
        load_tensors("mnist", "train", root=tmp_path)
    err = e.value
    assert isinstance(err, FileNotFoundError)
    msg = str(err)
    assert "'mnist'" in msg
    for fs in get_spec("mnist").files:
        assert str(tmp_path / fs.path) in msg
    assert "deepcourse data download mnist" in msg
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in msg
    assert "DEEPCOURSE_DATA=../shared/data" in msg
    assert "--data-dir" in msg
    assert err.dataset == "mnist" and len(err.searched) == 4
    with pytest.raises(FileNotFoundError):
        load_dataset("fashion-mnist", root=tmp_path)


def test_missing_error_names_env_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_DATA", str(tmp_path))
    with pytest.raises(DataMissingError, match=r"\$DEEPCOURSE_DATA"):
        load_tensors("usps")


def test_check_statuses_and_format(tmp_path):
    res = check("mnist", tmp_path)
    assert [r.status for r in res] == ["missing"] * 4
    assert not data.all_ok(res)
    text = format_check(res)
    assert "4 of 4 files not ok" in text and str(tmp_path / "mnist") in text
    # wrong size
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"short")
    res = check("mnist", tmp_path)
    assert res[3].status == "size mismatch"
    with pytest.raises(DataCorruptError, match="wrong size"):
        verify("mnist", tmp_path)
    listing = format_list(tmp_path)
    assert "mnist" in listing and "bad size" in listing and str(tmp_path) in listing


# ---------------------------------------------------------------------------- a tiny registered dataset

@pytest.fixture
def tiny_idx(tmp_path, fx):
    """A registered 'tiny-idx' dataset in MNIST format under tmp_path, removed afterwards."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.arange(12, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.array([7, 2, 1, 0, 4], dtype=np.uint8),
    }
    files = []
    for name, arr in arrays.items():
        p = fx.write_idx_gz(tmp_path / "tiny-idx" / name, arr)
        files.append(FileSpec(f"tiny-idx/{name}", fx.sha256(p), p.stat().st_size))
    spec = register_dataset(DatasetSpec(
        name="tiny-idx", description="Tiny MNIST-format fixture.", files=tuple(files), licence="test",
        loader=builtin._idx_pair, citation="none", kind="image-classification",
        dataset=builtin._staged_idx_dataset("StagedMNIST")), replace=True)
    yield tmp_path, spec, arrays
    unregister_dataset("tiny-idx")


def test_load_tensors_tiny(tiny_idx):
    root, _, arrays = tiny_idx
    x, y = load_tensors("tiny-idx", "train", root=root)
    assert x.dtype == torch.uint8 and x.shape == (12, 28, 28)
    assert y.dtype == torch.int64 and y.tolist() == list(np.arange(12) % 10)
    assert np.array_equal(x.numpy(), arrays["train-images-idx3-ubyte.gz"])
    xt, yt = load_tensors("tiny-idx", "test", root=root)
    assert xt.shape == (5, 28, 28) and yt.tolist() == [7, 2, 1, 0, 4]
    x[0, 0, 0] = 1  # writable (no read-only numpy buffer warning/trap)


def test_load_dataset_tiny_is_torchvision_mnist(tiny_idx):
    from PIL import Image
    from torchvision.datasets import MNIST

    root, _, arrays = tiny_idx
    ds = load_dataset("tiny-idx", "test", root=root)
    assert isinstance(ds, MNIST) and len(ds) == 5
    img, label = ds[0]
    assert isinstance(img, Image.Image) and img.size == (28, 28) and label == 7
    assert np.array_equal(np.asarray(img), arrays["t10k-images-idx3-ubyte.gz"][0])
    ds = load_dataset("tiny-idx", "train", root=root, transform=lambda im: torch.tensor(np.asarray(im)).float(),
                      target_transform=lambda t: t + 100)
    img, label = ds[3]
    assert img.shape == (28, 28) and label == 103
    assert not (root / "tiny-idx" / "StagedMNIST").exists()  # read in place, nothing written


def test_corrupt_file_detected(tiny_idx, fx):
    root, spec, _ = tiny_idx
    p = root / "tiny-idx" / "t10k-labels-idx1-ubyte.gz"
    good = p.read_bytes()
    bad = bytearray(good)
    bad[-1] ^= 0xFF  # same size, different bytes
    p.write_bytes(bytes(bad))
    with pytest.raises(DataCorruptError) as e:
        load_tensors("tiny-idx", "test", root=root)
    msg = str(e.value)
    expected = next(f.sha256 for f in spec.files if f.path.endswith("t10k-labels-idx1-ubyte.gz"))
    assert isinstance(e.value, ValueError)
    assert str(p) in msg and expected in msg and fx.sha256(p) in msg
    assert e.value.expected == [expected] and e.value.actual == fx.sha256(p)
    assert check("tiny-idx", root)[3].status == "sha256 mismatch"
    p.write_bytes(good)
    assert data.all_ok(check("tiny-idx", root))


def test_sha256_is_cached(tiny_idx, monkeypatch):
    from deepcourse.data import registry

    root, _, _ = tiny_idx
    calls = []
    real = registry.sha256_file
    monkeypatch.setattr(registry, "sha256_file", lambda p: calls.append(p) or real(p))
    registry._SHA_CACHE._mem.clear()
    registry._SHA_CACHE._loaded_from = None
    (root / "cache-test").mkdir()
    monkeypatch.setenv("DEEPCOURSE_CACHE", str(root / "cache-test"))  # a fresh on-disk cache
    load_tensors("tiny-idx", "train", root=root)
    assert len(calls) == 4
    load_tensors("tiny-idx", "test", root=root)
    assert len(calls) == 4  # loads are served from the cache
    assert (root / "cache-test" / "sha256-cache.json").is_file()
    # a new process would read the persisted cache
    registry._SHA_CACHE._mem.clear()
    registry._SHA_CACHE._loaded_from = None
    load_tensors("tiny-idx", "train", root=root)
    assert len(calls) == 4
    # touching a file (new mtime) invalidates its entry
    p = root / "tiny-idx" / "train-labels-idx1-ubyte.gz"
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    load_tensors("tiny-idx", "train", root=root)
    assert len(calls) == 5
    check("tiny-idx", root)  # `data check` trusts no cache: it re-hashes every file
    assert len(calls) == 9


def test_byte_flipped_in_place_with_mtime_kept_is_found(tiny_idx):
    root, _, _ = tiny_idx
    assert data.all_ok(check("tiny-idx", root))
    load_tensors("tiny-idx", "test", root=root)  # the digests are cached now
    p = root / "tiny-idx" / "t10k-labels-idx1-ubyte.gz"
    st = p.stat()
    with open(p, "r+b") as f:  # flip the last byte in place: same size, same inode
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # and put the mtime back
    assert p.stat().st_mtime_ns == st.st_mtime_ns and p.stat().st_size == st.st_size
    assert check("tiny-idx", root)[3].status == "sha256 mismatch"
    with pytest.raises(DataCorruptError, match="sha256 mismatch"):  # loads see it too (the ctime changed)
        load_tensors("tiny-idx", "test", root=root)


def test_image_zip_loader_and_cache(tmp_path, isolated_cache, fx):
    z = fx.write_image_zip(tmp_path / "tiny-img" / "tiny-img.zip")
    spec = register_dataset(DatasetSpec(
        name="tiny-img", description="Tiny image-folder zip.",
        files=(FileSpec("tiny-img/tiny-img.zip", fx.sha256(z), z.stat().st_size),), licence="test",
        loader=lambda ctx, split: builtin._cached_image_zip(ctx, split, "tiny-img/tiny-img.zip"),
        citation="none", kind="image-classification", classes=("ant", "bee", "cat")), replace=True)
    try:
        x, y = load_tensors("tiny-img", "train", root=tmp_path)
        assert x.shape == (9, 3, 8, 8) and x.dtype == torch.uint8
        assert y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]  # alphabetical class order
        assert x[:, 0, 0, 0].tolist() == [0, 1, 2, 50, 51, 52, 100, 101, 102]
        cached = list(isolated_cache.glob(f"tiny-img-{spec.files[0].sha256[:16]}-train.npz"))
        assert len(cached) == 1
        x2, y2 = load_tensors("tiny-img", "train", root=tmp_path)  # from the .npz
        assert torch.equal(x, x2) and torch.equal(y, y2)
        ds = load_dataset("tiny-img", "test", root=tmp_path)
        img, label = ds[4]
        assert img.mode == "RGB" and img.size == (8, 8) and label == 1 and ds.classes == ["ant", "bee", "cat"]
    finally:
        unregister_dataset("tiny-img")


def test_read_idx_rejects_garbage(tmp_path, fx):
    p = tmp_path / "x.idx"
    p.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="IDX"):
        builtin.read_idx(p)
    fx.write_idx_gz(tmp_path / "ok.gz", np.zeros((2, 3), np.uint8))
    assert builtin.read_idx(tmp_path / "ok.gz").shape == (2, 3)


def test_also_accept_variant(tmp_path, fx):
    (tmp_path / "v").mkdir()
    p = tmp_path / "v" / "f.bin"
    p.write_bytes(b"upstream bytes")
    register_dataset(DatasetSpec(
        name="variant", description="Two accepted encodings.",
        files=(FileSpec("v/f.bin", "0" * 64, 5, also_accept=((fx.sha256(p), p.stat().st_size),)),),
        licence="test", loader=lambda ctx, split: (None, None), citation="none", kind="test"), replace=True)
    try:
        assert check("variant", tmp_path)[0].status == "ok"
        assert verify("variant", tmp_path) == tmp_path / "v"
        p.write_bytes(b"upstream bytez")  # same size as the variant, other bytes
        assert check("variant", tmp_path)[0].status == "sha256 mismatch"
    finally:
        unregister_dataset("variant")


def test_datasets_pickle_for_worker_processes(tiny_idx):
    import pickle

    root, _, _ = tiny_idx
    ds = load_dataset("tiny-idx", "test", root=root)
    clone = pickle.loads(pickle.dumps(ds))
    assert len(clone) == 5 and clone[0][1] == 7
