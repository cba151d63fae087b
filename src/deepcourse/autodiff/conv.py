"""Convolution and max-pooling for the reverse-mode engine, via im2col.

im2col (Chellapilla, Puri & Simard 2006, "High performance convolutional
neural networks for document processing") unrolls every receptive field into
a row, so a 2-D convolution becomes one matrix product.  Its adjoint, col2im,
adds each row's gradient back onto the input pixels it came from.  Layout is
NCHW as in torch; "convolution" means cross-correlation, as in every DL library.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .dual import Dual
from .tensor import Tensor, _make, as_tensor

__all__ = ["conv2d", "max_pool2d", "im2col", "col2im"]


def _pair(v: Any, name: str) -> tuple[int, int]:
    t = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(t) != 2 or any(int(i) < 0 for i in t):
        raise ValueError(f"{name} must be a non-negative int or a pair of them, got {v!r}")
    return int(t[0]), int(t[1])


def _no_dual(*xs: Any) -> None:
    if any(isinstance(x, Dual) for x in xs):
        raise TypeError("conv2d/max_pool2d have no forward-over-reverse rule; hvp/hessian support the dense ops only")


def im2col(x: np.ndarray, kh: int, kw: int, stride: tuple[int, int]) -> np.ndarray:
    """Windows of a padded (N, C, H, W) array as (N, Ho, Wo, C, kh, kw) (a strided view)."""
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))  # (N, C, H-kh+1, W-kw+1, kh, kw)
    win = win[:, :, ::stride[0], ::stride[1]]  # (N, C, Ho, Wo, kh, kw)
    return win.transpose(0, 2, 3, 1, 4, 5)  # (N, Ho, Wo, C, kh, kw)


def col2im(cols: np.ndarray, padded_shape: tuple, stride: tuple[int, int]) -> np.ndarray:
    """Adjoint of ``im2col``: scatter-add (N, Ho, Wo, C, kh, kw) back to (N, C, Hp, Wp)."""
    n, ho, wo, c, kh, kw = cols.shape
    out = np.zeros(padded_shape, dtype=cols.dtype)
    sh, sw = stride
    for i in range(kh):
        for j in range(kw):
            out[:, :, i:i + sh * ho:sh, j:j + sw * wo:sw] += cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return out


def conv2d(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """2-D cross-correlation: x (N, C, H, W), w (F, C, kh, kw), b (F,) -> (N, F, Ho, Wo)."""
    x, w = as_tensor(x), as_tensor(w)
    _no_dual(x.data, w.data)
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(f"conv2d: need x (N, C, H, W) and w (F, C, kh, kw) with equal C, got {x.shape} and {w.shape}")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if sh == 0 or sw == 0:
        raise ValueError(f"conv2d: stride must be positive, got {stride!r}")
    f, c, kh, kw = w.shape
    xp = np.pad(x.data, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x.data
    win = im2col(xp, kh, kw, (sh, sw))  # (N, Ho, Wo, C, kh, kw)
    n, ho, wo = win.shape[:3]
    cols = win.reshape(n * ho * wo, c * kh * kw)  # (N*Ho*Wo, C*kh*kw)
    wm = w.data.reshape(f, c * kh * kw)  # (F, C*kh*kw)
    out = cols @ wm.T  # (N*Ho*Wo, F)
    if b is not None:
        b = as_tensor(b)
        out = out + b.data
    y = out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2)  # (N, F, Ho, Wo)
    xshape, pshape = x.shape, xp.shape

    def bw(g):
        g2 = g.transpose(0, 2, 3, 1).reshape(-1, f)  # (N*Ho*Wo, F)
        gx = gw = gb = None
        if x.requires_grad:
            gcols = (g2 @ wm).reshape(n, ho, wo, c, kh, kw)
            gxp = col2im(gcols, pshape, (sh, sw))
            gx = gxp[:, :, ph:ph + xshape[2], pw:pw + xshape[3]]
        if w.requires_grad:
            gw = (g2.T @ cols).reshape(w.shape)
        if b is not None and b.requires_grad:
            gb = g2.sum(axis=0)
        return (gx, gw, gb) if b is not None else (gx, gw)
    parents = (x, w, b) if b is not None else (x, w)
    return _make(np.ascontiguousarray(y), parents, bw)


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> Tensor:
    """Max over (kh, kw) windows of (N, C, H, W); gradient to the first max of each window."""
    x = as_tensor(x)
    _no_dual(x.data)
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: need x of shape (N, C, H, W), got {x.shape}")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(kernel_size if stride is None else stride, "stride")
    win = im2col(x.data, kh, kw, (sh, sw))  # (N, Ho, Wo, C, kh, kw)
    n, ho, wo, c = win.shape[:4]
    flat = win.reshape(n, ho, wo, c, kh * kw)  # (N, Ho, Wo, C, kh*kw)
    arg = flat.argmax(axis=-1)  # (N, Ho, Wo, C)
    y = np.take_along_axis(flat, arg[..., None], -1)[..., 0].transpose(0, 3, 1, 2)  # (N, C, Ho, Wo)
    shape = x.shape

    def bw(g):
        onehot = np.zeros(flat.shape, dtype=g.dtype)
        np.put_along_axis(onehot, arg[..., None], g.transpose(0, 2, 3, 1)[..., None], -1)
        return (col2im(onehot.reshape(n, ho, wo, c, kh, kw), shape, (sh, sw)),)
    return _make(np.ascontiguousarray(y), (x,), bw)
