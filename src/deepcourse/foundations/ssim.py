r"""Structural similarity (SSIM) of Wang, Bovik, Sheikh & Simoncelli (2004), as a metric and a loss.

Local statistics are taken under a normalised Gaussian window :math:`w` (the paper: 11x11,
:math:`\sigma = 1.5`, eq. 14-16):

.. math::
    \mu_x = \sum w\,x,\quad \sigma_x^2 = \sum w\,x^2 - \mu_x^2,\quad \sigma_{xy} = \sum w\,xy - \mu_x\mu_y,

    \mathrm{SSIM}(x, y) = \frac{(2\mu_x\mu_y + c_1)(2\sigma_{xy} + c_2)}{(\mu_x^2 + \mu_y^2 + c_1)(\sigma_x^2 + \sigma_y^2 + c_2)}

with :math:`c_1 = (K_1 L)^2`, :math:`c_2 = (K_2 L)^2`, :math:`K_1 = 0.01`, :math:`K_2 = 0.03` and
:math:`L` the dynamic range (eq. 13). The map is computed where the window fits entirely inside
the image ("valid" filtering, as in the authors' MATLAB code) and averaged (MSSIM, eq. 17).
SSIM is 1 exactly when the two images are equal; ``1 - SSIM`` is a differentiable image loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["gaussian_window", "ssim", "ssim_map", "ssim_loss"]


def gaussian_window(size: int = 11, sigma: float = 1.5, dtype: torch.dtype = torch.float32) -> Tensor:
    """Normalised 2-D Gaussian window of shape ``(size, size)`` summing to 1."""
    if not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(f"gaussian_window: size must be a positive odd int, got {size!r}")
    if sigma <= 0:
        raise ValueError(f"gaussian_window: sigma must be > 0, got {sigma}")
    r = torch.arange(size, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-r.square() / (2 * sigma * sigma))
    g = g / g.sum()
    return g[:, None] * g[None, :]  # (size, size), separable outer product


def _as_nchw(x: Tensor, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"ssim: {name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() == 2:
        return x[None, None]  # (1, 1, H, W)
    if x.dim() == 3:
        return x[None]  # (1, C, H, W)
    if x.dim() == 4:
        return x
    raise ValueError(f"ssim: {name} must be (H, W), (C, H, W) or (N, C, H, W), got shape {tuple(x.shape)}")


def ssim_map(x: Tensor, y: Tensor, data_range: float = 1.0, window_size: int = 11, sigma: float = 1.5,
             k1: float = 0.01, k2: float = 0.03) -> Tensor:
    """Local SSIM map ``(N, C, H - s + 1, W - s + 1)`` for window size ``s``."""
    if x.shape != y.shape:
        raise ValueError(f"ssim: x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    if data_range <= 0:
        raise ValueError(f"ssim: data_range must be > 0, got {data_range}")
    x4, y4 = _as_nchw(x, "x"), _as_nchw(y, "y")
    n, c, h, w = x4.shape
    if h < window_size or w < window_size:
        raise ValueError(f"ssim: images of size {h}x{w} are smaller than the {window_size}x{window_size} window; "
                         "pass a smaller window_size")
    win = gaussian_window(window_size, sigma, x4.dtype).to(x4.device)
    win = win.expand(c, 1, window_size, window_size)  # (C, 1, s, s): one filter per channel

    def filt(t: Tensor) -> Tensor:
        return F.conv2d(t, win, groups=c)  # (N, C, H-s+1, W-s+1)

    mu_x, mu_y = filt(x4), filt(y4)
    var_x = filt(x4 * x4) - mu_x.square()
    var_y = filt(y4 * y4) - mu_y.square()
    cov = filt(x4 * y4) - mu_x * mu_y
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x.square() + mu_y.square() + c1) * (var_x + var_y + c2)
    return num / den


def ssim(x: Tensor, y: Tensor, data_range: float = 1.0, window_size: int = 11, sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03, reduction: str = "mean") -> Tensor:
    """Mean SSIM (MSSIM): ``"mean"`` over everything, ``"none"`` one value per image (N,)."""
    if reduction not in ("mean", "none"):
        raise ValueError(f"ssim: reduction must be 'mean' or 'none', got {reduction!r}")
    m = ssim_map(x, y, data_range, window_size, sigma, k1, k2)
    return m.mean() if reduction == "mean" else m.flatten(1).mean(1)


def ssim_loss(x: Tensor, y: Tensor, **kwargs) -> Tensor:
    """``1 - SSIM``: 0 for identical images; keyword arguments as in :func:`ssim`."""
    return 1 - ssim(x, y, **kwargs)
