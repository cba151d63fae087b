"""A procedural 3-D object benchmark with part labels, for classification, part segmentation and completion
(ModelNet, ShapeNet and PCN cannot be downloaded here).

Twelve classes of composite objects, each built from parts (boxes, cylinders, frusta, ellipsoids, torus
arcs) with random proportions and part counts, so that classes overlap in simple statistics (a stool and a
table are both a slab on legs; a bottle and a rocket both a cylinder with a narrowing top). Each object's
surface is sampled uniformly by area (points per primitive proportional to its area, uniform on it), centred
and scaled to the unit sphere, and its points shuffled. Optional random rotation about the vertical axis and
Gaussian noise. Every object is generated from its own seed, derived from (split, class, index), so train and
test never share a generator seed. Part ids are global (``PARTS``); each class uses its own subset
(``CLASS_PARTS``), as in ShapeNet-Part.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
import torch

__all__ = ["CLASSES", "PARTS", "CLASS_PARTS", "make_object", "make_shapes", "shape_splits"]

CLASSES = ("table", "chair", "sofa", "lamp", "mug", "bottle", "airplane", "car", "bookshelf", "bed", "rocket", "stool")
CLASS_PARTS = {
    "table": ("table-top", "table-leg"), "chair": ("chair-seat", "chair-leg", "chair-back"),
    "sofa": ("sofa-seat", "sofa-back", "sofa-arm"), "lamp": ("lamp-base", "lamp-pole", "lamp-shade"),
    "mug": ("mug-body", "mug-handle"), "bottle": ("bottle-body", "bottle-neck"),
    "airplane": ("airplane-fuselage", "airplane-wing", "airplane-tail"),
    "car": ("car-body", "car-cabin", "car-wheel"), "bookshelf": ("bookshelf-frame", "bookshelf-shelf"),
    "bed": ("bed-mattress", "bed-headboard", "bed-leg"), "rocket": ("rocket-body", "rocket-nose", "rocket-fin"),
    "stool": ("stool-seat", "stool-leg"),
}
PARTS = tuple(p for c in CLASSES for p in CLASS_PARTS[c])


# ------------------------------------------------------------------ primitives: (area, sampler(n, rng) -> (n, 3))
def _box(c, s):
    c, s = np.asarray(c, float), np.asarray(s, float)
    faces = np.array([s[1] * s[2], s[1] * s[2], s[0] * s[2], s[0] * s[2], s[0] * s[1], s[0] * s[1]])

    def sample(n, rng):
        f = rng.choice(6, n, p=faces / faces.sum())
        u = rng.uniform(-0.5, 0.5, (n, 3))
        ax = f // 2
        u[np.arange(n), ax] = np.where(f % 2 == 0, -0.5, 0.5)
        return c + u * s
    return faces.sum(), sample


def _axis(p, axis):
    return p if axis == 2 else (p[:, [2, 1, 0]] if axis == 0 else p[:, [0, 2, 1]])


def _frustum(c, r0, r1, h, axis=2, caps=(True, True)):
    """A frustum (cylinder when r0 == r1) from c - h/2 to c + h/2 along ``axis``, radii r0 (bottom), r1 (top)."""
    c = np.asarray(c, float)
    side = np.pi * (r0 + r1) * np.hypot(h, r1 - r0)
    areas = np.array([side, np.pi * r0 ** 2 * caps[0], np.pi * r1 ** 2 * caps[1]])

    def sample(n, rng):
        k = rng.choice(3, n, p=areas / areas.sum())
        t = rng.uniform(0, 1, n)
        if abs(r1 - r0) > 1e-9:  # density along the side proportional to the radius: invert the CDF
            t = (np.sqrt(r0 ** 2 + t * (r1 ** 2 - r0 ** 2)) - r0) / (r1 - r0)
        r = np.where(k == 0, r0 + (r1 - r0) * t, np.where(k == 1, r0, r1) * np.sqrt(rng.uniform(0, 1, n)))
        z = np.where(k == 0, t, np.where(k == 1, 0.0, 1.0)) * h - h / 2
        a = rng.uniform(0, 2 * np.pi, n)
        return c + _axis(np.stack([r * np.cos(a), r * np.sin(a), z], 1), axis)
    return areas.sum(), sample


def _ellipsoid(c, radii):
    c, radii = np.asarray(c, float), np.asarray(radii, float)
    a, b, cc = radii
    p = 1.6075  # Knud Thomsen's approximation of the surface area
    area = 4 * np.pi * (((a * b) ** p + (a * cc) ** p + (b * cc) ** p) / 3) ** (1 / p)

    def sample(n, rng):  # normalised Gaussians, stretched (near-uniform for mild elongation)
        u = rng.normal(size=(n, 3))
        return c + u / np.linalg.norm(u, axis=1, keepdims=True) * radii
    return area, sample


def _torus_arc(c, big, small, a0, a1):
    """A torus arc in the x-z plane (a mug handle): angles a0..a1 around the big circle."""
    c = np.asarray(c, float)
    area = (a1 - a0) * big * 2 * np.pi * small

    def sample(n, rng):
        out = np.empty((0, 3))
        while len(out) < n:  # area element proportional to (big + small cos phi): rejection
            th, ph = rng.uniform(a0, a1, 2 * n), rng.uniform(0, 2 * np.pi, 2 * n)
            keep = rng.uniform(0, big + small, 2 * n) < big + small * np.cos(ph)
            rr = big + small * np.cos(ph[keep])
            out = np.vstack([out, np.stack([rr * np.cos(th[keep]), small * np.sin(ph[keep]), rr * np.sin(th[keep])], 1)])
        return c + out[:n]
    return area, sample


# ------------------------------------------------------------------ classes: rng -> [(primitive, part name)]
def _legs(rng, xs, ys, z_top, h, r, square):
    return [(_box((x, y, z_top - h / 2), (2 * r, 2 * r, h)) if square else _frustum((x, y, z_top - h / 2), r, r, h))
            for x in xs for y in ys]


def _table(rng):
    w, d, h, t = rng.uniform(0.8, 1.6), rng.uniform(0.5, 1.0), rng.uniform(0.5, 0.9), rng.uniform(0.03, 0.08)
    top = _box((0, 0, h), (w, d, t)) if rng.random() < 0.6 else _frustum((0, 0, h), d / 2, d / 2, t)
    if rng.random() < 0.25:  # a pedestal table
        legs = [_frustum((0, 0, h / 2), 0.05, 0.05, h, caps=(False, False)), _frustum((0, 0, 0.02), d / 3, d / 3, 0.04)]
    else:
        r = rng.uniform(0.02, 0.05)
        legs = _legs(rng, (-w / 2 + 2 * r, w / 2 - 2 * r), (-d / 2 + 2 * r, d / 2 - 2 * r), h, h, r, rng.random() < 0.5)
    return [(top, "table-top")] + [(leg, "table-leg") for leg in legs]


def _chair(rng):
    w, h, t = rng.uniform(0.4, 0.6), rng.uniform(0.35, 0.5), rng.uniform(0.03, 0.08)
    bh, r = rng.uniform(0.3, 0.7), rng.uniform(0.02, 0.04)
    out = [(_box((0, 0, h), (w, w, t)), "chair-seat"), (_box((0, -w / 2 + t / 2, h + bh / 2), (w, t, bh)), "chair-back")]
    return out + [(leg, "chair-leg") for leg in _legs(rng, (-w / 2 + r, w / 2 - r), (-w / 2 + r, w / 2 - r), h, h, r, rng.random() < 0.5)]


def _sofa(rng):
    w, d, h = rng.uniform(1.2, 2.2), rng.uniform(0.6, 0.9), rng.uniform(0.3, 0.45)
    bh, aw, ah = rng.uniform(0.3, 0.5), rng.uniform(0.1, 0.2), rng.uniform(0.1, 0.3)
    out = [(_box((0, 0, h / 2), (w, d, h)), "sofa-seat"), (_box((0, -d / 2 + 0.08, h + bh / 2), (w, 0.16, bh)), "sofa-back")]
    if rng.random() < 0.85:
        out += [(_box((s * (w / 2 + aw / 2), 0, (h + ah) / 2), (aw, d, h + ah)), "sofa-arm") for s in (-1, 1)]
    return out


def _lamp(rng):
    h, br = rng.uniform(0.6, 1.4), rng.uniform(0.1, 0.25)
    sr0, sr1, sh = rng.uniform(0.15, 0.35), rng.uniform(0.05, 0.2), rng.uniform(0.15, 0.35)
    return [(_frustum((0, 0, 0.02), br, br, 0.04), "lamp-base"),
            (_frustum((0, 0, h / 2), 0.015, 0.015, h, caps=(False, False)), "lamp-pole"),
            (_frustum((0, 0, h + sh / 2 - 0.05), sr0, sr1, sh, caps=(False, False)), "lamp-shade")]


def _mug(rng):
    r, h = rng.uniform(0.25, 0.45), rng.uniform(0.4, 0.9)
    big, small = rng.uniform(0.12, 0.25) * h / 0.6, rng.uniform(0.02, 0.05)
    return [(_frustum((0, 0, h / 2), r, r * rng.uniform(0.9, 1.15), h, caps=(True, False)), "mug-body"),
            (_torus_arc((r, 0, h / 2), big, small, -np.pi / 2, np.pi / 2), "mug-handle")]


def _bottle(rng):
    r, h = rng.uniform(0.15, 0.3), rng.uniform(0.5, 1.0)
    nr, nh, sh = rng.uniform(0.04, 0.08), rng.uniform(0.1, 0.3), rng.uniform(0.05, 0.2)
    return [(_frustum((0, 0, h / 2), r, r, h, caps=(True, False)), "bottle-body"),
            (_frustum((0, 0, h + sh / 2), r, nr, sh, caps=(False, False)), "bottle-neck"),
            (_frustum((0, 0, h + sh + nh / 2), nr, nr, nh, caps=(False, True)), "bottle-neck")]


def _airplane(rng):
    length, fr = rng.uniform(1.5, 2.5), rng.uniform(0.08, 0.16)
    span, chord, wx = rng.uniform(1.2, 2.4), rng.uniform(0.2, 0.45), rng.uniform(-0.2, 0.2)
    out = [(_ellipsoid((0, 0, 0), (length / 2, fr, fr)), "airplane-fuselage"),
           (_box((wx, 0, 0), (chord, span, 0.03)), "airplane-wing")]
    tx = -length / 2 + 0.15
    out += [(_box((tx, 0, fr + 0.12), (0.2, 0.02, 0.25)), "airplane-tail"),
            (_box((tx, 0, 0.02), (0.15, rng.uniform(0.3, 0.7), 0.02)), "airplane-tail")]
    if rng.random() < 0.5:
        out += [(_frustum((wx, s * span / 4, -0.08), 0.05, 0.05, 0.3, axis=0), "airplane-wing") for s in (-1, 1)]
    return out


def _car(rng):
    length, w, h = rng.uniform(1.4, 2.2), rng.uniform(0.6, 0.9), rng.uniform(0.25, 0.4)
    wr, cl = rng.uniform(0.12, 0.2), rng.uniform(0.4, 0.7)
    out = [(_box((0, 0, wr + h / 2), (length, w, h)), "car-body"),
           (_box((rng.uniform(-0.2, 0.1) * length, 0, wr + h + 0.12), (cl * length, 0.9 * w, 0.24)), "car-cabin")]
    return out + [(_frustum((x, y, wr), wr, wr, 0.1, axis=1), "car-wheel")
                  for x in (-length / 3, length / 3) for y in (-w / 2, w / 2)]


def _bookshelf(rng):
    w, d, h, t = rng.uniform(0.6, 1.2), rng.uniform(0.25, 0.4), rng.uniform(0.8, 1.8), 0.04
    out = [(_box((s * w / 2, 0, h / 2), (t, d, h)), "bookshelf-frame") for s in (-1, 1)]
    out.append((_box((0, -d / 2, h / 2), (w, 0.01, h)), "bookshelf-frame"))
    return out + [(_box((0, 0, z), (w, d, t)), "bookshelf-shelf") for z in np.linspace(0.02, h, rng.integers(3, 7))]


def _bed(rng):
    length, w, mh, leg = rng.uniform(1.6, 2.2), rng.uniform(0.9, 1.8), rng.uniform(0.15, 0.3), rng.uniform(0.1, 0.3)
    hh = rng.uniform(0.3, 0.8)
    out = [(_box((0, 0, leg + mh / 2), (length, w, mh)), "bed-mattress"),
           (_box((-length / 2, 0, (leg + mh + hh) / 2), (0.06, w, leg + mh + hh)), "bed-headboard")]
    return out + [(leg_, "bed-leg") for leg_ in _legs(rng, (-length / 2 + 0.1, length / 2 - 0.05), (-w / 2 + 0.05, w / 2 - 0.05), leg, leg, 0.04, True)]


def _rocket(rng):
    r, h, nh = rng.uniform(0.1, 0.2), rng.uniform(1.0, 2.0), rng.uniform(0.2, 0.5)
    fins = rng.integers(3, 5)
    out = [(_frustum((0, 0, h / 2), r, r, h, caps=(True, False)), "rocket-body"),
           (_frustum((0, 0, h + nh / 2), r, 0.005, nh, caps=(False, False)), "rocket-nose")]
    fl = rng.uniform(0.15, 0.35)
    for a in np.arange(fins) * 2 * np.pi / fins:
        area, s = _box((0, 0, fl / 2), (0.02, fl, fl))
        rot = np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0], [0, 0, 1]])
        out.append(((area, lambda n, rng, s=s, rot=rot: (s(n, rng) + [0, r + fl / 2, 0]) @ rot), "rocket-fin"))
    return out


def _stool(rng):
    r, h, t = rng.uniform(0.15, 0.3), rng.uniform(0.4, 0.8), rng.uniform(0.03, 0.08)
    seat = _frustum((0, 0, h), r, r, t) if rng.random() < 0.7 else _box((0, 0, h), (2 * r, 2 * r, t))
    n = rng.integers(3, 5)
    legs = [_frustum((0.8 * r * np.cos(a), 0.8 * r * np.sin(a), h / 2), 0.02, 0.02, h, caps=(False, False))
            for a in np.arange(n) * 2 * np.pi / n]
    return [(seat, "stool-seat")] + [(leg, "stool-leg") for leg in legs]


_BUILDERS = {"table": _table, "chair": _chair, "sofa": _sofa, "lamp": _lamp, "mug": _mug, "bottle": _bottle,
             "airplane": _airplane, "car": _car, "bookshelf": _bookshelf, "bed": _bed, "rocket": _rocket,
             "stool": _stool}


def _seed(*key) -> int:
    return int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:8], "little")


def make_object(cls: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One object of class ``cls``: ``(n, 3)`` surface points (unit sphere, centred, shuffled) and ``(n,)``
    global part ids."""
    rng = np.random.default_rng(seed)
    prims = _BUILDERS[cls](rng)
    areas = np.array([p[0][0] for p in prims])
    counts = rng.multinomial(n, areas / areas.sum())
    pts = np.concatenate([p[0][1](k, rng) for p, k in zip(prims, counts) if k > 0])
    parts = np.concatenate([np.full(k, PARTS.index(p[1])) for p, k in zip(prims, counts) if k > 0])
    pts = pts - pts.mean(0)
    pts /= np.linalg.norm(pts, axis=1).max()
    order = rng.permutation(n)
    return pts[order].astype(np.float32), parts[order]


@lru_cache(maxsize=16)
def _make(split: str, per_class: int, n: int, classes: tuple[str, ...]):
    pts, parts, labels = [], [], []
    for ci, c in enumerate(classes):
        for i in range(per_class):
            p, q = make_object(c, n, _seed("shapes", split, c, i))
            pts.append(p)
            parts.append(q)
            labels.append(CLASSES.index(c))
    return torch.from_numpy(np.stack(pts)), torch.from_numpy(np.array(labels)), torch.from_numpy(np.stack(parts))


def make_shapes(split: str, per_class: int, n: int = 1024, classes: tuple[str, ...] = CLASSES, rotate: bool = False,
                noise: float = 0.0, seed: int = 0) -> dict[str, torch.Tensor]:
    """``per_class`` objects of each class of ``split`` (``"train"``, ``"val"`` or ``"test"``; disjoint seeds):
    ``{"points": (M, n, 3), "labels": (M,) indices into CLASSES, "parts": (M, n) indices into PARTS}``.
    ``rotate``: a random rotation about the vertical axis per object; ``noise``: Gaussian sigma (both seeded
    by ``seed``)."""
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be train, val or test; got {split!r}")
    unknown = set(classes) - set(CLASSES)
    if unknown:
        raise ValueError(f"unknown classes {sorted(unknown)}; known: {CLASSES}")
    pts, labels, parts = _make(split, per_class, n, tuple(classes))
    g = torch.Generator().manual_seed(_seed("shapes-aug", split, seed) % 2**63)
    if rotate:
        from .augment import random_rotation
        pts = pts @ random_rotation(len(pts), True, g)
    if noise > 0:
        pts = pts + noise * torch.randn(pts.shape, generator=g)
    return {"points": pts, "labels": labels, "parts": parts}


def shape_splits(per_class: int, test_per_class: int, n: int = 1024, val_per_class: int | None = None,
                 **kw) -> dict[str, torch.Tensor]:
    """Classification splits ``{x_train, y_train, x_val, y_val, x_test, y_test}`` (labels re-indexed to the
    classes asked for)."""
    classes = kw.get("classes", CLASSES)
    val_per_class = max(2, per_class // 10) if val_per_class is None else val_per_class
    out = {}
    for part, k in (("train", per_class), ("val", val_per_class), ("test", test_per_class)):
        d = make_shapes(part, k, n, **kw)
        remap = torch.tensor([classes.index(c) if c in classes else -1 for c in CLASSES])
        out[f"x_{part}"], out[f"y_{part}"] = d["points"], remap[d["labels"]]
    return out
