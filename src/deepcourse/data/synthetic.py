"""Seeded synthetic data sets (float32 torch tensors, CPU).

Every generator draws from its own ``torch.Generator`` seeded with ``seed``, so the output depends only on
the arguments (never on the global RNG) and two calls with the same arguments are bit-identical.

Conventions: inputs ``x`` are float32 ``(n, d)``; class labels ``y`` are float32 ``(n,)`` holding
``0., 1., ...`` (``y.long()`` for cross-entropy, ``y`` as is for binary cross-entropy); regression targets
are float32 ``(n, 1)``, matching a network with one output unit.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # torch is imported inside the functions: `import deepcourse.data` stays cheap
    import torch

__all__ = ["xor", "two_moons", "spirals", "gaussian_grid", "gaussian_grid_centres", "function_1d",
           "FUNCTIONS_1D", "regression_with_outliers"]


# --------------------------------------------------------------------------------------------- checks

def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _check_nonneg(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or math.isinf(value):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _gen(seed) -> "torch.Generator":
    import torch

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------------------ generators

def xor(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The XOR problem: points around the four corners of the unit square.

    Corner ``(a, b)`` with ``a, b in {0, 1}`` gets label ``a XOR b``; each point is its corner plus
    isotropic Gaussian noise of standard deviation ``noise``. Corners are used in turn (so the classes are
    balanced to within one point) and the order is shuffled. No linear classifier separates the classes
    (Minsky & Papert 1969, *Perceptrons*); one hidden layer does (Rumelhart, Hinton & Williams 1986).

    Returns ``x`` float32 ``(n, 2)`` and ``y`` float32 ``(n,)`` in ``{0, 1}``.
    """
    _check_int("n", n, 1)
    noise = _check_nonneg("noise", noise)
    import torch  # imported here so that `import deepcourse.data` stays cheap

    g = _gen(seed)
    corners = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = torch.tensor([0.0, 1.0, 1.0, 0.0])
    idx = torch.arange(n)[torch.randperm(n, generator=g)] % 4  # (n,) balanced corner ids, shuffled
    x = corners[idx] + noise * torch.randn(n, 2, generator=g)  # (n, 2)
    return x.float(), labels[idx]


def two_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles (the "moons" of scikit-learn's ``make_moons``).

    Class 0: ``(cos t, sin t)``; class 1: ``(1 - cos t, 0.5 - sin t)``, with ``t ~ U(0, pi)`` and
    Gaussian noise of standard deviation ``noise`` added to both coordinates. ``n // 2`` points in class 0,
    the rest in class 1, shuffled.

    Returns ``x`` float32 ``(n, 2)`` and ``y`` float32 ``(n,)`` in ``{0, 1}``.
    """
    _check_int("n", n, 2)
    noise = _check_nonneg("noise", noise)
    import torch  # imported here so that `import deepcourse.data` stays cheap

    g = _gen(seed)
    n0 = n // 2
    t = math.pi * torch.rand(n, generator=g)  # (n,)
    y = (torch.arange(n) >= n0).float()  # (n,)
    outer = torch.stack([torch.cos(t), torch.sin(t)], dim=1)  # (n, 2)
    inner = torch.stack([1.0 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)  # (n, 2)
    x = torch.where(y[:, None] == 0, outer, inner) + noise * torch.randn(n, 2, generator=g)
    perm = torch.randperm(n, generator=g)
    return x[perm].float(), y[perm]


def spirals(n: int = 200, turns: float = 1.5, noise: float = 0.0, seed: int = 0,
            classes: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Interleaved spiral arms, one per class (the two-spirals benchmark of Lang & Witbrock 1988).

    For class ``k`` and ``t ~ U(0, 1)``: radius ``r = t``, angle ``theta = 2 pi turns t + 2 pi k / classes``,
    point ``r (cos theta, sin theta)`` plus Gaussian noise of standard deviation ``noise``. ``turns`` is
    the number of revolutions of each arm; more turns make the problem harder. Points are split as
    evenly as possible between classes and shuffled.

    Returns ``x`` float32 ``(n, 2)`` and ``y`` float32 ``(n,)`` in ``{0, ..., classes - 1}``.
    """
    _check_int("n", n, 1)
    _check_int("classes", classes, 2)
    if isinstance(turns, bool) or not isinstance(turns, (int, float)) or not turns > 0 or math.isinf(turns):
        raise ValueError(f"turns must be a finite number > 0, got {turns!r}")
    noise = _check_nonneg("noise", noise)
    import torch  # imported here so that `import deepcourse.data` stays cheap

    g = _gen(seed)
    k = torch.arange(n) % classes  # (n,) balanced class ids
    t = torch.rand(n, generator=g)  # (n,)
    theta = 2 * math.pi * turns * t + 2 * math.pi * k / classes  # (n,)
    x = t[:, None] * torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)  # (n, 2)
    x = x + noise * torch.randn(n, 2, generator=g)
    perm = torch.randperm(n, generator=g)
    return x[perm].float(), k[perm].float()


def gaussian_grid_centres(grid: int = 5, spacing: float = 2.0) -> torch.Tensor:
    """Centres of the ``grid x grid`` Gaussian mixture: ``spacing * (i - (grid - 1) / 2)`` per axis.

    For ``grid=5`` these are ``{-4, -2, 0, 2, 4}^2``, the 25 modes used in the GAN mode-collapse
    literature (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018). Mode ``m = i * grid + j`` sits
    at ``(c_i, c_j)``. Returns float32 ``(grid * grid, 2)``.
    """
    import torch

    _check_int("grid", grid, 1)
    c = spacing * (torch.arange(grid, dtype=torch.float32) - (grid - 1) / 2)  # (grid,)
    cx, cy = torch.meshgrid(c, c, indexing="ij")  # (grid, grid) each
    return torch.stack([cx.reshape(-1), cy.reshape(-1)], dim=1)  # (grid*grid, 2)


def gaussian_grid(n: int = 1000, grid: int = 5, std: float = 0.05,
                  seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Samples of an equal-weight mixture of ``grid**2`` isotropic 2-D Gaussians on a square grid.

    The standard mode-collapse test for GANs: with ``grid=5, std=0.05`` the modes at
    :func:`gaussian_grid_centres` are far apart (spacing 2 = 40 standard deviations), so a generator that
    drops modes is easy to measure (count modes with samples within ``3 std``; Srivastava et al. 2017).

    Returns ``x`` float32 ``(n, 2)`` and ``y`` float32 ``(n,)``: the index of the mode each point came from.
    """
    _check_int("n", n, 1)
    _check_int("grid", grid, 1)
    std = _check_nonneg("std", std)
    import torch  # imported here so that `import deepcourse.data` stays cheap

    g = _gen(seed)
    centres = gaussian_grid_centres(grid)  # (grid*grid, 2)
    mode = torch.randint(0, grid * grid, (n,), generator=g)  # (n,)
    x = centres[mode] + std * torch.randn(n, 2, generator=g)  # (n, 2)
    return x.float(), mode.float()


FUNCTIONS_1D: dict[str, tuple[Callable[["torch.Tensor"], "torch.Tensor"], str]] = {
    # tensor methods rather than torch.* functions: no module-level torch import needed
    "sine": (lambda x: (2 * math.pi * x).sin(), "sin(2 pi x)"),
    "bump": (lambda x: (-((x - 0.5) ** 2) / (2 * 0.1 ** 2)).exp(), "exp(-(x - 0.5)^2 / (2 * 0.1^2))"),
    "abs": (lambda x: 2 * (x - 0.5).abs(), "2 |x - 0.5| (continuous, with a kink)"),
    "poly": (lambda x: 3 * x ** 3 - 4 * x ** 2 + x, "3x^3 - 4x^2 + x"),
    "wiggle": (lambda x: x * (6 * math.pi * x).sin(), "x sin(6 pi x)"),
}
"""Named continuous functions on [0, 1]: name -> (function, formula)."""


def function_1d(fn_name: str = "sine", n: int = 256, noise: float = 0.0,
                seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Samples of a continuous function on ``[0, 1]`` for the universal approximation experiments.

    ``x`` is the evenly spaced grid ``linspace(0, 1, n)``; ``y = f(x) + noise * N(0, 1)``. By the universal
    approximation theorem (Cybenko 1989; Hornik, Stinchcombe & White 1989) one hidden sigmoid layer with
    enough units approximates any such ``f`` uniformly on ``[0, 1]``. Functions (:data:`FUNCTIONS_1D`):
    ``sine`` sin(2 pi x), ``bump`` a Gaussian bump at 0.5, ``abs`` 2|x - 0.5|, ``poly`` 3x^3 - 4x^2 + x,
    ``wiggle`` x sin(6 pi x).

    Returns ``x`` float32 ``(n, 1)`` and ``y`` float32 ``(n, 1)``.
    """
    if fn_name not in FUNCTIONS_1D:
        raise ValueError(f"fn_name must be one of {', '.join(FUNCTIONS_1D)}; got {fn_name!r}")
    _check_int("n", n, 2)
    noise = _check_nonneg("noise", noise)
    import torch  # imported here so that `import deepcourse.data` stays cheap

    g = _gen(seed)
    x = torch.linspace(0.0, 1.0, n).unsqueeze(1)  # (n, 1)
    y = FUNCTIONS_1D[fn_name][0](x) + noise * torch.randn(n, 1, generator=g)  # (n, 1)
    return x.float(), y.float()


def regression_with_outliers(n: int = 200, outlier_frac: float = 0.1, seed: int = 0, *,
                             slope: float = 2.0, intercept: float = 1.0, noise: float = 0.1,
                             return_mask: bool = False):
    """A noisy line with a fraction of gross outliers, to compare L2, L1 and Huber losses.

    ``x ~ U(-1, 1)``, ``y = slope * x + intercept + noise * N(0, 1)``; then ``round(n * outlier_frac)``
    points chosen at random get ``+U(5, 10)`` added to ``y`` (one-sided, so they pull a least-squares fit
    up while the median-like L1 fit and Huber's M-estimator (Huber 1964) stay near the true line).

    Returns ``x`` float32 ``(n, 1)``, ``y`` float32 ``(n, 1)`` and, with ``return_mask=True``, a bool
    ``(n,)`` mask of the outliers. The clean line is ``slope * x + intercept``.
    """
    _check_int("n", n, 2)
    if isinstance(outlier_frac, bool) or not isinstance(outlier_frac, (int, float)) or not 0 <= outlier_frac < 0.5:
        raise ValueError(f"outlier_frac must be a number in [0, 0.5), got {outlier_frac!r}")
    noise = _check_nonneg("noise", noise)
    import torch  # imported here so that `import deepcourse.data` stays cheap

    g = _gen(seed)
    x = 2 * torch.rand(n, 1, generator=g) - 1  # (n, 1)
    y = slope * x + intercept + noise * torch.randn(n, 1, generator=g)  # (n, 1)
    k = int(round(n * outlier_frac))
    mask = torch.zeros(n, dtype=torch.bool)
    mask[torch.randperm(n, generator=g)[:k]] = True
    y[mask] += 5 + 5 * torch.rand(k, 1, generator=g)  # (k, 1) one-sided gross errors
    if return_mask:
        return x.float(), y.float(), mask
    return x.float(), y.float()
