"""Shared fixtures: offline data root, quiet progress bars, Agg backend."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("DEEPCOURSE_PROGRESS", "0")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data_root() -> Path | None:
    """The offline dataset copy: $DEEPCOURSE_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get("DEEPCOURSE_DATA")
    for cand in ([Path(env)] if env else []) + [SHARED_DATA]:
        if (cand / "mnist").exists():
            return cand
    return None


@pytest.fixture
def data_root() -> Path:
    root = shared_data_root()
    if root is None:
        pytest.skip("real datasets not found: set DEEPCOURSE_DATA (see shared/data/MANIFEST.md)")
    return root
