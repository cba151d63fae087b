"""Figures for experiments and the report: curves, image grids, decision boundaries, histograms.

Every function returns a :class:`matplotlib.figure.Figure` built with the object-oriented API, never
through ``pyplot``: no global figure registry to leak memory across hundreds of runs, no GUI backend,
no ``plt.show()``. PNGs are rendered with Agg (``fig.savefig(...png)`` or :func:`save_png`), and a
notebook still displays a returned Figure. ``Run.save_figure(name, fig)`` is the usual way to store one.

One house style (:data:`STYLE`): 10-11 pt fonts, labelled axes, a light grid, tight layout and 100 dpi,
so a default figure is about 640x400 px and a few tens of kB as PNG.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

__all__ = [
    "style",
    "new_figure",
    "bar_chart",
    "DPI",
    "STYLE",
    "loss_curves",
    "image_grid",
    "decision_boundary",
    "histograms",
    "confusion_matrix_plot",
    "line_plot",
    "save_png",
]

DPI = 100
STYLE: dict[str, Any] = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.interpolation": "nearest",
}
_DEFAULT_SIZE = (6.4, 4.0)  # inches: 640x400 px at 100 dpi
# Tab10's first colours: readable on white and distinguishable for the common colour-blindnesses.
_CLASS_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                  "#7f7f7f", "#bcbd22", "#17becf"]


@contextmanager
def style() -> Iterator[None]:
    """Apply the house :data:`STYLE` while artists are created (rcParams are read at creation time).

    ``with viz.style(): fig = viz.new_figure(); ax = fig.add_subplot(); ax.plot(...)``
    """
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(figsize: tuple[float, float] = _DEFAULT_SIZE) -> Figure:
    """An empty figure in the house size and resolution, detached from pyplot (no window, no global state):
    save it with ``run.save_figure(name, fig)``. Draw inside ``with viz.style():`` for the house look."""
    return Figure(figsize=figsize, dpi=DPI, layout="tight")


_style = style  # the private names predate the public ones
_new_figure = new_figure


def _to_numpy(x: Any, name: str) -> np.ndarray:
    """Tensor (any device, with or without grad), array or sequence -> float NumPy array."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch.Tensor, without importing torch here
        t = x.detach().cpu()
        try:
            return t.numpy()
        except TypeError:  # bfloat16/float8 (AMP outputs) have no NumPy dtype
            return t.float().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be array-like, got {type(x).__name__}: {err}") from err
    if arr.dtype == object:
        raise TypeError(f"{name} must be numeric, got ragged or non-numeric data of type {type(x).__name__}")
    return arr


def _check_mapping(values: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(values, Mapping):
        raise TypeError(f"{name} must be a dict mapping a name to values, got {type(values).__name__}")
    if not values:
        raise ValueError(f"{name} is empty: nothing to plot")
    return values


def _steps_and_values(series: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A list of values (x = 0, 1, ...) or of (step, value) pairs -> (x, y) arrays."""
    arr = _to_numpy(series, name).astype(float)
    if arr.ndim == 1:
        return np.arange(arr.shape[0], dtype=float), arr
    if arr.ndim == 2 and arr.shape[1] == 2:
        return arr[:, 0], arr[:, 1]
    raise ValueError(
        f"{name} must be a list of values or of (step, value) pairs, got an array of shape {arr.shape}"
    )


def save_png(fig: Figure, path: str | Path, dpi: int = DPI) -> Path:
    """Write ``fig`` as a PNG (Agg) and return the path; parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi)
    return path


def loss_curves(
    curves: Mapping[str, Any],
    logy: bool = False,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str | None = None,
) -> Figure:
    """One line per named curve on shared axes.

    ``curves`` maps a name to a list of values (plotted against 0, 1, 2, ...) or to a list of
    ``(step, value)`` pairs (as read back from metrics.jsonl). With ``logy`` non-positive values are
    masked rather than crashing the log scale. Non-finite values leave gaps.
    """
    curves = _check_mapping(curves, "curves")
    with _style():
        fig = _new_figure()
        ax = fig.add_subplot()
        for name, series in curves.items():
            x, y = _steps_and_values(series, f"curves[{name!r}]")
            if logy:
                y = np.where(y > 0, y, np.nan)
            ax.plot(x, y, label=str(name), linewidth=1.5)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        if len(curves) > 1:
            ax.legend(frameon=False)
    return fig


def _grid_images(images: Any) -> np.ndarray:
    """(N, C, H, W) or (N, H, W) in [0, 1], [0, 255] or any float range -> (N, H, W, C) float in [0, 1]."""
    arr = _to_numpy(images, "images")
    if arr.ndim == 3:
        arr = arr[:, None]  # (N, 1, H, W)
    if arr.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W) or (N, H, W), got shape {arr.shape}")
    if arr.shape[1] not in (1, 3, 4):
        raise ValueError(
            f"images must have 1, 3 or 4 channels on dim 1 (N, C, H, W), got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError("images is empty: nothing to plot")
    if arr.dtype == np.uint8:
        out = arr.astype(float) / 255.0
    else:
        out = arr.astype(float)
        finite = out[np.isfinite(out)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        if lo < 0.0 or hi > 1.0:
            # e.g. tanh outputs in [-1, 1] or standardised inputs: rescale the grid jointly so that
            # relative brightness between images is kept.
            out = (out - lo) / (hi - lo) if hi > lo else np.zeros_like(out)
        out = np.nan_to_num(np.clip(out, 0.0, 1.0))
    return out.transpose(0, 2, 3, 1)  # (N, H, W, C)


def image_grid(
    images: Any,
    nrow: int = 8,
    titles: Sequence[str] | None = None,
    cmap: str = "gray",
    title: str | None = None,
    pad: int = 2,
) -> Figure:
    """A grid of images, ``nrow`` per row (torchvision's ``make_grid`` convention).

    ``images``: tensor or array ``(N, C, H, W)`` (C = 1, 3 or 4) or ``(N, H, W)``; uint8 is read as
    [0, 255], floats in [0, 1] are shown as is, other float ranges are rescaled jointly to [0, 1].
    Without ``titles`` the images are tiled into one mosaic (fast for 100+ samples); with ``titles``
    (one per image) each image gets its own small panel and caption.
    """
    if isinstance(nrow, bool) or not isinstance(nrow, (int, np.integer)) or nrow < 1:
        raise ValueError(f"nrow must be an int >= 1, got {nrow!r}")
    imgs = _grid_images(images)  # (N, H, W, C)
    n, h, w, c = imgs.shape
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must have one entry per image ({n}), got {len(titles)}")
    cols = min(int(nrow), n)
    rows = math.ceil(n / cols)
    cell = 1.2 if titles is None else 1.4  # inches per image
    with _style(), matplotlib.rc_context({"axes.grid": False}):
        fig = _new_figure((max(2.0, cols * cell), max(1.6, rows * cell + (0.4 if title else 0.0))))
        if titles is None:
            grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, c))  # white padding
            for i in range(n):
                r, q = divmod(i, cols)
                y0, x0 = pad + r * (h + pad), pad + q * (w + pad)
                grid[y0:y0 + h, x0:x0 + w] = imgs[i]
            ax = fig.add_subplot()
            ax.imshow(grid[..., 0] if c == 1 else grid, cmap=cmap, vmin=0.0, vmax=1.0)
            ax.set_axis_off()
        else:
            for i in range(n):
                ax = fig.add_subplot(rows, cols, i + 1)
                ax.imshow(imgs[i, ..., 0] if c == 1 else imgs[i], cmap=cmap, vmin=0.0, vmax=1.0)
                ax.set_title(str(titles[i]), fontsize=8)
                ax.set_axis_off()
        if title:
            fig.suptitle(title)
    return fig


def _predicted_labels(out: Any, m: int) -> np.ndarray:
    """Model output on m grid points -> integer labels (m,)."""
    arr = _to_numpy(out, "predict_fn output")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.shape[0] != m or arr.ndim not in (1, 2):
        raise ValueError(
            f"predict_fn must return ({m},) labels/scores or ({m}, C) class scores, got shape {arr.shape}"
        )
    if arr.ndim == 2:
        return arr.argmax(axis=1)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        return arr.astype(int)
    if np.all(arr == np.round(arr)):
        return arr.astype(int)  # float labels
    # one score per point: a probability (threshold 0.5) or a logit (threshold 0)
    threshold = 0.5 if arr.min() >= 0.0 and arr.max() <= 1.0 else 0.0
    return (arr > threshold).astype(int)


def decision_boundary(
    predict_fn: Callable[[Any], Any],
    x: Any,
    y: Any,
    resolution: int = 200,
    ax: Axes | None = None,
    margin: float = 0.25,
    title: str | None = None,
) -> Figure:
    """Class regions of a 2-D classifier with the data on top.

    ``predict_fn`` receives a float32 torch tensor of shape ``(resolution**2, 2)`` (grid points) and
    returns labels ``(M,)``, class scores ``(M, C)`` (argmax), or one score per point ``(M,)``/``(M, 1)``
    read as a probability (threshold 0.5) when all values lie in [0, 1], else as a logit (threshold 0).
    It runs under ``torch.no_grad()``. ``x`` is ``(N, 2)``, ``y`` ``(N,)`` integer labels.
    ``margin`` widens the plotted box by that fraction of the data range on every side.
    Draws into ``ax`` when given (e.g. side-by-side panels) and returns its figure.
    """
    import torch

    pts = _to_numpy(x, "x").astype(float)
    labels = _to_numpy(y, "y").reshape(-1)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"x must have shape (N, 2) for a 2-D decision boundary, got shape {pts.shape}")
    if labels.shape[0] != pts.shape[0]:
        raise ValueError(f"y must have {pts.shape[0]} labels to match x, got {labels.shape[0]}")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - margin * span, hi + margin * span
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)  # (R*R, 2)
    with torch.no_grad():
        out = predict_fn(torch.as_tensor(grid, dtype=torch.float32))
    zz = _predicted_labels(out, grid.shape[0]).reshape(resolution, resolution)  # (R, R)
    y_int = labels.astype(int)
    # Colour by rank in the union of classes, so labels like {-1, +1} get distinct colours.
    classes = np.unique(np.concatenate([np.unique(y_int), np.unique(zz)]))
    index = {int(c): i for i, c in enumerate(classes)}
    colours = [_CLASS_COLOURS[i % len(_CLASS_COLOURS)] for i in range(max(len(classes), 2))]
    zz_idx = np.searchsorted(classes, zz)  # (R, R) colour index of each grid point's class
    with _style():
        if ax is None:
            fig = _new_figure((5.0, 4.5))
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        ax.grid(False)
        ax.contourf(gx, gy, zz_idx, levels=np.arange(-0.5, len(colours) + 0.5),
                    cmap=ListedColormap(colours), alpha=0.25)
        for cls in np.unique(y_int):
            sel = y_int == cls
            ax.scatter(pts[sel, 0], pts[sel, 1], s=14, color=colours[index[int(cls)]],
                       edgecolors="white", linewidths=0.4, label=f"class {cls}")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        if title:
            ax.set_title(title)
        ax.legend(frameon=False, loc="best", markerscale=1.2)
    return fig


def histograms(
    values: Mapping[str, Any],
    bins: int = 40,
    xlabel: str = "value",
    title: str | None = None,
    overlay: bool = True,
    density: bool = False,
    logy: bool = False,
) -> Figure:
    """Histograms of named samples (weights, activations, gradient norms, ...).

    ``overlay=True`` draws all on one axis with shared bin edges (comparison at a glance);
    ``overlay=False`` gives one panel per name sharing the x axis. Non-finite values are dropped.
    """
    values = _check_mapping(values, "values")
    data = {}
    for name, v in values.items():
        arr = _to_numpy(v, f"values[{name!r}]").astype(float).ravel()
        data[str(name)] = arr[np.isfinite(arr)]
    everything = np.concatenate(list(data.values()))
    if everything.size == 0:
        raise ValueError("values holds no finite number: nothing to plot")
    edges = np.histogram_bin_edges(everything, bins=bins)
    ylabel = "density" if density else "count"
    with _style():
        if overlay:
            fig = _new_figure()
            ax = fig.add_subplot()
            for name, arr in data.items():
                ax.hist(arr, bins=edges, alpha=0.5, density=density, label=name, log=logy)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            if len(data) > 1:
                ax.legend(frameon=False)
            if title:
                ax.set_title(title)
        else:
            n = len(data)
            fig = _new_figure((6.4, max(2.0, 1.6 * n)))
            axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
            for i, (a, (name, arr)) in enumerate(zip(axes, data.items())):
                a.hist(arr, bins=edges, density=density, log=logy, color=_CLASS_COLOURS[i % 10])
                a.set_ylabel(ylabel)
                a.set_title(name, fontsize=9, loc="left")
            axes[-1].set_xlabel(xlabel)
            if title:
                fig.suptitle(title)
    return fig


def confusion_matrix_plot(
    cm: Any,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    title: str | None = None,
) -> Figure:
    """Heat map of a confusion matrix (true class on rows, predicted on columns).

    ``normalize=True`` divides each row by its count (per-class recall on the diagonal). Counts are
    written in the cells up to 20 classes.
    """
    mat = _to_numpy(cm, "cm").astype(float)
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise ValueError(f"cm must be a square matrix (C, C), got shape {mat.shape}")
    k = mat.shape[0]
    if class_names is None:
        class_names = [str(i) for i in range(k)]
    elif len(class_names) != k:
        raise ValueError(f"class_names must have {k} entries to match cm, got {len(class_names)}")
    if normalize:
        rows = mat.sum(axis=1, keepdims=True)
        mat = np.divide(mat, rows, out=np.zeros_like(mat), where=rows > 0)
    size = min(10.0, max(3.5, 0.45 * k + 1.5))
    with _style(), matplotlib.rc_context({"axes.grid": False}):
        fig = _new_figure((size + 0.8, size))
        ax = fig.add_subplot()
        im = ax.imshow(mat, cmap="Blues", vmin=0.0, vmax=1.0 if normalize else max(mat.max(), 1.0))
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        ax.set_xticks(range(k), [str(c) for c in class_names], rotation=45 if k > 5 else 0, ha="right" if k > 5 else "center")
        ax.set_yticks(range(k), [str(c) for c in class_names])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        if k <= 20:
            threshold = 0.5 * (1.0 if normalize else mat.max())
            for i in range(k):
                for j in range(k):
                    text = f"{mat[i, j]:.2f}" if normalize else f"{int(round(mat[i, j]))}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=8,
                            color="white" if mat[i, j] > threshold else "black")
        if title:
            ax.set_title(title)
    return fig


def line_plot(
    x: Any,
    ys: Mapping[str, Any],
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    title: str | None = None,
    marker: str | None = "o",
) -> Figure:
    """Several named series over one shared ``x`` (e.g. error vs number of hidden units).

    Each ``ys[name]`` must have ``len(x)`` values. ``logx``/``logy`` switch the axes to log scale.
    """
    xs = _to_numpy(x, "x").astype(float).ravel()
    ys = _check_mapping(ys, "ys")
    with _style():
        fig = _new_figure()
        ax = fig.add_subplot()
        for name, series in ys.items():
            arr = _to_numpy(series, f"ys[{name!r}]").astype(float).ravel()
            if arr.shape[0] != xs.shape[0]:
                raise ValueError(f"ys[{name!r}] has {arr.shape[0]} values but x has {xs.shape[0]}")
            ax.plot(xs, arr, marker=marker, markersize=4, linewidth=1.5, label=str(name))
        if logx:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        if len(ys) > 1:
            ax.legend(frameon=False)
    return fig


def bar_chart(
    values: Mapping[str, Any],
    *,
    title: str | None = None,
    ylabel: str = "",
    errors: Mapping[str, Any] | None = None,
    reference: float | None = None,
    reference_label: str = "",
    figsize: tuple[float, float] = _DEFAULT_SIZE,
) -> Figure:
    """One bar per named value (e.g. test accuracy per method), with optional error bars (``errors``, same
    keys) and a dashed horizontal ``reference`` line (e.g. a baseline or the paper's number)."""
    values = _check_mapping(values, "values")
    names = [str(k) for k in values]
    heights = [float(_to_numpy(v, f"values[{k!r}]").ravel()[0]) for k, v in values.items()]
    yerr = None
    if errors is not None:
        errors = _check_mapping(errors, "errors")
        unknown = set(map(str, errors)) - set(names)
        if unknown:
            raise ValueError(f"errors has keys that values lacks: {sorted(unknown)}")
        yerr = [float(_to_numpy(errors[k], f"errors[{k!r}]").ravel()[0]) if k in errors else 0.0 for k in names]
    with _style():
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
        ax.bar(range(len(names)), heights, yerr=yerr, capsize=4 if yerr else 0, color=_CLASS_COLOURS[0])
        ax.set_xticks(range(len(names)), names, rotation=30 if max(map(len, names), default=0) > 8 else 0,
                      ha="right" if max(map(len, names), default=0) > 8 else "center")
        if reference is not None:
            ax.axhline(reference, color="0.3", linestyle="--", linewidth=1, label=reference_label or None)
            if reference_label:
                ax.legend(frameon=False)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
    return fig
