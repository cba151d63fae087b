"""Loaders for the public point-cloud benchmarks, for users who can download them (they are not available
offline here; the tests run them on small fixture files). Nothing here reaches the network.

* ModelNet10/40 meshes (``ModelNet40/<class>/<train|test>/<name>.off``), sampled uniformly by area;
* ModelNet40's common 2,048-point HDF5 release (``modelnet40_ply_hdf5_2048/ply_data_<split>*.h5``; needs h5py);
* ShapeNet-Part (``shapenetcore_partanno_segmentation_benchmark_v0_normal``: ``<synset>/<id>.txt`` rows
  ``x y z nx ny nz part``, ``synsetoffset2category.txt``, ``train_test_split/shuffled_<split>_file_list.json``);
* PCN (``<split>/partial/<synset>/<id>/NN.pcd`` and ``<split>/complete/<synset>/<id>.pcd``; ASCII or binary PCD).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

__all__ = ["read_off", "sample_mesh", "load_modelnet_off", "load_modelnet_h5", "load_shapenet_part", "read_pcd",
           "load_pcn"]


def read_off(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices ``(V, 3)`` and triangles ``(F, 3)`` of an OFF mesh (polygons fanned into triangles; tolerates
    ModelNet's ``OFF<counts>`` first line)."""
    tokens = Path(path).read_text().split("\n")
    lines = [t.strip() for t in tokens if t.strip() and not t.strip().startswith("#")]
    head = lines[0]
    if not head.startswith("OFF"):
        raise ValueError(f"{path}: not an OFF file (first line {head[:20]!r})")
    rest = head[3:].strip()
    counts, body = (rest.split(), lines[1:]) if rest else (lines[1].split(), lines[2:])
    nv, nf = int(counts[0]), int(counts[1])
    verts = np.array([[float(v) for v in line.split()[:3]] for line in body[:nv]], dtype=np.float64)
    tris = []
    for line in body[nv:nv + nf]:
        idx = [int(v) for v in line.split()]
        poly = idx[1:1 + idx[0]]
        tris += [(poly[0], poly[i], poly[i + 1]) for i in range(1, len(poly) - 1)]
    return verts, np.array(tris, dtype=np.int64).reshape(-1, 3)


def sample_mesh(verts: np.ndarray, tris: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, 3)`` points uniform on the mesh surface: a triangle with probability proportional to its area, then a
    uniform point in it (barycentric coordinates by the square-root trick)."""
    a, b, c = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    if area.sum() <= 0:
        raise ValueError("sample_mesh: the mesh has zero area")
    t = rng.choice(len(tris), n, p=area / area.sum())
    r1, r2 = np.sqrt(rng.uniform(size=(n, 1))), rng.uniform(size=(n, 1))
    return (1 - r1) * a[t] + r1 * (1 - r2) * b[t] + r1 * r2 * c[t]


def _unit_sphere(p: np.ndarray) -> np.ndarray:
    p = p - p.mean(0)
    return p / max(np.linalg.norm(p, axis=1).max(), 1e-12)


def load_modelnet_off(root: str | Path, split: str = "train", n: int = 1024, seed: int = 0) -> dict:
    """``{"points": (M, n, 3) unit-sphere clouds, "labels": (M,), "classes": [...]}`` from ModelNet's OFF meshes."""
    root = Path(root)
    classes = sorted(d.name for d in root.iterdir() if (d / split).is_dir())
    if not classes:
        raise FileNotFoundError(f"no <class>/{split}/ folders under {root}")
    rng = np.random.default_rng(seed)
    pts, labels = [], []
    for ci, c in enumerate(classes):
        for f in sorted((root / c / split).glob("*.off")):
            pts.append(_unit_sphere(sample_mesh(*read_off(f), n, rng)))
            labels.append(ci)
    return {"points": torch.tensor(np.stack(pts), dtype=torch.float32), "labels": torch.tensor(labels),
            "classes": classes}


def load_modelnet_h5(root: str | Path, split: str = "train") -> dict:
    """``{"points": (M, 2048, 3), "labels": (M,)}`` from ``ply_data_<split>*.h5`` files (keys ``data``, ``label``)."""
    import h5py

    files = sorted(Path(root).glob(f"ply_data_{split}*.h5"))
    if not files:
        raise FileNotFoundError(f"no ply_data_{split}*.h5 under {root}")
    data, label = [], []
    for f in files:
        with h5py.File(f, "r") as h:
            data.append(np.asarray(h["data"], dtype=np.float32))
            label.append(np.asarray(h["label"]).reshape(-1).astype(np.int64))
    return {"points": torch.from_numpy(np.concatenate(data)), "labels": torch.from_numpy(np.concatenate(label))}


def load_shapenet_part(root: str | Path, split: str = "train", n: int = 2048, seed: int = 0) -> dict:
    """``{"points": (M, n, 3), "labels": (M,), "parts": (M, n), "classes": [...]}`` (points resampled to ``n``,
    with repeats for smaller shapes; part ids as in the files: global over the 16 categories)."""
    root = Path(root)
    cats = [line.split() for line in (root / "synsetoffset2category.txt").read_text().splitlines() if line.strip()]
    synset_to_idx = {s: i for i, (_, s) in enumerate(cats)}
    entries = json.loads((root / "train_test_split" / f"shuffled_{split}_file_list.json").read_text())
    rng = np.random.default_rng(seed)
    pts, labels, parts = [], [], []
    for e in entries:  # "shape_data/<synset>/<id>"
        _, synset, sid = e.split("/")
        rows = np.loadtxt(root / synset / f"{sid}.txt", dtype=np.float32, ndmin=2)
        idx = rng.choice(len(rows), n, replace=len(rows) < n)
        pts.append(rows[idx, :3])
        parts.append(rows[idx, -1].astype(np.int64))
        labels.append(synset_to_idx[synset])
    return {"points": torch.from_numpy(np.stack(pts)), "labels": torch.tensor(labels),
            "parts": torch.from_numpy(np.stack(parts)), "classes": [c for c, _ in cats]}


def read_pcd(path: str | Path) -> np.ndarray:
    """``(N, 3)`` x, y, z of a PCD file (``DATA ascii`` or ``DATA binary``, float32 fields)."""
    raw = Path(path).read_bytes()
    header, pos = {}, 0
    while True:
        end = raw.index(b"\n", pos)
        line = raw[pos:end].decode("ascii").strip()
        pos = end + 1
        if line and not line.startswith("#"):
            key, *vals = line.split()
            header[key.upper()] = vals
            if key.upper() == "DATA":
                break
    fields = header["FIELDS"]
    n = int(header["POINTS"][0])
    cols = [fields.index(c) for c in ("x", "y", "z")]
    if header["DATA"][0] == "ascii":
        arr = np.loadtxt(raw[pos:].decode("ascii").splitlines(), dtype=np.float32, ndmin=2)
    elif header["DATA"][0] == "binary":
        if set(header.get("SIZE", ["4"])) != {"4"} or set(header.get("TYPE", ["F"])) != {"F"}:
            raise ValueError(f"{path}: only float32 fields are supported in binary PCD")
        arr = np.frombuffer(raw[pos:pos + 4 * n * len(fields)], dtype="<f4").reshape(n, len(fields))
    else:
        raise ValueError(f"{path}: unsupported PCD DATA {header['DATA'][0]!r}")
    return np.ascontiguousarray(arr[:, cols])


def load_pcn(root: str | Path, split: str = "train", n_partial: int = 2048, view: int = 0, seed: int = 0) -> dict:
    """``{"partial": (M, n_partial, 3), "complete": (M, N, 3), "labels": (M,), "classes": [synsets]}`` with one
    view per model (``view``); partial clouds are resampled to ``n_partial`` (with repeats when smaller)."""
    root = Path(root) / split
    synsets = sorted(d.name for d in (root / "complete").iterdir() if d.is_dir())
    rng = np.random.default_rng(seed)
    partial, complete, labels = [], [], []
    for ci, s in enumerate(synsets):
        for f in sorted((root / "complete" / s).glob("*.pcd")):
            views = sorted((root / "partial" / s / f.stem).glob("*.pcd"))
            if not views:
                continue
            p = read_pcd(views[view % len(views)])
            partial.append(p[rng.choice(len(p), n_partial, replace=len(p) < n_partial)])
            complete.append(read_pcd(f))
            labels.append(ci)
    return {"partial": torch.from_numpy(np.stack(partial)), "complete": torch.from_numpy(np.stack(complete)),
            "labels": torch.tensor(labels), "classes": synsets}
