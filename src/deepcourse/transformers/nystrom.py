"""Nystrom attention (Xiong et al. 2021, "Nystromformer"): softmax attention in O(n m) instead of O(n^2).

Pick ``m`` landmarks: the means of ``m`` contiguous segments of the queries and of the keys
(``Q~``, ``K~``, Sec. 3.3). With ``S = softmax(Q K^T / sqrt(d))`` the Nystrom form is (eq. 14)

.. math::  \\hat S = \\operatorname{softmax}\\Big(\\frac{Q \\tilde K^\\top}{\\sqrt d}\\Big)
           \\operatorname{softmax}\\Big(\\frac{\\tilde Q \\tilde K^\\top}{\\sqrt d}\\Big)^{+}
           \\operatorname{softmax}\\Big(\\frac{\\tilde Q K^\\top}{\\sqrt d}\\Big),

and ``\\hat S V`` is computed right to left, never forming an ``n x n`` matrix. The Moore-Penrose inverse
``A^+`` of the ``m x m`` middle matrix is approximated by the iteration of Razavi et al. 2014 (eq. 16)

.. math::  Z_{j+1} = \\tfrac14 Z_j (13 I - A Z_j (15 I - A Z_j (7 I - A Z_j))), \\qquad
           Z_0 = A^\\top / (\\|A\\|_1 \\|A\\|_\\infty),

6 iterations in the reference code. ``Z_0`` must be scaled **per matrix**: the reference code takes the
maximum column sum over the whole batch and all heads, which shrinks ``Z_0`` for every other matrix and slows
(or, on large matrices, stalls) convergence (``init="batch"`` reproduces it for comparison). A depthwise
convolution over the values along the sequence (kernel 33 here, per head) is added as a skip (the reference
code's ``use_conv``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["iterative_pinv", "segment_means", "nystrom_attention", "NystromAttention", "PINV_INITS"]

PINV_INITS = ("per_matrix", "batch")


def iterative_pinv(a: Tensor, iters: int = 6, init: str = "per_matrix") -> Tensor:
    """Approximate Moore-Penrose inverse of each matrix in ``a (..., m, m)`` (Xiong et al. 2021, eq. 16).

    ``init="per_matrix"``: ``Z_0 = A^T / (||A||_1 ||A||_inf)`` for each matrix, which guarantees
    ``||I - A Z_0||_2 < 1`` and hence convergence. ``init="batch"``: the reference code's scaling, the
    largest column sum over the whole tensor (rows of a softmax matrix sum to 1)."""
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"a must be (..., m, m); got {tuple(a.shape)}")
    if iters < 0:
        raise ValueError(f"iters must be >= 0, got {iters}")
    eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    col = a.abs().sum(dim=-2).amax(dim=-1)  # ||A||_1, per matrix
    row = a.abs().sum(dim=-1).amax(dim=-1)  # ||A||_inf, per matrix
    if init == "per_matrix":
        z = a.transpose(-1, -2) / (col * row).clamp_min(torch.finfo(a.dtype).tiny)[..., None, None]
    elif init == "batch":
        z = a.transpose(-1, -2) / a.sum(dim=-2).max()
    else:
        raise ValueError(f"init must be one of {PINV_INITS}, got {init!r}")
    for _ in range(iters):
        az = a @ z
        z = 0.25 * z @ (13 * eye - az @ (15 * eye - az @ (7 * eye - az)))
    return z


def segment_means(x: Tensor, m: int) -> Tensor:
    """Means of ``m`` contiguous, near-equal segments along dim -2: ``(..., n, d) -> (..., m, d)``.
    Segment ``j`` covers positions ``floor(j n / m) .. floor((j + 1) n / m) - 1`` (any ``n >= m``)."""
    n = x.shape[-2]
    if not 1 <= m <= n:
        raise ValueError(f"need 1 <= m <= n for {m} landmarks over a sequence of {n}")
    if n % m == 0:
        return x.unflatten(-2, (m, n // m)).mean(dim=-2)
    bounds = (torch.arange(m + 1, device=x.device) * n) // m
    seg = torch.bucketize(torch.arange(n, device=x.device), bounds[1:], right=True)  # segment of each position
    avg = torch.zeros(m, n, dtype=x.dtype, device=x.device)
    avg[seg, torch.arange(n, device=x.device)] = 1.0
    avg = avg / avg.sum(dim=1, keepdim=True)
    return avg @ x


def nystrom_attention(q: Tensor, k: Tensor, v: Tensor, num_landmarks: int, *, pinv_iters: int = 6,
                      init: str = "per_matrix", pinv: str = "iterative",
                      key_padding_mask: Tensor | None = None) -> Tensor:
    """``\\hat S V`` for ``q, k, v (B, H, n, d)``; ``key_padding_mask (B, n)`` True = padding.
    ``pinv="exact"`` uses ``torch.linalg.pinv`` instead of the iteration (for the error study)."""
    if q.ndim != 4 or k.shape != q.shape or v.shape[:-1] != q.shape[:-1]:
        raise ValueError(f"q, k, v must be (B, H, n, d) of one shape; got {tuple(q.shape)}, {tuple(k.shape)}, "
                         f"{tuple(v.shape)}")
    scale = 1.0 / math.sqrt(math.sqrt(q.shape[-1]))  # split 1/sqrt(d) between q and k, as the reference does
    q, k = q * scale, k * scale
    neg = None
    if key_padding_mask is not None:
        if key_padding_mask.shape != (q.shape[0], q.shape[2]) or key_padding_mask.dtype != torch.bool:
            raise ValueError(f"key_padding_mask must be bool (B, n) = {(q.shape[0], q.shape[2])}; got "
                             f"{tuple(key_padding_mask.shape)} {key_padding_mask.dtype}")
        keep = (~key_padding_mask)[:, None, :, None].to(q.dtype)
        q, k = q * keep, k * keep
        neg = torch.zeros(key_padding_mask.shape, dtype=q.dtype, device=q.device).masked_fill(
            key_padding_mask, float("-inf"))[:, None, None, :]  # (B, 1, 1, n)
    n = q.shape[-2]
    if num_landmarks >= n:  # as many landmarks as tokens: exact attention
        s = q @ k.transpose(-1, -2)
        return torch.softmax(s if neg is None else s + neg, dim=-1) @ v
    q_l, k_l = segment_means(q, num_landmarks), segment_means(k, num_landmarks)
    kernel1 = torch.softmax(q @ k_l.transpose(-1, -2), dim=-1)                 # (B, H, n, m)
    kernel2 = torch.softmax(q_l @ k_l.transpose(-1, -2), dim=-1)               # (B, H, m, m)
    s3 = q_l @ k.transpose(-1, -2)
    kernel3 = torch.softmax(s3 if neg is None else s3 + neg, dim=-1)           # (B, H, m, n)
    inv = torch.linalg.pinv(kernel2) if pinv == "exact" else iterative_pinv(kernel2, pinv_iters, init)
    return kernel1 @ (inv @ (kernel3 @ v))


class NystromAttention(nn.Module):
    """Nystrom attention for ``(B, H, n, d)`` heads, plus the depthwise-convolution skip on the values."""

    def __init__(self, heads: int, head_dim: int, num_landmarks: int = 64, pinv_iters: int = 6,
                 conv_kernel: int = 33, init: str = "per_matrix"):
        super().__init__()
        if num_landmarks < 1 or pinv_iters < 0 or conv_kernel < 0:
            raise ValueError(f"need num_landmarks >= 1, pinv_iters >= 0, conv_kernel >= 0; got {num_landmarks}, "
                             f"{pinv_iters}, {conv_kernel}")
        if init not in PINV_INITS:
            raise ValueError(f"init must be one of {PINV_INITS}, got {init!r}")
        self.num_landmarks, self.pinv_iters, self.init = num_landmarks, pinv_iters, init
        self.conv = (nn.Conv2d(heads, heads, (conv_kernel, 1), padding=(conv_kernel // 2, 0), groups=heads, bias=False)
                     if conv_kernel else None)  # one 1-D filter per head, shared over the d features

    def forward(self, q: Tensor, k: Tensor, v: Tensor, key_padding_mask: Tensor | None = None) -> Tensor:
        out = nystrom_attention(q, k, v, self.num_landmarks, pinv_iters=self.pinv_iters, init=self.init,
                                key_padding_mask=key_padding_mask)
        if self.conv is not None:
            vv = v if key_padding_mask is None else v * (~key_padding_mask)[:, None, :, None].to(v.dtype)
            out = out + self.conv(vv)
        return out
