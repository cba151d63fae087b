"""LRA Image: the grey-level tokeniser (data/lra_image.py), the un-padded SequenceClassifier, and the image path of
nystrom-vs-exact on a tiny subset."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepcourse.core.registry import get
from deepcourse.data.lra_image import LRA_IMAGE_LENGTH, grey_levels, lra_image_splits
from deepcourse.transformers import SequenceClassifier


def _image(rgb, h=2, w=2):
    return torch.tensor(rgb, dtype=torch.uint8).view(1, 3, 1, 1).expand(1, 3, h, w).contiguous()


@pytest.mark.parametrize("rgb,grey", [
    ((0, 0, 0), 0), ((255, 255, 255), 255),
    ((255, 0, 0), 76),     # trunc(0.2989 * 255.5) = trunc(76.37)
    ((0, 255, 0), 149),    # trunc(0.5870 * 255.5) = trunc(149.98): truncated, not rounded
    ((0, 0, 255), 29),     # trunc(0.1140 * 255.5) = trunc(29.13)
    ((10, 200, 50), 126),  # (2.989 + 117.4 + 5.7) / 255 * 255.5 = 126.34
])
def test_grey_levels_follow_tf_rgb_to_grayscale(rgb, grey):
    tokens = grey_levels(_image(rgb))
    assert tokens.dtype == torch.long and tokens.shape == (1, 4)
    assert tokens.tolist() == [[grey] * 4]


def test_grey_levels_within_one_of_pillow_luma():
    from PIL import Image

    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (5, 3, 32, 32), generator=g, dtype=torch.uint8)
    ours = grey_levels(x)
    pil = torch.stack([torch.from_numpy(np.array(Image.fromarray(img.permute(1, 2, 0).numpy()).convert("L")))
                       .flatten().long() for img in x])  # ITU-R 601 luma with 0.299 / 0.587 / 0.114, rounded
    assert ours.shape == (5, LRA_IMAGE_LENGTH) and 0 <= ours.min() and ours.max() <= 255
    assert (ours - pil).abs().max() <= 1
    assert (ours != pil).any()  # truncation vs rounding: not the same function


def test_grey_levels_flatten_row_by_row():
    x = torch.zeros(1, 3, 32, 32, dtype=torch.uint8)
    x[0, :, 2, 5] = 255  # row 2, column 5
    tokens = grey_levels(x)[0]
    assert tokens[2 * 32 + 5] == 255 and tokens.sum() == 255


@pytest.mark.parametrize("bad", [torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4, 3, dtype=torch.uint8),
                                 torch.zeros(3, 4, 4, dtype=torch.uint8)])
def test_grey_levels_reject_other_layouts(bad):
    with pytest.raises(ValueError):
        grey_levels(bad)


def test_lra_image_splits_on_cifar10(data_root):
    from deepcourse.data import load_splits

    s = lra_image_splits(subset=200, test_subset=100, root=data_root)
    assert (len(s.y_train), len(s.y_val), len(s.y_test), s.num_classes) == (180, 20, 100, 10)
    assert s.x_train.shape == (180, 1024) and s.x_train.dtype == torch.long
    assert 0 <= s.x_test.min() and s.x_test.max() <= 255 and s.x_train.float().std() > 20  # real images
    ref = load_splits("cifar10-jpeg", subset=200, test_subset=100, root=data_root)  # the same images, as floats
    luma = (ref.x_test * torch.tensor([0.2989, 0.5870, 0.1140]).view(1, 3, 1, 1)).sum(1).flatten(1) * 255
    assert (s.x_test - luma).abs().max() <= 1.0
    assert torch.equal(s.y_test, ref.y_test)


@pytest.mark.parametrize("landmarks", [None, 8])
def test_unpadded_classifier_equals_an_empty_mask(landmarks):
    torch.manual_seed(0)
    model = SequenceClassifier(256, 10, 64, dim=16, heads=2, hidden=32, landmarks=landmarks, conv_kernel=3,
                               pad=None).eval()
    ids = torch.randint(0, 256, (3, 64))
    ids[:, :10] = 0  # black pixels: tokens, not padding
    out = model(ids)
    model.pad = 999  # an id that never occurs: the masked path with nothing masked
    assert torch.allclose(out, model(ids), atol=1e-5)
    model.pad = 0  # masking id 0 (the Nystromformer's LRA code) drops the black pixels and changes the output
    assert not torch.allclose(out, model(ids), atol=1e-3)
    model.pad = None
    black = model(torch.zeros(1, 64, dtype=torch.long))
    assert not torch.allclose(black, model.head.bias, atol=1e-3)  # an all-black image still has features


def test_presets_image_task():
    import deepcourse.transformers.experiments.nystrom_vs_exact as nve

    exp = get("nystrom-vs-exact")
    assert exp.quick.tasks == ("listops",)  # LRA Image does not fit the quick budget
    full = exp.full
    assert "image" in full.tasks and full.image_arms == ("exact", "nystrom") and full.image_subset is None
    assert (full.image_epochs, full.image_batch_size, full.image_lr, full.model_landmarks) == (200, 256, 1e-4, 64)
    cpu = exp.config("full", list(nve.CPU_RECORD))
    assert "image" in cpu.tasks and cpu.image_subset is not None and cpu.image_epochs < full.image_epochs


def test_image_path_trains_both_arms_on_a_tiny_subset(run_tiny, data_root):
    summary, tables, _ = run_tiny("nystrom-vs-exact", "tasks=image", "image_subset=60", "image_test_subset=20",
                                  "image_epochs=1", "image_batch_size=16", "model_landmarks=8", "error_n=64",
                                  "landmarks=4,16", "lengths=32,64", "exact_max_n=64", data_root=data_root)
    m = summary["metrics"]
    assert summary["status"] in ("passed", "failed")  # ran to the end (the tiny error / scaling studies may miss
    # their floors; they are not what this test is about)
    assert not any(k.startswith("listops") for k in m)
    for k in ("image_exact", "image_nystrom", "image_majority"):
        assert 0 <= m[k] <= 100
    assert m["image_majority"] == pytest.approx(10.0)  # a stratified test subset of 10 classes
    table = next(t for t in tables if t["title"].startswith("LRA Image"))
    assert "54 training images" in table["title"] and "a cut of the paper's" in table["title"]
    published = {r["attention"].split(" (")[0]: r["test acc %"] for r in table["rows"]}
    assert published["published: standard"] == 38.20 and published["published: Nystromformer"] == 41.58
    assert {"exact", "nystrom", "majority class"} <= set(published)
