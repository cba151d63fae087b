"""Figures of module 5: DEC's latent space over training, the most confident members of each cluster
(Xie et al. 2016, Fig. 4), accuracy over DEC iterations, and cluster sizes against the size priors."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from deepcourse.viz import image_grid, new_figure, style

from .dec import DECResult, most_confident
from .losses import zipf_prior

__all__ = ["latent_figure", "confident_figure", "accuracy_curve", "cluster_sizes_figure"]


def latent_figure(res: DECResult, title: str) -> Figure:
    """The snapshot codes (PCA to 2-D) coloured by cluster: the first, the last and up to three between."""
    from deepcourse.autoencoders import latent_scatter

    snaps = res.snapshots
    if len(snaps) > 5:
        pick = np.unique(np.linspace(0, len(snaps) - 1, 5).round().astype(int))
        snaps = [snaps[i] for i in pick]
    with style():
        fig = new_figure((3.2 * len(snaps), 3.4))
        axes = fig.subplots(1, len(snaps), squeeze=False)[0]
        for ax, (it, z, yp) in zip(axes, snaps):
            latent_scatter(z, yp, title=f"iteration {it}", ax=ax)
            leg = ax.get_legend()
            if leg is not None:
                leg.remove()
        fig.suptitle(title)
    return fig


def confident_figure(res: DECResult, x: Tensor, shape: tuple[int, int], title: str) -> Figure:
    """One row per cluster: its 10 members with the highest soft assignment ``q_ij`` (blank if fewer)."""
    idx = most_confident(res.q, 10)  # (K, 10), -1 = missing
    imgs = torch.where(idx[..., None] >= 0, x[idx.clamp_min(0)], torch.zeros(1))  # (K, 10, D)
    return image_grid(imgs.reshape(-1, *shape), nrow=10, title=title)  # (K * 10, H, W)


def accuracy_curve(histories: dict[str, list[dict]]) -> Figure:
    """Clustering accuracy (%) at each target update, one line per run."""
    with style():
        fig = new_figure()
        ax = fig.add_subplot()
        for name, hist in histories.items():
            ax.plot([h["iteration"] for h in hist], [100 * h["acc"] for h in hist], marker="o", ms=3, label=name)
        ax.set_xlabel("DEC iteration")
        ax.set_ylabel("ACC (%)")
        ax.legend(frameon=False)
    return fig


def cluster_sizes_figure(sizes: dict[str, np.ndarray], k: int, zipf_s: float, title: str) -> Figure:
    """Sorted cluster sizes (fraction of points) of each variant beside the uniform and Zipf priors."""
    with style():
        fig = new_figure((7.0, 4.0))
        ax = fig.add_subplot()
        ranks = np.arange(1, k + 1)
        width = 0.8 / len(sizes)
        for i, (name, s) in enumerate(sizes.items()):
            ax.bar(ranks + (i - len(sizes) / 2 + 0.5) * width, np.sort(s)[::-1] / s.sum(), width, label=name)
        ax.plot(ranks, np.full(k, 1.0 / k), "k--", lw=1, label="uniform prior")
        ax.plot(ranks, zipf_prior(k, zipf_s).numpy(), "k:", lw=1.5, label=f"Zipf prior (s={zipf_s:g})")
        ax.set_xlabel("cluster rank (largest first)")
        ax.set_ylabel("fraction of points")
        ax.set_title(title)
        ax.legend(frameon=False, fontsize=7, ncol=2)
    return fig
