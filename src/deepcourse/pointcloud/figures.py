"""Figures of module 7: 3-D scatter renders of point clouds (matplotlib, returned as Figure objects)."""

from __future__ import annotations

from typing import Sequence

from torch import Tensor

from deepcourse import viz

__all__ = ["cloud_grid"]

COLOURS = {"input": "0.5", "proxies": "tab:red", "output": "tab:blue", "ground truth": "goldenrod"}


def cloud_grid(rows: Sequence[Sequence[tuple[str, Tensor]]], row_titles: Sequence[str] = (), size: float = 2.6,
               point_size: float = 2.0, colours: dict | None = None, values: Sequence[Sequence] | None = None):
    """A grid of 3-D scatter plots: ``rows[i][j] = (column title, (N, 3) cloud)``; colours by column title
    (the notes' PoinTr figure: grey input, red proxies, blue output, yellow ground truth). ``values[i][j]``
    colours each point by a value instead (e.g. part labels)."""
    colours = {**COLOURS, **(colours or {})}
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    with viz.style():
        fig = viz.new_figure((size * n_cols, size * n_rows))
        for i, row in enumerate(rows):
            for j, (title, cloud) in enumerate(row):
                ax = fig.add_subplot(n_rows, n_cols, i * n_cols + j + 1, projection="3d")
                p = cloud.detach().cpu().numpy()
                c = values[i][j] if values is not None else colours.get(title, "tab:blue")
                ax.scatter(p[:, 0], p[:, 1], p[:, 2], s=point_size * (4 if title == "proxies" else 1), c=c,
                           cmap="tab10" if values is not None else None, depthshade=False, linewidths=0)
                ax.set_xlim(-1, 1), ax.set_ylim(-1, 1), ax.set_zlim(-1, 1)
                ax.set_box_aspect((1, 1, 1))
                ax.set_axis_off()
                ax.view_init(elev=20, azim=-60)
                ax.set_title(f"{row_titles[i]}: {title}" if j == 0 and row_titles else title, fontsize=8)
    return fig
