"""Transformer encoder and decoder blocks (Vaswani et al. 2017, Fig. 1), post-LN or pre-LN.

Post-LN (the original): ``x = LN(x + Drop(Attn(x)))``, ``x = LN(x + Drop(MLP(x)))``.
Pre-LN (Xiong et al. 2020, GPT-2, ViT): ``x = x + Drop(Attn(LN(x)))``, ``x = x + Drop(MLP(LN(x)))``; it trains
without a learning-rate warm-up and needs a final LayerNorm after the last block.
The MLP is ``Linear(d, hidden) -> GELU or ReLU -> Dropout -> Linear(hidden, d)``. A decoder block adds
cross-attention to the encoder's output between self-attention (causal) and the MLP.

Parameter names and order follow ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer``, so
:meth:`EncoderBlock.load_from_torch` copies their weights (tests compare the two in float64).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .attention import MultiHeadAttention
from .nystrom import NystromAttention
from .positional import RotaryEmbedding

__all__ = ["FeedForward", "EncoderBlock", "DecoderBlock", "ACTIVATIONS"]

ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu}


def _check(dim: int, heads: int, hidden: int, dropout: float, activation: str) -> None:
    if dim < 1 or heads < 1 or hidden < 1 or dim % heads:
        raise ValueError(f"need dim, heads, hidden >= 1 with dim divisible by heads; got {dim}, {heads}, {hidden}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")


class FeedForward(nn.Module):
    """The position-wise MLP (Vaswani et al. 2017, eq. 2) with GELU or ReLU."""

    def __init__(self, dim: int, hidden: int, dropout: float = 0.0, activation: str = "gelu"):
        super().__init__()
        self.linear1 = nn.Linear(dim, hidden)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(hidden, dim)
        self.activation = ACTIVATIONS[activation]

    def forward(self, x: Tensor) -> Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


class EncoderBlock(nn.Module):
    """Self-attention + MLP with residual connections; ``norm_first`` selects pre-LN.

    ``rotary``: rotary position embeddings inside attention. ``nystrom_landmarks``: replace softmax attention by
    Nystrom attention with that many landmarks (:class:`~deepcourse.transformers.nystrom.NystromAttention`)
    and a depthwise convolution skip of kernel ``nystrom_conv`` (0: none).
    ``causal=True`` in :meth:`forward` makes it a decoder-only (GPT) block."""

    def __init__(self, dim: int, heads: int, hidden: int, dropout: float = 0.1, activation: str = "gelu",
                 norm_first: bool = True, *, rotary: bool = False, nystrom_landmarks: int | None = None,
                 nystrom_conv: int = 33, impl: str = "auto"):
        super().__init__()
        _check(dim, heads, hidden, dropout, activation)
        nys = None
        if nystrom_landmarks is not None:
            nys = NystromAttention(heads, dim // heads, nystrom_landmarks, conv_kernel=nystrom_conv)
        self.self_attn = MultiHeadAttention(dim, heads, dropout, rotary=RotaryEmbedding(dim // heads) if rotary
                                            else None, nystrom=nys, impl=impl)
        self.mlp = FeedForward(dim, hidden, dropout, activation)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm_first = norm_first

    def _sa(self, x: Tensor, key_padding_mask, attn_mask, causal) -> Tensor:
        return self.dropout1(self.self_attn(x, key_padding_mask=key_padding_mask, attn_mask=attn_mask, causal=causal))

    def forward(self, x: Tensor, *, key_padding_mask: Tensor | None = None, attn_mask: Tensor | None = None,
                causal: bool = False) -> Tensor:
        if self.norm_first:
            x = x + self._sa(self.norm1(x), key_padding_mask, attn_mask, causal)
            return x + self.dropout2(self.mlp(self.norm2(x)))
        x = self.norm1(x + self._sa(x, key_padding_mask, attn_mask, causal))
        return self.norm2(x + self.dropout2(self.mlp(x)))

    def load_from_torch(self, layer: nn.TransformerEncoderLayer) -> "EncoderBlock":
        """Copy the weights of an ``nn.TransformerEncoderLayer`` (batch_first, same sizes)."""
        self.self_attn.load_from_torch(layer.self_attn)
        self.mlp.linear1.load_state_dict(layer.linear1.state_dict())
        self.mlp.linear2.load_state_dict(layer.linear2.state_dict())
        self.norm1.load_state_dict(layer.norm1.state_dict())
        self.norm2.load_state_dict(layer.norm2.state_dict())
        return self


class DecoderBlock(nn.Module):
    """Causal self-attention, cross-attention to ``memory`` (the encoder output), MLP; pre- or post-LN."""

    def __init__(self, dim: int, heads: int, hidden: int, dropout: float = 0.1, activation: str = "gelu",
                 norm_first: bool = True, *, impl: str = "auto"):
        super().__init__()
        _check(dim, heads, hidden, dropout, activation)
        self.self_attn = MultiHeadAttention(dim, heads, dropout, impl=impl)
        self.cross_attn = MultiHeadAttention(dim, heads, dropout, impl=impl)
        self.mlp = FeedForward(dim, hidden, dropout, activation)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.dropout1, self.dropout2, self.dropout3 = nn.Dropout(dropout), nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x: Tensor, memory: Tensor, *, key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, causal: bool = True) -> Tensor:
        def sa(h):
            return self.dropout1(self.self_attn(h, key_padding_mask=key_padding_mask, causal=causal))

        def ca(h):
            return self.dropout2(self.cross_attn(h, memory, memory, key_padding_mask=memory_key_padding_mask))

        if self.norm_first:
            x = x + sa(self.norm1(x))
            x = x + ca(self.norm2(x))
            return x + self.dropout3(self.mlp(self.norm3(x)))
        x = self.norm1(x + sa(x))
        x = self.norm2(x + ca(x))
        return self.norm3(x + self.dropout3(self.mlp(x)))

    def load_from_torch(self, layer: nn.TransformerDecoderLayer) -> "DecoderBlock":
        """Copy the weights of an ``nn.TransformerDecoderLayer`` (batch_first, same sizes)."""
        self.self_attn.load_from_torch(layer.self_attn)
        self.cross_attn.load_from_torch(layer.multihead_attn)
        self.mlp.linear1.load_state_dict(layer.linear1.state_dict())
        self.mlp.linear2.load_state_dict(layer.linear2.state_dict())
        for ours, theirs in ((self.norm1, layer.norm1), (self.norm2, layer.norm2), (self.norm3, layer.norm3)):
            ours.load_state_dict(theirs.state_dict())
        return self
