"""A decoder-only language model (GPT; Radford et al. 2018, 2019), nanoGPT-shaped.

Token embedding + positions -> ``n_layer`` pre-LN causal blocks -> LayerNorm -> a linear head tied to the
token embedding (Press & Wolf 2017). Trained by next-token cross-entropy; sampled autoregressively with a
temperature and an optional top-k cut.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .blocks import EncoderBlock
from .positional import make_positional

__all__ = ["GPT", "lm_loss", "init_gpt_weights"]


def init_gpt_weights(model: nn.Module, n_layer: int) -> None:
    """GPT-2's initialisation: N(0, 0.02) weights, zero biases, and the residual output projections scaled by
    ``1/sqrt(2 n_layer)`` so the residual stream's variance does not grow with depth."""
    for name, p in model.named_parameters():
        if p.ndim >= 2 and "pos" not in name:
            nn.init.normal_(p, 0.0, 0.02)
            if name.endswith("out_proj.weight") or name.endswith("linear2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))
        elif name.endswith("bias"):
            nn.init.zeros_(p)


class GPT(nn.Module):
    """``forward(idx (B, T) long) -> logits (B, T, vocab)``; causal, so position t sees tokens <= t.

    ``causal=False`` gives a bidirectional encoder with the same layout (a BERT-style masked-token model)."""

    def __init__(self, vocab_size: int, block_size: int, n_layer: int = 4, n_head: int = 4, n_embd: int = 128,
                 dropout: float = 0.0, positional: str = "learned", activation: str = "gelu", norm_first: bool = True,
                 tie_weights: bool = True, impl: str = "auto", causal: bool = True):
        super().__init__()
        if vocab_size < 2 or block_size < 1 or n_layer < 1:
            raise ValueError(f"need vocab_size >= 2, block_size >= 1, n_layer >= 1; got {vocab_size}, {block_size}, "
                             f"{n_layer}")
        self.vocab_size, self.block_size, self.causal = vocab_size, block_size, causal
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = make_positional(positional, n_embd, block_size)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            EncoderBlock(n_embd, n_head, 4 * n_embd, dropout, activation, norm_first, rotary=positional == "rotary",
                         impl=impl) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd) if norm_first else nn.Identity()
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        init_gpt_weights(self, n_layer)
        if tie_weights:
            self.head.weight = self.tok.weight

    def forward(self, idx: Tensor) -> Tensor:
        if idx.ndim != 2 or idx.dtype != torch.long:
            raise ValueError(f"idx must be (B, T) long token ids; got {tuple(idx.shape)} {idx.dtype}")
        if idx.shape[1] > self.block_size:
            raise ValueError(f"sequence length {idx.shape[1]} exceeds block_size={self.block_size}")
        x = self.drop(self.pos(self.tok(idx)))
        for block in self.blocks:
            x = block(x, causal=self.causal)
        return self.head(self.ln_f(x))

    @torch.no_grad()
    def generate(self, idx: Tensor, max_new_tokens: int, *, temperature: float = 1.0, top_k: int | None = None,
                 generator: torch.Generator | None = None) -> Tensor:
        """Append ``max_new_tokens`` sampled tokens to ``idx (B, T)`` (the context is cropped to block_size)."""
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        was = self.training
        self.eval()
        for _ in range(max_new_tokens):
            logits = self(idx[:, -self.block_size:])[:, -1, :] / temperature
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)
            idx = torch.cat([idx, nxt], dim=1)
        self.train(was)
        return idx


def lm_loss(logits: Tensor, targets: Tensor, ignore_index: int = -100) -> Tensor:
    """Mean next-token cross-entropy (nats) over ``logits (B, T, V)`` and ``targets (B, T)``."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=ignore_index)


register_model("gpt", example_input=lambda: torch.randint(0, 11, (2, 8)),
               small=dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16))(GPT)
