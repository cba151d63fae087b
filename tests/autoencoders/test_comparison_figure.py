from __future__ import annotations

import pytest

from deepcourse.autoencoders import comparison_panels


def test_one_panel_per_metric():
    rows = [{"model": "a", "x": 1.0, "y": 2.0}, {"model": "b", "x": 3.0, "y": 0.5}]
    fig = comparison_panels(rows, "model", [("x", "metric x"), ("y", "metric y")], title="t")
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "metric x"
    with pytest.raises(ValueError):
        comparison_panels([], "model", [("x", "x")])
