"""A character-level language model: an embedding, a stacked LSTM (or GRU) and a softmax over the next
character (Karpathy 2015, "The Unreasonable Effectiveness of Recurrent Neural Networks"; Graves 2013).

Training minimises the cross-entropy of the next character in nats; :func:`sample` generates text one
character at a time from ``softmax(logits / temperature)``: temperature 1 samples the model's distribution,
lower temperatures sharpen it toward the most likely character (more repetitive, fewer spelling errors),
higher ones flatten it toward uniform.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from deepcourse.core import eval_mode, register_model

__all__ = ["CharLM", "random_windows", "evaluate_lm", "sample"]


class CharLM(nn.Module):
    """Next-character model: ``forward(x (B, T), state) -> (logits (B, T, V), state)``."""

    def __init__(self, vocab_size: int, hidden: int = 512, layers: int = 2, embed: int = 64, dropout: float = 0.0,
                 cell: str = "lstm"):
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, embed)
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(embed, hidden, layers, batch_first=True,
                                                            dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x: torch.Tensor, state=None):
        if x.dim() != 2 or x.dtype != torch.long:
            raise ValueError(f"x must be a LongTensor of shape (B, T), got {x.dtype} {tuple(x.shape)}")
        h, state = self.rnn(self.embed(x), state)
        return self.head(self.drop(h)), state

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean next-character cross-entropy in nats; ``y`` is ``x`` shifted by one."""
        logits, _ = self(x)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), y.reshape(-1))


def random_windows(data: torch.Tensor, block: int, batch: int, generator: torch.Generator | None = None):
    """``batch`` random windows of ``data`` (1-D codes): inputs ``(B, block)`` and the next characters."""
    if data.dim() != 1 or len(data) <= block:
        raise ValueError(f"data must be 1-D and longer than block={block}, got shape {tuple(data.shape)}")
    start = torch.randint(0, len(data) - block, (batch,), generator=generator)
    idx = start[:, None] + torch.arange(block)
    return data[idx], data[idx + 1]


def evaluate_lm(model: CharLM, data: torch.Tensor, block: int, batch: int = 256,
                max_windows: int | None = None) -> float:
    """Mean cross-entropy (nats per character) over consecutive non-overlapping windows of ``block``
    characters of ``data``, each read from a zero state (so every prediction sees at most ``block``
    characters of context, as in nanoGPT's evaluation). ``max_windows``: the first so many, for a cheap
    estimate during training."""
    n = (len(data) - 1) // block
    if max_windows is not None:
        n = min(n, max_windows)
    if n < 1:
        raise ValueError(f"data ({len(data)} characters) is shorter than one window of {block} + 1")
    idx = torch.arange(n)[:, None] * block + torch.arange(block)
    total = 0.0
    with eval_mode(model):
        for i in range(0, n, batch):
            j = idx[i:i + batch]
            logits, _ = model(data[j])
            total += float(F.cross_entropy(logits.reshape(-1, model.vocab_size), data[j + 1].reshape(-1),
                                           reduction="sum"))
    return total / (n * block)


def sample(model: CharLM, prime: torch.Tensor, n: int, temperature: float = 1.0,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` characters after ``prime`` (1-D codes, at least one), each drawn from
    ``softmax(logits / temperature)``; temperature 0 takes the argmax. Returns the ``n`` new codes."""
    if prime.dim() != 1 or len(prime) < 1:
        raise ValueError(f"prime must be a non-empty 1-D LongTensor, got shape {tuple(prime.shape)}")
    if not temperature >= 0 or math.isinf(temperature):
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
    out = []
    with eval_mode(model):
        logits, state = model(prime[None])
        last = logits[0, -1]
        for _ in range(n):
            if temperature == 0:
                nxt = last.argmax()
            else:
                nxt = torch.multinomial(F.softmax(last / temperature, -1), 1, generator=generator)[0]
            out.append(nxt)
            logits, state = model(nxt.view(1, 1), state)
            last = logits[0, -1]
    return torch.stack(out) if out else torch.zeros(0, dtype=torch.long)


register_model("char-lm", example_input=lambda: torch.randint(0, 20, (2, 12)),
               small={"vocab_size": 20, "hidden": 16, "layers": 2, "embed": 8},
               loss=lambda out: out[0].float().pow(2).mean())(CharLM)
