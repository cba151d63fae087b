"""Positional encodings: the notes' sinusoids, learned embeddings, and rotary embeddings.

* Sinusoidal (Vaswani et al. 2017, Sec. 3.5; the notes' formula)

  .. math::  PE_{pos, 2i} = \\sin(pos / 10000^{2i/d}), \\qquad PE_{pos, 2i+1} = \\cos(pos / 10000^{2i/d}),

  added to the token embeddings; defined for any length.
* Learned: one trainable vector per position up to ``max_len`` (BERT, GPT-2, ViT).
* Rotary (RoPE; Su et al. 2021, RoFormer eq. 34): rotate each pair ``(x_{2i}, x_{2i+1})`` of every query and
  key by the angle ``pos * theta_i``, ``theta_i = 10000^{-2i/d}``. Then ``<R_m q, R_n k>`` depends on the
  offset ``m - n`` only: relative positions enter the scores, and nothing is added to the embeddings.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["sinusoidal_encoding", "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding", "RotaryEmbedding",
           "POSITIONAL", "make_positional"]

POSITIONAL = ("sinusoidal", "learned", "rotary", "none")


def sinusoidal_encoding(length: int, dim: int, base: float = 10000.0, dtype=torch.float32) -> Tensor:
    """The ``(length, dim)`` table of the notes' formula (``dim`` even)."""
    if length < 0 or dim < 2 or dim % 2:
        raise ValueError(f"need length >= 0 and an even dim >= 2; got length={length}, dim={dim}")
    pos = torch.arange(length, dtype=torch.float64)[:, None]
    two_i = torch.arange(0, dim, 2, dtype=torch.float64)
    angle = pos / base ** (two_i / dim)
    pe = torch.zeros(length, dim, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe.to(dtype)


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the sinusoidal table to ``x (B, L, d)`` (no parameters; any length)."""

    def __init__(self, dim: int, max_len: int = 4096):
        super().__init__()
        self.dim = dim
        self.register_buffer("table", sinusoidal_encoding(max_len, dim), persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        if x.ndim != 3 or x.shape[-1] != self.dim:
            raise ValueError(f"x must be (B, L, {self.dim}); got {tuple(x.shape)}")
        end = offset + x.shape[1]
        if end > self.table.shape[0]:  # longer than precomputed: extend (the formula has no length limit)
            self.table = sinusoidal_encoding(2 * end, self.dim).to(self.table.device)
        return x + self.table[offset:end].to(x.dtype)


class LearnedPositionalEmbedding(nn.Module):
    """A trainable ``(max_len, d)`` table added to ``x (B, L, d)``; initialised N(0, 0.02) as in GPT-2."""

    def __init__(self, dim: int, max_len: int):
        super().__init__()
        self.dim, self.max_len = dim, max_len
        self.weight = nn.Parameter(torch.randn(max_len, dim) * 0.02)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        if x.ndim != 3 or x.shape[-1] != self.dim:
            raise ValueError(f"x must be (B, L, {self.dim}); got {tuple(x.shape)}")
        if offset + x.shape[1] > self.max_len:
            raise ValueError(f"sequence of length {offset + x.shape[1]} exceeds max_len={self.max_len}")
        return x + self.weight[offset:offset + x.shape[1]]


class RotaryEmbedding(nn.Module):
    """Rotates pairs of features of ``x (B, H, L, d_head)`` by ``pos * theta_i`` (Su et al. 2021)."""

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        if head_dim < 2 or head_dim % 2:
            raise ValueError(f"rotary embeddings need an even head_dim >= 2, got {head_dim}")
        self.head_dim = head_dim
        self.register_buffer("theta", base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim),
                             persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        if x.shape[-1] != self.head_dim:
            raise ValueError(f"x must be (..., L, {self.head_dim}); got {tuple(x.shape)}")
        pos = torch.arange(offset, offset + x.shape[-2], dtype=torch.float64, device=x.device)
        angle = pos[:, None] * self.theta.to(x.device)[None, :]  # (L, d/2)
        cos, sin = torch.cos(angle).to(x.dtype), torch.sin(angle).to(x.dtype)
        x1, x2 = x[..., 0::2], x[..., 1::2]
        out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)  # 2-D rotation of each pair
        return out.flatten(-2)


class _NoPosition(nn.Module):
    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        return x


def make_positional(kind: str, dim: int, max_len: int) -> nn.Module:
    """The module added to the embeddings for ``kind`` (rotary and none add nothing: rotary acts in attention)."""
    if kind == "sinusoidal":
        return SinusoidalPositionalEncoding(dim, max(max_len, 16))
    if kind == "learned":
        return LearnedPositionalEmbedding(dim, max_len)
    if kind in ("rotary", "none"):
        return _NoPosition()
    raise ValueError(f"positional must be one of {POSITIONAL}, got {kind!r}")

