"""The encoder-decoder Transformer (Vaswani et al. 2017, Fig. 1) for sequence-to-sequence tasks.

The encoder reads the source with padding masks; the decoder reads the target shifted right by a start token,
causally, and cross-attends to the encoder's output. Training is teacher-forced cross-entropy; decoding is
greedy (:meth:`Seq2SeqTransformer.greedy_decode`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .blocks import DecoderBlock, EncoderBlock
from .positional import make_positional

__all__ = ["Seq2SeqTransformer"]


class Seq2SeqTransformer(nn.Module):
    """``forward(src (B, S), tgt_in (B, T)) -> logits (B, T, tgt_vocab)``. ``pad`` marks padding in both."""

    def __init__(self, src_vocab: int, tgt_vocab: int, dim: int = 128, heads: int = 4, enc_layers: int = 3,
                 dec_layers: int = 3, hidden: int = 512, dropout: float = 0.1, max_len: int = 256,
                 activation: str = "relu", norm_first: bool = False, positional: str = "sinusoidal", pad: int = 0):
        super().__init__()
        if positional == "rotary":
            raise ValueError("Seq2SeqTransformer supports sinusoidal, learned or none positions")
        self.pad, self.dim = pad, dim
        self.src_emb, self.tgt_emb = nn.Embedding(src_vocab, dim), nn.Embedding(tgt_vocab, dim)
        self.src_pos = make_positional(positional, dim, max_len)
        self.tgt_pos = make_positional(positional, dim, max_len)
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.ModuleList(EncoderBlock(dim, heads, hidden, dropout, activation, norm_first)
                                     for _ in range(enc_layers))
        self.decoder = nn.ModuleList(DecoderBlock(dim, heads, hidden, dropout, activation, norm_first)
                                     for _ in range(dec_layers))
        self.enc_norm = nn.LayerNorm(dim) if norm_first else nn.Identity()
        self.dec_norm = nn.LayerNorm(dim) if norm_first else nn.Identity()
        self.head = nn.Linear(dim, tgt_vocab)

    def _embed(self, emb: nn.Embedding, pos: nn.Module, ids: Tensor) -> Tensor:
        return self.drop(pos(emb(ids) * self.dim ** 0.5))  # the paper scales embeddings by sqrt(d_model)

    def encode(self, src: Tensor) -> tuple[Tensor, Tensor]:
        if src.ndim != 2:
            raise ValueError(f"src must be (B, S) token ids; got {tuple(src.shape)}")
        pad = src == self.pad
        x = self._embed(self.src_emb, self.src_pos, src)
        for block in self.encoder:
            x = block(x, key_padding_mask=pad)
        return self.enc_norm(x), pad

    def decode(self, tgt_in: Tensor, memory: Tensor, memory_pad: Tensor) -> Tensor:
        if tgt_in.ndim != 2:
            raise ValueError(f"tgt_in must be (B, T) token ids; got {tuple(tgt_in.shape)}")
        y = self._embed(self.tgt_emb, self.tgt_pos, tgt_in)
        for block in self.decoder:
            y = block(y, memory, memory_key_padding_mask=memory_pad, causal=True)
        return self.head(self.dec_norm(y))

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        memory, pad = self.encode(src)
        return self.decode(tgt_in, memory, pad)

    @torch.no_grad()
    def greedy_decode(self, src: Tensor, start: int, length: int) -> Tensor:
        """``length`` tokens after ``start``, each the argmax given the ones before (B, length)."""
        was = self.training
        self.eval()
        memory, pad = self.encode(src)
        out = torch.full((src.shape[0], 1), start, dtype=torch.long, device=src.device)
        for _ in range(length):
            nxt = self.decode(out, memory, pad)[:, -1].argmax(-1, keepdim=True)
            out = torch.cat([out, nxt], dim=1)
        self.train(was)
        return out[:, 1:]


register_model("seq2seq-transformer", example_input=lambda: (torch.randint(1, 9, (2, 7)), torch.randint(1, 9, (2, 5))),
               small=dict(src_vocab=9, tgt_vocab=9, dim=16, heads=2, enc_layers=1, dec_layers=1,
                          hidden=32))(Seq2SeqTransformer)
