"""Binary (+-1) images for the Hopfield network of notes 3 (units are pixels, states are +-1).

Hebbian storage (Hopfield 1982) recalls weakly correlated patterns; strongly correlated ones (raw
digit bitmaps, mostly shared background) interfere and merge into spurious attractors.
:func:`binary_glyphs` draws six shapes with small mutual overlaps; :func:`digit_bitmaps` binarises one
scikit-learn digit per class, the correlated case that shows the limit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["binary_glyphs", "digit_bitmaps"]


def binary_glyphs(size: int = 24) -> tuple[np.ndarray, list[str]]:
    """Six +-1 glyphs of side ``size`` (a disk, vertical and horizontal stripes, a checkerboard, a
    diagonal split, a cross), flattened to (6, size * size), with about half the pixels on and mutual
    overlaps |m| <= 0.25, and their names."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8, got {size!r}")
    yy, xx = np.mgrid[0:size, 0:size] + 0.5  # pixel centres, (size, size) each
    c, s = size / 2, size
    glyphs = {
        "disk": (xx - c) ** 2 + (yy - c) ** 2 < (0.4 * s) ** 2,
        "v-stripes": (xx // max(1, s // 6)) % 2 == 0,
        "h-stripes": (yy // max(1, s // 4)) % 2 == 0,
        "checker": ((xx // max(1, s // 4)) + (yy // max(1, s // 4))) % 2 == 0,
        "diagonal": xx > yy,
        "cross": (np.abs(xx - yy) < 0.18 * s) | (np.abs(xx + yy - s) < 0.18 * s),
    }
    return np.stack([np.where(v, 1.0, -1.0).ravel() for v in glyphs.values()]), list(glyphs)  # (6, size^2)


def digit_bitmaps() -> tuple[np.ndarray, list[str]]:
    """The first scikit-learn 8x8 digit of each class, thresholded at half intensity: (10, 64) in +-1."""
    from deepcourse.data import load_sklearn

    x, y = load_sklearn("digits")  # (1797, 64) in 0..16
    first = [int((y == k).nonzero()[0][0]) for k in range(10)]
    return np.where(x[first].numpy() > 8, 1.0, -1.0), [str(k) for k in range(10)]
