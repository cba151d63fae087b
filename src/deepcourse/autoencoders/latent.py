"""Tools for looking at a latent space: scatter plots, decoded quantile grids, interpolations,
snapshots across training and reconstruction grids. Every plotting function returns a
:class:`matplotlib.figure.Figure` built with the object-oriented API (no pyplot, no GUI);
store it with ``run.save_figure(name, fig)``.

The figures are the ones module 3 of the notes shows:

* the latent space of an MNIST autoencoder projected to 2-D with PCA, coloured by digit
  (emergent clustering without labels; notes 3, "Example");
* the decoder queried on a grid of z = (Phi^-1(q1), Phi^-1(q2)) for quantiles q in
  (0.05, 0.95) of N(0, 1) (Kingma & Welling 2014, fig. 4; notes 3, "Interpretability of the latent");
* decoded points on the segment between f(x1) and f(x2): a plain AE may produce oddballs
  there, a VAE should not (notes 3, "Limitations of conventional autoencoders").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor, nn

from deepcourse.core import eval_mode
from deepcourse.viz import new_figure
from deepcourse.viz.figures import STYLE

__all__ = [
    "pca_2d",
    "latent_scatter",
    "quantile_grid",
    "interpolate",
    "interpolation_strip",
    "latent_snapshots",
    "reconstruction_grid",
    "encode_mean",
]

_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf"]


def _np(x: Any, name: str) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.detach().cpu().float().numpy()
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a tensor or array of numbers, got {type(x).__name__}") from err
    return arr




def pca_2d(z: Any) -> tuple[np.ndarray, np.ndarray]:
    """Project codes (N, d) on their first two principal components.

    Returns ``(p, ratio)``: ``p`` (N, 2) and the fraction of variance each component explains.
    Uses the SVD of the centred codes (Pearson 1901; the PCA the notes use to show an AE's latent).
    """
    z = _np(z, "z")
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"z must have shape (N, d) with N >= 2, got {z.shape}")
    zc = z - z.mean(0, keepdims=True)  # (N, d)
    _, s, vt = np.linalg.svd(zc, full_matrices=False)
    k = min(2, vt.shape[0])
    p = zc @ vt[:k].T  # (N, k)
    if k < 2:
        p = np.concatenate([p, np.zeros((len(p), 2 - k))], axis=1)
    var = s ** 2
    ratio = var[:2] / max(var.sum(), 1e-12)
    return p, np.pad(ratio, (0, 2 - len(ratio)))


def _project(z: Any) -> tuple[np.ndarray, str, str]:
    """(N, d) codes -> (N, 2) points and the two axis labels (saying when PCA was used)."""
    z = _np(z, "z")
    if z.ndim == 1:
        z = z[:, None]
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"z must have shape (N, d) with N >= 1, got {z.shape}")
    d = z.shape[1]
    if d == 1:
        return np.concatenate([z, np.zeros_like(z)], axis=1), "z1", "(1-D code)"
    if d == 2:
        return z, "z1", "z2"
    p, ratio = pca_2d(z)
    return p, f"PC1 of {d}-D code ({100 * ratio[0]:.0f}% var.)", f"PC2 of {d}-D code ({100 * ratio[1]:.0f}% var.)"


def _scatter(ax: Axes, p: np.ndarray, labels: Any, s: float) -> None:
    if labels is None:
        ax.scatter(p[:, 0], p[:, 1], s=s, c="#1f77b4", alpha=0.6, linewidths=0)
        return
    lab = _np(labels, "labels").astype(int).reshape(-1)
    if len(lab) != len(p):
        raise ValueError(f"labels must have one entry per code ({len(p)}), got {len(lab)}")
    classes = np.unique(lab)
    for i, c in enumerate(classes):
        m = lab == c
        colour = _COLOURS[i % len(_COLOURS)] if len(classes) <= len(_COLOURS) else matplotlib.colormaps["tab20"](i % 20)
        ax.scatter(p[m, 0], p[m, 1], s=s, color=colour, alpha=0.7, linewidths=0, label=str(c))


def latent_scatter(z: Any, labels: Any = None, title: str | None = None, ax: Axes | None = None,
                   s: float = 6.0) -> Figure:
    """Scatter of the codes ``z`` (N, d) coloured by ``labels`` (N,) (a legend per class).

    Codes with d > 2 are projected on their first two principal components and the axis labels
    say so (with the explained variance). With ``ax`` the scatter is drawn there and its
    figure returned.
    """
    p, xl, yl = _project(z)
    with matplotlib.rc_context(STYLE):
        fig = new_figure((5.0, 4.4)) if ax is None else ax.figure
        ax = fig.add_subplot() if ax is None else ax
        _scatter(ax, p, labels, s)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        if title:
            ax.set_title(title)
        if labels is not None and len(np.unique(_np(labels, "labels"))) <= 20:
            ax.legend(markerscale=2.5, frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def _images(x: Any, image_shape: Sequence[int] | None, name: str) -> np.ndarray:
    """Tensor of images (N, C, H, W), (N, H, W) or flat (N, D) -> (N, H, W) or (N, H, W, 3) in [0, 1]."""
    a = _np(x, name)
    if image_shape is not None:
        a = a.reshape(len(a), *image_shape)
    elif a.ndim == 2:
        side = int(round(math.sqrt(a.shape[1])))
        if side * side != a.shape[1]:
            raise ValueError(f"{name} is flat with {a.shape[1]} features, not a square image: pass image_shape")
        a = a.reshape(len(a), side, side)
    if a.ndim == 4:
        if a.shape[1] == 1:
            a = a[:, 0]
        elif a.shape[1] == 3:
            a = a.transpose(0, 2, 3, 1)
        else:
            raise ValueError(f"{name} must have 1 or 3 channels, got shape {a.shape}")
    if a.ndim not in (3, 4):
        raise ValueError(f"{name} must be images (N, C, H, W), (N, H, W) or flat squares (N, D), got shape {a.shape}")
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    if lo < 0 or hi > 1:  # e.g. standardised pixels: rescale jointly, keeping relative brightness
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return np.clip(np.nan_to_num(a), 0, 1)


def _mosaic(imgs: np.ndarray, rows: int, cols: int, pad: int = 1) -> np.ndarray:
    """(rows*cols, H, W[, 3]) -> one padded mosaic image."""
    h, w = imgs.shape[1:3]
    shape = (rows * (h + pad) + pad, cols * (w + pad) + pad) + imgs.shape[3:]
    grid = np.ones(shape)
    for i in range(min(len(imgs), rows * cols)):
        r, c = divmod(i, cols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = imgs[i]
    return grid


def _decoder_latent_dim(decoder: Any, latent_dim: int | None) -> int:
    if latent_dim is not None:
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be an int >= 1, got {latent_dim!r}")
        return latent_dim
    d = getattr(decoder, "in_features", None) or getattr(decoder, "latent_dim", None)
    if not isinstance(d, int):
        raise ValueError("cannot infer the decoder's latent size (no in_features/latent_dim attribute): pass latent_dim")
    return d


def _decode(decoder: Callable[[Tensor], Tensor], z: Tensor, apply_sigmoid: bool) -> Tensor:
    mods = [decoder] if isinstance(decoder, nn.Module) else []
    p = next(decoder.parameters(), None) if mods else None
    if p is not None:
        z = z.to(p.device, p.dtype)
    with eval_mode(*mods):
        out = decoder(z)
    if isinstance(out, (tuple, list)):
        out = out[0]
    return torch.sigmoid(out) if apply_sigmoid else out


def quantile_grid(decoder: Callable[[Tensor], Tensor], n: int = 15, lo: float = 0.05, hi: float = 0.95,
                  image_shape: Sequence[int] | None = (28, 28), latent_dim: int | None = None,
                  apply_sigmoid: bool = False, title: str | None = None) -> Figure:
    """Decode an n x n grid of latent points z = (Phi^-1(q_i), Phi^-1(q_j)), q evenly spaced in
    [lo, hi], Phi the standard normal CDF (Kingma & Welling 2014, fig. 4): equal probability
    mass of the prior N(0, I) between neighbouring cells.

    With latent_dim > 2 the first two dimensions vary and the rest stay 0 (the prior mean).
    z1 runs left to right, z2 bottom to top. ``apply_sigmoid=True`` for a decoder returning logits.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    if not 0.0 < lo < hi < 1.0:
        raise ValueError(f"need 0 < lo < hi < 1 for quantiles, got lo={lo}, hi={hi}")
    d = _decoder_latent_dim(decoder, latent_dim)
    q = torch.linspace(lo, hi, n, dtype=torch.float64)
    vals = torch.distributions.Normal(0.0, 1.0).icdf(q).float()  # (n,)
    z2, z1 = torch.meshgrid(vals.flip(0), vals, indexing="ij")  # row 0 = largest z2 (top)
    z = torch.zeros(n * n, d)
    z[:, 0] = z1.reshape(-1)
    if d > 1:
        z[:, 1] = z2.reshape(-1)
    imgs = _images(_decode(decoder, z, apply_sigmoid), image_shape, "decoded images")  # (n*n, H, W[, 3])
    grid = _mosaic(imgs, n, n)
    with matplotlib.rc_context({**STYLE, "axes.grid": False}):
        fig = new_figure((min(0.5 * n + 1.0, 9.0), min(0.5 * n + 1.0, 9.0)))
        ax = fig.add_subplot()
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
        h, w = imgs.shape[1:3]
        ticks = [1 + i * (w + 1) + w / 2 for i in range(n)]
        show = list(range(0, n, max(1, n // 5))) + ([n - 1] if (n - 1) % max(1, n // 5) else [])
        ax.set_xticks([ticks[i] for i in show], [f"{vals[i]:.1f}" for i in show])
        ticks_y = [1 + i * (h + 1) + h / 2 for i in range(n)]
        ax.set_yticks([ticks_y[i] for i in show], [f"{vals.flip(0)[i]:.1f}" for i in show])
        ax.set_xlabel("z1 = Phi^-1(q)")
        ax.set_ylabel("z2 = Phi^-1(q)" + (f"  (z3..z{d} = 0)" if d > 2 else ""))
        ax.set_title(title or f"decoder on quantiles {lo:g}..{hi:g} of N(0, 1)")
    return fig


def encode_mean(encoder: Callable[[Tensor], Any], x: Tensor) -> Tensor:
    """The code of ``x``: ``encoder(x)``, or its first element when the encoder returns a
    tuple/list (a VAE encoder's (mu, logvar): interpolate between the means)."""
    out = encoder(x)
    if isinstance(out, (tuple, list)):
        out = out[0]
    if isinstance(out, dict):
        out = out.get("mu", out.get("z"))
    if not isinstance(out, Tensor):
        raise TypeError(f"encoder must return a tensor (or a tuple whose first item is one), got {type(out).__name__}")
    return out


def interpolate(encoder: Callable[[Tensor], Any], decoder: Callable[[Tensor], Tensor], x_a: Tensor, x_b: Tensor,
                steps: int = 10, mode: str = "linear", apply_sigmoid: bool = False) -> Tensor:
    """Decode ``steps`` evenly spaced points on the path from f(x_a) to f(x_b).

    ``x_a``, ``x_b``: batches (B, ...) of the encoder's input (pairs row by row). Returns
    (B, steps, *decoder output shape); step 0 decodes f(x_a), step steps-1 decodes f(x_b).
    ``mode="linear"``: z_t = (1 - t) z_a + t z_b; ``"slerp"``: spherical interpolation (Shoemake
    1985), which keeps the norm typical of a Gaussian prior in high dimension (White 2016).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an int >= 2, got {steps!r}")
    if mode not in ("linear", "slerp"):
        raise ValueError(f"mode must be 'linear' or 'slerp', got {mode!r}")
    if x_a.shape != x_b.shape:
        raise ValueError(f"x_a and x_b must have the same shape, got {tuple(x_a.shape)} and {tuple(x_b.shape)}")
    mods = [m for m in (encoder, decoder) if isinstance(m, nn.Module)]
    with eval_mode(*mods):
        za, zb = encode_mean(encoder, x_a), encode_mean(encoder, x_b)  # (B, d)
        t = torch.linspace(0, 1, steps, device=za.device, dtype=za.dtype).view(1, steps, 1)  # (1, T, 1)
        a, b = za[:, None], zb[:, None]  # (B, 1, d)
        if mode == "linear":
            z = (1 - t) * a + t * b  # (B, T, d)
        else:
            cos = (torch.nn.functional.normalize(a, dim=-1) * torch.nn.functional.normalize(b, dim=-1)).sum(-1, keepdim=True)
            omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))  # (B, 1, 1)
            so = torch.sin(omega)
            z = torch.where(so.abs() < 1e-6, (1 - t) * a + t * b,
                            torch.sin((1 - t) * omega) / so * a + torch.sin(t * omega) / so * b)
        out = _decode(decoder, z.reshape(-1, z.shape[-1]), apply_sigmoid)  # (B*T, ...)
    return out.reshape(za.shape[0], steps, *out.shape[1:])


def interpolation_strip(encoder: Callable[[Tensor], Any], decoder: Callable[[Tensor], Tensor], x_a: Tensor,
                        x_b: Tensor, steps: int = 10, image_shape: Sequence[int] | None = None,
                        mode: str = "linear", apply_sigmoid: bool = False, title: str | None = None) -> Figure:
    """One row per pair: x_a, the ``steps`` decoded interpolants, x_b (the inputs framed by the
    decodings; compare the two ends to see the reconstructions)."""
    path = interpolate(encoder, decoder, x_a, x_b, steps=steps, mode=mode, apply_sigmoid=apply_sigmoid)  # (B, T, ...)
    bsz = path.shape[0]
    shape = image_shape if image_shape is not None else (tuple(path.shape[2:]) if path.dim() > 3 else None)
    dec = _images(path.reshape(bsz * steps, *path.shape[2:]), shape, "decoded images")
    ends_a = _images(x_a.reshape(bsz, -1) if shape is None else x_a, shape, "x_a")
    ends_b = _images(x_b.reshape(bsz, -1) if shape is None else x_b, shape, "x_b")
    h, w = dec.shape[1:3]
    dec = dec.reshape(bsz, steps, *dec.shape[1:])
    rows = np.concatenate([ends_a[:, None], dec, ends_b[:, None]], axis=1)  # (B, T + 2, H, W[, 3])
    grid = _mosaic(rows.reshape(-1, *rows.shape[2:]), bsz, steps + 2)
    with matplotlib.rc_context({**STYLE, "axes.grid": False}):
        fig = new_figure((min(0.6 * (steps + 2) + 0.5, 12.0), 0.6 * bsz + 0.8))
        ax = fig.add_subplot()
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([1 + w / 2, 1 + (steps + 1) * (w + 1) + w / 2], ["x_a", "x_b"])
        ax.set_yticks([])
        ax.set_title(title or f"decoded {mode} interpolation f(x_a) -> f(x_b), {steps} steps")
    return fig


def latent_snapshots(snapshots: Sequence[tuple[int, Any, Any]], title: str | None = None,
                     cols: int | None = None, s: float = 4.0) -> Figure:
    """A strip of latent scatters, one per ``(epoch, z, labels)`` snapshot: how the codes
    organise during training (the "training dynamics" figure). d > 2 codes are PCA-projected per panel."""
    if isinstance(snapshots, (str, bytes)) or not isinstance(snapshots, Sequence) or not snapshots:
        raise ValueError("snapshots must be a non-empty list of (epoch, z, labels) tuples")
    for i, snap in enumerate(snapshots):
        if not isinstance(snap, (tuple, list)) or len(snap) != 3:
            raise ValueError(f"snapshots[{i}] must be a tuple (epoch, z, labels), got {type(snap).__name__}")
    k = len(snapshots)
    cols = min(k, cols or 6)
    rows = math.ceil(k / cols)
    with matplotlib.rc_context(STYLE):
        fig = new_figure((2.6 * cols + 0.8, 2.5 * rows + (0.4 if title else 0)))
        for i, (epoch, z, labels) in enumerate(snapshots):
            ax = fig.add_subplot(rows, cols, i + 1)
            p, xl, yl = _project(z)
            _scatter(ax, p, labels, s)
            ax.set_title(f"epoch {epoch}", fontsize=9)
            ax.set_xlabel(xl.split(" (")[0], fontsize=8)
            ax.set_ylabel(yl.split(" (")[0], fontsize=8)
            ax.tick_params(labelsize=7)
        if snapshots[-1][2] is not None:
            ax.legend(markerscale=2.5, frameon=False, fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
        if title:
            fig.suptitle(title)
    return fig


def reconstruction_grid(x: Any, x_hat: Any, n: int = 10, image_shape: Sequence[int] | None = None,
                        title: str | None = None, row_labels: Sequence[str] = ("input", "reconstruction")) -> Figure:
    """Two rows: the first ``n`` inputs and their reconstructions (flat square inputs are
    reshaped; give ``image_shape`` otherwise). ``x_hat`` may hold several rows' worth,
    e.g. a tuple (noisy, reconstruction) -> pass ``x_hat`` as a list of tensors and ``row_labels``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    rows_in = [x] + (list(x_hat) if isinstance(x_hat, (list, tuple)) else [x_hat])
    if len(row_labels) != len(rows_in):
        raise ValueError(f"row_labels must have {len(rows_in)} entries, got {len(row_labels)}")
    m = min(n, min(len(r) for r in rows_in))
    imgs = [_images(r[:m], image_shape, name) for r, name in zip(rows_in, row_labels)]
    grid = _mosaic(np.concatenate(imgs), len(imgs), m)
    with matplotlib.rc_context({**STYLE, "axes.grid": False}):
        fig = new_figure((max(0.7 * m + 1.2, 3.0), 0.75 * len(imgs) + 0.6))
        ax = fig.add_subplot()
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
        h = imgs[0].shape[1]
        ax.set_yticks([1 + r * (h + 1) + h / 2 for r in range(len(imgs))], list(row_labels))
        ax.set_xticks([])
        if title:
            ax.set_title(title)
    return fig
