"""Fixtures for the deepcourse.data tests: an isolated derived/sha256 cache and the staged data folder."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

# CI keeps ../shared next to the checkout, as here: <checkout>/../shared/data
_RELATIVE_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("deepcourse-cache")


@pytest.fixture(autouse=True)
def isolated_cache(_session_cache, monkeypatch) -> Path:
    """Never write into the real ~/.cache: derived files and the sha256 cache go to a session tmp dir."""
    monkeypatch.setenv("DEEPCOURSE_CACHE", str(_session_cache))
    return _session_cache


def _staged_candidates() -> list[Path]:
    out = []
    env = os.environ.get("DEEPCOURSE_DATA", "")
    if env:
        out.append(Path(env).expanduser().absolute())
    out.append(_RELATIVE_SHARED)
    return out


@pytest.fixture
def shared_data(monkeypatch) -> Path:
    """The staged real-data folder ($DEEPCOURSE_DATA, else <checkout>/../shared/data), or skip."""
    for cand in _staged_candidates():
        if (cand / "mnist").is_dir():
            monkeypatch.setenv("DEEPCOURSE_DATA", str(cand))
            return cand
    pytest.skip("staged data not found: set DEEPCOURSE_DATA or place shared/data next to the checkout "
                f"(looked at {', '.join(map(str, _staged_candidates()))})")


# ------------------------------------------------------------------- tiny on-disk fixtures (helpers)
def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_idx_gz(path: Path, array: np.ndarray) -> Path:
    """Write a uint8 array as a gzip-compressed IDX file (magic 0x0000 08 ndim, big-endian dims)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0))
    return path


def write_image_zip(path: Path, per_class: int = 3, classes=("cat", "ant", "bee")) -> Path:
    """A zip laid out like the CIFAR-10 JPEG copy: <split>/<class>/<NNNN>.png (lossless PNG here)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for split in ("train", "test"):
            zf.writestr(f"{split}/", b"")
            for c in classes:
                for i in range(per_class):
                    value = sorted(classes).index(c) * 50 + i
                    buf = io.BytesIO()
                    Image.new("RGB", (8, 8), (value, value, value)).save(buf, format="PNG")
                    zf.writestr(f"{split}/{c}/{i:04d}.png", buf.getvalue())
    return path


@pytest.fixture
def fx() -> SimpleNamespace:
    """Helpers that write tiny fixture files: ``fx.sha256``, ``fx.write_idx_gz``, ``fx.write_image_zip``."""
    return SimpleNamespace(sha256=sha256, write_idx_gz=write_idx_gz, write_image_zip=write_image_zip)
