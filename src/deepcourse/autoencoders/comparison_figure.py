"""One bar panel per metric, one bar per model: the figure beside a comparison table of module 3
(``ae-regularisers``: four autoencoder objectives; ``wae-vs-vae``: VAE, WAE-MMD, WAE-GAN)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

__all__ = ["comparison_panels"]

_COLOURS = ["#7f7f7f", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e"]


def comparison_panels(rows: Sequence[dict[str, Any]], label: str, panels: Sequence[tuple[str, str]],
                      title: str | None = None) -> Figure:
    """``rows``: one dict per model (as given to ``run.table``); ``label``: the key naming the model;
    ``panels``: ``(key, axis title)`` pairs, one panel each."""
    from deepcourse.viz import new_figure, style

    if not rows or not panels:
        raise ValueError("comparison_panels needs at least one row and one panel")
    names = [str(r[label]) for r in rows]
    with style():
        fig = new_figure((1.2 + 2.5 * len(panels), 2.9))
        for i, (key, axis_title) in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), i + 1)
            ax.bar(range(len(rows)), [float(r[key]) for r in rows],
                   color=[_COLOURS[j % len(_COLOURS)] for j in range(len(rows))])
            ax.set_xticks(range(len(rows)), names, rotation=30, fontsize=8)
            ax.set_title(axis_title, fontsize=10)
        if title:
            fig.suptitle(title, fontsize=10)
    return fig
