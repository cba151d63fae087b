"""The data of module 7: procedural shapes (src/deepcourse/pointcloud/shapes.py), partial views (partial.py), MNIST
point sets (mnist_points.py), augmentations (augment.py), corruptions (corruptions.py), the part-segmentation
metric (segmentation.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deepcourse.pointcloud.augment import (jitter, normalize_unit_sphere, point_dropout, random_rotation, random_scale,
                                           rotate)
from deepcourse.pointcloud.corruptions import corrupt
from deepcourse.pointcloud.mnist_points import image_to_points
from deepcourse.pointcloud.partial import completion_set, partial_view
from deepcourse.pointcloud.segmentation import part_mask, part_miou
from deepcourse.pointcloud.shapes import CLASS_PARTS, CLASSES, PARTS, make_object, make_shapes, shape_splits


def test_every_class_builds_with_its_parts_on_the_unit_sphere():
    assert len(CLASSES) >= 10
    for c in CLASSES:
        p, parts = make_object(c, 512, seed=3)
        assert p.shape == (512, 3) and np.isfinite(p).all()
        assert abs(np.linalg.norm(p, axis=1).max() - 1) < 1e-5 and np.abs(p.mean(0)).max() < 1e-5
        assert {PARTS[i] for i in np.unique(parts)} <= set(CLASS_PARTS[c])
        assert len(np.unique(parts)) >= 2 or c == "mug"  # a mug's handle is small: it may get few points


def test_shapes_are_seeded_and_train_test_disjoint():
    a, b = make_shapes("train", 2, 64), make_shapes("train", 2, 64)
    assert torch.equal(a["points"], b["points"])
    t = make_shapes("test", 2, 64)
    assert not torch.allclose(a["points"], t["points"])
    assert a["labels"].tolist() == [i for i in range(len(CLASSES)) for _ in range(2)]
    s = shape_splits(3, 2, 32, classes=("mug", "table"))
    assert set(s["y_train"].tolist()) == {0, 1} and s["x_val"].shape == (4, 32, 3)
    with pytest.raises(ValueError, match="unknown classes"):
        make_shapes("train", 1, 8, classes=("teapot",))


def test_surface_sampling_is_uniform_by_area():
    """A box top and its thin legs: the points on each part follow the part's share of the area."""
    from deepcourse.pointcloud.shapes import _box
    area_a, sa = _box((0, 0, 0), (2, 1, 1))
    rng = np.random.default_rng(0)
    p = sa(20000, rng)
    big = (np.isclose(np.abs(p[:, 1]), 0.5) | np.isclose(np.abs(p[:, 2]), 0.5)).mean()  # the four 2x1 faces
    assert area_a == pytest.approx(10.0) and abs(big - 0.8) < 0.02


def test_partial_views_keep_the_side_facing_the_viewpoint():
    x = make_shapes("test", 1, 512, classes=("table",))["points"]
    g = torch.Generator().manual_seed(0)
    part, v = partial_view(x, 128, keep=(0.5, 0.5), generator=g)
    assert part.shape == (1, 128, 3)
    # the kept points are nearer the viewpoint than the cloud on average
    assert ((part - v[:, None]) ** 2).sum(-1).mean() < ((x - v[:, None]) ** 2).sum(-1).mean()
    d = completion_set("test", 2, 64, 32, classes=("mug",))
    assert d["partial"].shape == (2, 32, 3) and d["complete"].shape == (2, 64, 3)
    dist = torch.cdist(d["partial"], d["complete"]).amin(-1)
    assert dist.min() > 0  # the input is an independent sample, not a subset of the ground truth


def test_mnist_points_follow_the_digit():
    img = torch.zeros(2, 1, 28, 28)
    img[0, 0, 2:5, 20:24] = 1.0  # top-right block
    pts = image_to_points(img, 64, generator=torch.Generator().manual_seed(0))
    assert pts.shape == (2, 64, 2)
    assert (pts[0, :, 0] > 0.4).all() and (pts[0, :, 1] > 0.6).all()  # x right, y up
    assert pts[1].abs().max() <= 1  # an empty image still gives points (its brightest pixel)


def test_augmentations():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 50, 3)
    r = random_rotation(4, vertical_only=False, generator=g)
    torch.testing.assert_close(r @ r.transpose(1, 2), torch.eye(3).expand(4, 3, 3), atol=1e-5, rtol=0)
    assert torch.allclose(torch.linalg.det(r), torch.ones(4), atol=1e-5)
    y = rotate(x, True, g)
    torch.testing.assert_close(y[..., 2], x[..., 2])  # the vertical axis is kept
    torch.testing.assert_close(y.norm(dim=-1), x.norm(dim=-1))
    assert (jitter(x, 0.01, 0.05, g) - x).abs().max() <= 0.05
    s = random_scale(x, 0.8, 1.25, g) / x
    assert ((s > 0.79) & (s < 1.26)).all()
    n = normalize_unit_sphere(x * 5 + 3)
    assert torch.allclose(n.norm(dim=-1).amax(1), torch.ones(4)) and n.mean(1).abs().max() < 1e-5
    d = point_dropout(x, 0.875, g)
    assert d.shape == x.shape and ((d == x).all(-1) | (d == x[:, :1]).all(-1)).all()
    assert math.isclose(float(rotate(torch.tensor([[[1.0, 0, 0]]]), True, g).norm()), 1.0, rel_tol=1e-6)


def test_corruptions():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 100, 3) * 0.1
    assert corrupt(x, "delete", 0.75, g).shape == (2, 25, 3)
    o = corrupt(x, "outliers", 0.2, g)
    assert o.shape == (2, 100, 3) and (o.abs() > 0.1).any()
    assert torch.equal(corrupt(x, "perturb", 0.0, g), x)
    with pytest.raises(ValueError, match="corruption"):
        corrupt(x, "rotate", 0.1, g)


def test_part_miou():
    cls = torch.tensor([CLASSES.index("mug"), CLASSES.index("mug")])
    body, handle = PARTS.index("mug-body"), PARTS.index("mug-handle")
    parts = torch.tensor([[body, body, handle, handle], [body, body, body, body]])
    pred = torch.tensor([[body, body, handle, body], [body, body, body, body]])
    mean, per_class = part_miou(pred, parts, cls)
    first = (2 / 3 + 1 / 2) / 2  # body IoU 2/3, handle 1/2; the second shape: handle absent in both -> 1
    assert mean == pytest.approx((first + 1.0) / 2) and per_class == {"mug": pytest.approx((first + 1.0) / 2)}
    assert part_mask().sum() == len(PARTS)
