"""Figures: each returns a Figure, saves a small PNG, and rejects bad input with a clear message."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.image import imread

from deepcourse.viz import (
    confusion_matrix_plot,
    decision_boundary,
    histograms,
    image_grid,
    line_plot,
    loss_curves,
    save_png,
)


def _check_png(fig, tmp_path, name="fig"):
    assert isinstance(fig, Figure)
    path = save_png(fig, tmp_path / "sub" / f"{name}.png")
    assert path.exists()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size < 300_000, "figures should stay small PNGs"
    pixels = imread(path)
    assert pixels.std() > 0.01, "a figure should not be blank"
    return pixels


def test_no_pyplot_state():
    # figures are built without pyplot: nothing to leak, no GUI backend needed
    loss_curves({"a": [1.0, 0.5]})
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []


def test_loss_curves_values_and_pairs(tmp_path):
    fig = loss_curves(
        {"train": [1.0, 0.5, 0.25, 0.2], "val": [(0, 1.1), (2, 0.6), (4, 0.4)]}, logy=True, title="loss"
    )
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "loss"
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[1].get_xdata(), [0, 2, 4])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "val"]
    pixels = _check_png(fig, tmp_path)
    assert pixels.shape[:2] == (400, 640)  # 6.4 x 4 in at 100 dpi


def test_loss_curves_tensor_and_logy_nonpositive(tmp_path):
    fig = loss_curves({"x": torch.tensor([1.0, 0.0, -1.0, 0.5]),
                       "bf16": torch.tensor([0.5, 0.4, 0.3], dtype=torch.bfloat16)}, logy=True)
    _check_png(fig, tmp_path)


def test_loss_curves_errors():
    with pytest.raises(TypeError, match="curves must be a dict"):
        loss_curves([1, 2, 3])
    with pytest.raises(ValueError, match="curves is empty"):
        loss_curves({})
    with pytest.raises(ValueError, match=r"curves\['a'\] must be a list of values or of \(step, value\)"):
        loss_curves({"a": np.zeros((3, 3))})


@pytest.mark.parametrize(
    "images",
    [
        torch.rand(10, 1, 8, 8),
        torch.rand(5, 3, 8, 8) * 2 - 1,  # tanh range, rescaled
        torch.randint(0, 256, (6, 8, 8), dtype=torch.uint8),  # (N, H, W) uint8
        np.random.default_rng(0).random((4, 8, 8)),
    ],
)
def test_image_grid_mosaic(images, tmp_path):
    fig = image_grid(images, nrow=4)
    assert len(fig.axes) == 1
    _check_png(fig, tmp_path)


def test_image_grid_with_titles(tmp_path):
    fig = image_grid(torch.rand(6, 1, 8, 8), nrow=3, titles=[f"y={i}" for i in range(6)])
    assert len(fig.axes) == 6
    assert fig.axes[4].get_title() == "y=4"
    _check_png(fig, tmp_path)


def test_image_grid_errors():
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, H, W\)"):
        image_grid(torch.rand(8, 8))
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        image_grid(torch.rand(2, 5, 8, 8))
    with pytest.raises(ValueError, match="titles must have one entry per image"):
        image_grid(torch.rand(2, 8, 8), titles=["a"])
    with pytest.raises(ValueError, match="nrow must be an int >= 1"):
        image_grid(torch.rand(2, 8, 8), nrow=0)


def _blobs():
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(20, 2, generator=g) - 2, torch.randn(20, 2, generator=g) + 2])
    y = torch.cat([torch.zeros(20), torch.ones(20)]).long()
    return x, y


@pytest.mark.parametrize(
    "predict",
    [
        lambda g: torch.stack([-g.sum(1), g.sum(1)], dim=1),  # (M, C) logits
        lambda g: torch.sigmoid(g.sum(1)),  # (M,) probabilities
        lambda g: g.sum(1, keepdim=True),  # (M, 1) logits
        lambda g: (g.sum(1) > 0).long(),  # (M,) labels
    ],
)
def test_decision_boundary_output_kinds(predict, tmp_path):
    x, y = _blobs()
    fig = decision_boundary(predict, x, y, resolution=50)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()
    _check_png(fig, tmp_path)


def test_decision_boundary_into_axes_and_signed_labels(tmp_path):
    from deepcourse.viz.figures import _new_figure

    x, y = _blobs()
    fig = _new_figure((8, 4))
    left, right = fig.subplots(1, 2)
    assert decision_boundary(lambda g: g[:, 0] > 0, x, y, resolution=30, ax=left) is fig
    y_signed = y * 2 - 1  # labels {-1, +1} keep two distinct colours
    decision_boundary(lambda g: torch.where(g[:, 0] > 0, 1, -1), x, y_signed, resolution=30, ax=right)
    colours = {tuple(c.get_facecolor()[0]) for c in right.collections if hasattr(c, "get_offsets")
               and len(c.get_offsets()) == 20}
    assert len(colours) == 2
    _check_png(fig, tmp_path)


def test_decision_boundary_errors():
    x, y = _blobs()
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2\)"):
        decision_boundary(lambda g: g[:, 0], torch.rand(5, 3), torch.zeros(5), resolution=10)
    with pytest.raises(ValueError, match="y must have 40 labels"):
        decision_boundary(lambda g: g[:, 0], x, y[:3], resolution=10)
    with pytest.raises(ValueError, match="predict_fn must return"):
        decision_boundary(lambda g: g[:5, 0], x, y, resolution=10)
    with pytest.raises(ValueError, match="resolution must be an int >= 2"):
        decision_boundary(lambda g: g[:, 0], x, y, resolution=1)


@pytest.mark.parametrize("overlay", [True, False])
def test_histograms(overlay, tmp_path):
    rng = np.random.default_rng(0)
    fig = histograms({"sigmoid": rng.normal(size=500), "relu": torch.randn(300)}, overlay=overlay,
                     xlabel="gradient norm")
    assert len(fig.axes) == (1 if overlay else 2)
    assert fig.axes[-1].get_xlabel() == "gradient norm"
    _check_png(fig, tmp_path)
    with pytest.raises(ValueError, match="no finite number"):
        histograms({"a": [np.nan]})


@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_matrix_plot(normalize, tmp_path):
    cm = torch.tensor([[5, 1, 0], [2, 3, 1], [0, 0, 6]])
    fig = confusion_matrix_plot(cm, class_names=["cat", "dog", "owl"], normalize=normalize)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert ("0.83" if normalize else "5") in texts
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "owl"]
    assert ax.get_ylabel() == "true" and ax.get_xlabel() == "predicted"
    _check_png(fig, tmp_path)
    with pytest.raises(ValueError, match="cm must be a square matrix"):
        confusion_matrix_plot(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="class_names must have 3 entries"):
        confusion_matrix_plot(cm, class_names=["a"])


def test_line_plot(tmp_path):
    n = [1, 2, 4, 8, 16]
    fig = line_plot(n, {"max error": [0.5, 0.3, 0.1, 0.05, 0.01]}, xlabel="hidden units N",
                    ylabel="max |f - g|", logx=True, logy=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "hidden units N"
    _check_png(fig, tmp_path)
    with pytest.raises(ValueError, match=r"ys\['a'\] has 2 values but x has 5"):
        line_plot(n, {"a": [1, 2]}, xlabel="x", ylabel="y")


def test_public_new_figure_and_bar_chart():
    from deepcourse.viz import bar_chart, new_figure, style

    with style():
        fig = new_figure((3, 2))
        fig.add_subplot().plot([0, 1], [1, 0])
    assert tuple(fig.get_size_inches()) == (3, 2)
    fig = bar_chart({"a": 0.5, "b": 0.75}, errors={"a": 0.1}, reference=0.6, reference_label="paper", title="t")
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [0.5, 0.75]
    import pytest

    with pytest.raises(ValueError, match="lacks"):
        bar_chart({"a": 1.0}, errors={"z": 0.1})
