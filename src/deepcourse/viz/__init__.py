"""Figures (matplotlib, returned as Figure objects, never shown) and the HTML/Markdown results report."""

from __future__ import annotations

from deepcourse.viz.figures import (
    bar_chart,
    new_figure,
    style,
    confusion_matrix_plot,
    decision_boundary,
    histograms,
    image_grid,
    line_plot,
    loss_curves,
    save_png,
)
from deepcourse.viz.report import render_html, render_markdown
from deepcourse.viz.summaries import RunSummary, load_runs

__all__ = [
    "bar_chart",
    "new_figure",
    "style",
    "RunSummary",
    "confusion_matrix_plot",
    "decision_boundary",
    "histograms",
    "image_grid",
    "line_plot",
    "load_runs",
    "loss_curves",
    "render_html",
    "render_markdown",
    "save_png",
]
