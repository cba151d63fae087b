"""src/deepcourse/pointcloud/loaders.py on fixture files that the tests write (no network, no real data)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepcourse.pointcloud.loaders import (load_modelnet_h5, load_modelnet_off, load_pcn, load_shapenet_part, read_off,
                                           read_pcd, sample_mesh)

CUBE_OFF = """OFF
8 6 0
0 0 0
1 0 0
1 1 0
0 1 0
0 0 1
1 0 1
1 1 1
0 1 1
4 0 3 2 1
4 4 5 6 7
4 0 1 5 4
4 2 3 7 6
4 1 2 6 5
4 0 4 7 3
"""


def test_read_off_and_area_sampling(tmp_path):
    f = tmp_path / "cube.off"
    f.write_text(CUBE_OFF.replace("OFF\n8 6 0", "OFF8 6 0"))  # ModelNet's glued first line
    v, t = read_off(f)
    assert v.shape == (8, 3) and t.shape == (12, 3)
    p = sample_mesh(v, t, 6000, np.random.default_rng(0))
    on_face = np.isclose(p, 0) | np.isclose(p, 1)
    assert on_face.any(1).all()  # every point on the surface
    counts = [np.isclose(p[:, a], s).sum() for a in range(3) for s in (0, 1)]
    assert max(counts) < 1.2 * min(counts)  # faces of equal area get equal shares


def test_modelnet_off_folders(tmp_path):
    for c in ("chair", "desk"):
        for split in ("train", "test"):
            (tmp_path / c / split).mkdir(parents=True)
            (tmp_path / c / split / f"{c}_0001.off").write_text(CUBE_OFF)
    d = load_modelnet_off(tmp_path, "test", n=64)
    assert d["points"].shape == (2, 64, 3) and d["labels"].tolist() == [0, 1] and d["classes"] == ["chair", "desk"]
    assert abs(d["points"].norm(dim=-1).amax(1) - 1).max() < 1e-5


def test_modelnet_h5(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "ply_data_train0.h5", "w") as h:
        h["data"] = np.random.rand(3, 2048, 3).astype(np.float32)
        h["label"] = np.array([[1], [0], [2]], dtype=np.uint8)
    d = load_modelnet_h5(tmp_path, "train")
    assert d["points"].shape == (3, 2048, 3) and d["labels"].tolist() == [1, 0, 2]


def test_shapenet_part(tmp_path):
    (tmp_path / "synsetoffset2category.txt").write_text("Airplane\t02691156\nMug\t03797390\n")
    (tmp_path / "train_test_split").mkdir()
    entries = ["shape_data/03797390/m1", "shape_data/02691156/a1"]
    (tmp_path / "train_test_split" / "shuffled_test_file_list.json").write_text(json.dumps(entries))
    for e in entries:
        _, s, i = e.split("/")
        (tmp_path / s).mkdir(exist_ok=True)
        rows = np.column_stack([np.random.rand(10, 6), np.arange(10) % 2 + (36 if s == "03797390" else 0)])
        np.savetxt(tmp_path / s / f"{i}.txt", rows)
    d = load_shapenet_part(tmp_path, "test", n=16)
    assert d["points"].shape == (2, 16, 3) and d["labels"].tolist() == [1, 0]
    assert set(d["parts"][0].tolist()) <= {36, 37} and d["classes"] == ["Airplane", "Mug"]


def _pcd(path, pts, binary):
    head = ("# .PCD v0.7\nVERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\n"
            f"WIDTH {len(pts)}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {len(pts)}\n")
    if binary:
        path.write_bytes((head + "DATA binary\n").encode() + pts.astype("<f4").tobytes())
    else:
        path.write_text(head + "DATA ascii\n" + "\n".join(" ".join(f"{v:.6f}" for v in r) for r in pts) + "\n")


@pytest.mark.parametrize("binary", [False, True])
def test_read_pcd(tmp_path, binary):
    pts = np.random.rand(7, 3).astype(np.float32)
    _pcd(tmp_path / "a.pcd", pts, binary)
    np.testing.assert_allclose(read_pcd(tmp_path / "a.pcd"), pts, atol=1e-6)


def test_pcn_layout(tmp_path):
    for s, n in (("02691156", 2), ("03001627", 1)):
        for i in range(n):
            (tmp_path / "test" / "complete" / s).mkdir(parents=True, exist_ok=True)
            (tmp_path / "test" / "partial" / s / f"m{i}").mkdir(parents=True)
            _pcd(tmp_path / "test" / "complete" / s / f"m{i}.pcd", np.random.rand(32, 3), True)
            _pcd(tmp_path / "test" / "partial" / s / f"m{i}" / "00.pcd", np.random.rand(5, 3), True)
    d = load_pcn(tmp_path, "test", n_partial=8)
    assert d["partial"].shape == (3, 8, 3) and d["complete"].shape == (3, 32, 3) and d["labels"].tolist() == [0, 0, 1]
