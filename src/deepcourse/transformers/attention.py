"""Scaled dot-product and multi-head attention, written from the notes' steps (Vaswani et al. 2017, Sec. 3.2).

For a query ``q_i`` the notes' steps are: score every key, ``s_ij = q_i . k_j``; divide by ``sqrt(d)``; softmax
over ``j``; weigh the values by the scores and sum, ``z_i = sum_j s_ij v_j``. In matrix form

.. math::  Z = \\operatorname{softmax}\\Big(\\frac{Q K^\\top}{\\sqrt{d_k}} + M\\Big) V ,

where the mask ``M`` is 0 where query ``i`` may look at key ``j`` and ``-inf`` where it may not (padding keys,
or future positions for a causal model). A query whose every key is masked gets a zero output, as
``torch.nn.functional.scaled_dot_product_attention`` gives.

Mask conventions (the two torch uses, kept as torch spells them):

* ``attn_mask``: ``(L, S)`` or broadcastable to ``(B, H, L, S)``; boolean **True = may attend** (as in
  ``F.scaled_dot_product_attention``), or a float mask added to the scores.
* ``key_padding_mask``: ``(B, S)`` boolean, **True = padding, ignored** (as in ``nn.MultiheadAttention``).
* ``causal=True``: query ``i`` sees keys ``j <= i`` (top-left aligned, as SDPA's ``is_causal``).

:func:`scaled_dot_product_attention` is the from-scratch path (teaching, tests, attention maps);
:func:`attention` dispatches to torch's fused SDPA when no weights are requested, which is what the models
use (``benchmarks/attention.py`` times both).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["scaled_dot_product_attention", "attention", "combine_masks", "MultiHeadAttention", "IMPLEMENTATIONS"]

IMPLEMENTATIONS = ("auto", "scratch", "sdpa")


def _check_qkv(q: Tensor, k: Tensor, v: Tensor) -> None:
    if q.ndim < 2 or k.ndim != q.ndim or v.ndim != q.ndim:
        raise ValueError(f"q, k, v must be (..., L, d), (..., S, d), (..., S, d_v) with the same number of dims; "
                         f"got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must share the last dim d: got q {tuple(q.shape)}, k {tuple(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same length S: got k {tuple(k.shape)}, v {tuple(v.shape)}")


def combine_masks(L: int, S: int, *, attn_mask: Tensor | None = None, key_padding_mask: Tensor | None = None,
                  causal: bool = False, device=None, dtype=None) -> Tensor | None:
    """All masks as one tensor for SDPA: boolean (True = may attend) broadcastable to ``(B, H, L, S)``,
    or a float mask (additive) when ``attn_mask`` is float; ``None`` when nothing is masked."""
    out: Tensor | None = None
    if attn_mask is not None:
        if attn_mask.shape[-2:] != (L, S):
            raise ValueError(f"attn_mask must end in (L, S) = ({L}, {S}); got {tuple(attn_mask.shape)}")
        out = attn_mask
    if causal:
        tri = torch.ones(L, S, dtype=torch.bool, device=device).tril()
        out = tri if out is None else (out & tri if out.dtype == torch.bool else
                                       out.masked_fill(~tri, float("-inf")))
    if key_padding_mask is not None:
        if key_padding_mask.ndim != 2 or key_padding_mask.shape[1] != S:
            raise ValueError(f"key_padding_mask must be (B, S) with S = {S}; got {tuple(key_padding_mask.shape)}")
        if key_padding_mask.dtype != torch.bool:
            raise ValueError(f"key_padding_mask must be boolean (True = padding), got {key_padding_mask.dtype}")
        keep = ~key_padding_mask[:, None, None, :]  # (B, 1, 1, S)
        if out is None:
            out = keep
        elif out.dtype == torch.bool:
            out = out & keep
        else:
            out = out.masked_fill(~keep, float("-inf"))
    return out


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor | None = None, *,
                                 key_padding_mask: Tensor | None = None, causal: bool = False,
                                 dropout_p: float = 0.0, scale: float | None = None,
                                 return_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Attention from the notes' steps. ``q (..., L, d)``, ``k (..., S, d)``, ``v (..., S, d_v)``; with
    ``key_padding_mask`` the inputs are ``(B, H, L, d)`` etc. Returns ``(..., L, d_v)`` (and the weights
    ``(..., L, S)`` with ``return_weights``). ``dropout_p`` drops attention weights (training only: pass 0
    at evaluation)."""
    _check_qkv(q, k, v)
    L, S = q.shape[-2], k.shape[-2]
    if key_padding_mask is not None and q.ndim != 4:
        raise ValueError(f"with key_padding_mask, q must be (B, H, L, d); got {tuple(q.shape)}")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale                       # steps 3-4: s_ij = q_i . k_j / sqrt(d)
    mask = combine_masks(L, S, attn_mask=attn_mask, key_padding_mask=key_padding_mask, causal=causal,
                         device=q.device)
    if mask is not None and mask.dtype == torch.bool:
        scores = scores.masked_fill(~mask, float("-inf"))
    elif mask is not None:
        scores = scores + mask
    weights = torch.softmax(scores, dim=-1)                           # softmax over j
    if mask is not None:  # a query with every key masked: softmax gives nan; return zeros as SDPA does
        weights = torch.nan_to_num(weights, nan=0.0)
    if dropout_p > 0:
        weights = F.dropout(weights, p=dropout_p)
    out = weights @ v                                                 # step 5: z_i = sum_j s_ij v_j
    return (out, weights) if return_weights else out


def attention(q: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor | None = None, *,
              key_padding_mask: Tensor | None = None, causal: bool = False, dropout_p: float = 0.0,
              impl: str = "auto") -> Tensor:
    """The same function as :func:`scaled_dot_product_attention`; ``impl="auto"``/``"sdpa"`` calls torch's
    fused kernel (``is_causal`` when causality is the only mask), ``"scratch"`` the code above."""
    if impl == "scratch":
        return scaled_dot_product_attention(q, k, v, attn_mask, key_padding_mask=key_padding_mask, causal=causal,
                                            dropout_p=dropout_p)
    if impl not in IMPLEMENTATIONS:
        raise ValueError(f"impl must be one of {IMPLEMENTATIONS}, got {impl!r}")
    _check_qkv(q, k, v)
    if attn_mask is None and key_padding_mask is None:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=causal)
    mask = combine_masks(q.shape[-2], k.shape[-2], attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                         causal=causal, device=q.device)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)


class MultiHeadAttention(nn.Module):
    """``h`` attention heads on learned projections, concatenated and projected by ``W^O`` (the notes' steps
    1-5 of the multi-head figure). Batch first: ``query (B, L, E)``, ``key``/``value (B, S, E)``.

    ``rotary``: a :class:`~deepcourse.transformers.positional.RotaryEmbedding` applied to queries and keys of
    every head (RoFormer). ``nystrom``: a :class:`~deepcourse.transformers.nystrom.NystromAttention` that replaces
    the softmax attention (self-attention only). ``impl``: see :func:`attention`.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True, *,
                 rotary: nn.Module | None = None, nystrom: nn.Module | None = None, impl: str = "auto"):
        super().__init__()
        if embed_dim < 1 or num_heads < 1 or embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be a positive multiple of num_heads ({num_heads})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if impl not in IMPLEMENTATIONS:
            raise ValueError(f"impl must be one of {IMPLEMENTATIONS}, got {impl!r}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout, self.impl = dropout, impl
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)       # W^Q, W^K, W^V for all heads at once
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)     # W^O
        self.rotary = rotary
        self.nystrom = nystrom

    def _split(self, x: Tensor) -> Tensor:  # (B, L, E) -> (B, H, L, d)
        B, L, _ = x.shape
        return x.view(B, L, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None, *,
                key_padding_mask: Tensor | None = None, attn_mask: Tensor | None = None, causal: bool = False,
                need_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        key = query if key is None else key
        value = key if value is None else value
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.ndim != 3 or t.shape[-1] != self.embed_dim:
                raise ValueError(f"{name} must be (B, L, {self.embed_dim}); got {tuple(t.shape)}")
        if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
            raise ValueError(f"key and value must be (B, S, E) with the query's B; got query {tuple(query.shape)}, "
                             f"key {tuple(key.shape)}, value {tuple(value.shape)}")
        q, k, v = self._split(self.q_proj(query)), self._split(self.k_proj(key)), self._split(self.v_proj(value))
        if self.rotary is not None:
            q, k = self.rotary(q), self.rotary(k)
        p = self.dropout if self.training else 0.0
        weights = None
        if self.nystrom is not None:
            if attn_mask is not None or causal:
                raise ValueError("Nystrom attention supports key_padding_mask only (no attn_mask, no causal)")
            z = self.nystrom(q, k, v, key_padding_mask=key_padding_mask)
        elif need_weights or self.impl == "scratch":
            z, weights = scaled_dot_product_attention(q, k, v, attn_mask, key_padding_mask=key_padding_mask,
                                                      causal=causal, dropout_p=p, return_weights=True)
        else:
            z = attention(q, k, v, attn_mask, key_padding_mask=key_padding_mask, causal=causal, dropout_p=p,
                          impl=self.impl)
        B, H, L, d = z.shape
        out = self.out_proj(z.transpose(1, 2).reshape(B, L, H * d))  # concatenate heads, multiply by W^O
        if need_weights:
            return out, weights
        return out

    @torch.no_grad()
    def load_from_torch(self, mha: nn.MultiheadAttention) -> "MultiHeadAttention":
        """Copy the weights of a ``torch.nn.MultiheadAttention`` of the same size (packed in_proj)."""
        if mha.embed_dim != self.embed_dim or mha.num_heads != self.num_heads:
            raise ValueError(f"sizes differ: torch ({mha.embed_dim}, {mha.num_heads}) vs ours "
                             f"({self.embed_dim}, {self.num_heads})")
        wq, wk, wv = mha.in_proj_weight.chunk(3)
        for lin, w in zip((self.q_proj, self.k_proj, self.v_proj), (wq, wk, wv)):
            lin.weight.copy_(w)
        if mha.in_proj_bias is not None and self.q_proj.bias is not None:
            for lin, b in zip((self.q_proj, self.k_proj, self.v_proj), mha.in_proj_bias.chunk(3)):
                lin.bias.copy_(b)
        self.out_proj.weight.copy_(mha.out_proj.weight)
        if self.out_proj.bias is not None and mha.out_proj.bias is not None:
            self.out_proj.bias.copy_(mha.out_proj.bias)
        return self
