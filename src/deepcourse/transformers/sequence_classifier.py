"""A transformer encoder that classifies a whole sequence: the Long Range Arena model (Tay et al. 2021).

Token embedding + learned positions -> ``depth`` pre-LN encoder blocks (softmax or Nystrom attention) ->
LayerNorm -> mean over the non-padding positions -> linear classifier. The Nystromformer's LRA setting is
2 layers, width 64, MLP 128, 2 heads, mean pooling (Xiong et al. 2021, Sec. 4.3).

``pad=None`` for inputs without padding, where every id is a real token (LRA Image: pixel intensity 0 is a
black pixel, not padding; the Nystromformer's LRA code masks every id 0, black pixels included).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .blocks import EncoderBlock

__all__ = ["SequenceClassifier"]


class SequenceClassifier(nn.Module):
    """``forward(ids (B, n) long) -> logits (B, num_classes)``; ``pad`` ids are masked out of attention and
    of the mean (``pad=None``: no id is padding, nothing is masked). ``landmarks``: Nystrom attention with that
    many landmarks (None: exact softmax)."""

    def __init__(self, vocab_size: int, num_classes: int, max_len: int, dim: int = 64, depth: int = 2,
                 heads: int = 2, hidden: int = 128, dropout: float = 0.1, landmarks: int | None = None,
                 conv_kernel: int = 35, pad: int | None = 0):
        super().__init__()
        self.pad, self.max_len = pad, max_len
        self.embed = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.randn(max_len, dim) * 0.02)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, hidden, dropout, "gelu", norm_first=True,
                                                 nystrom_landmarks=landmarks, nystrom_conv=conv_kernel)
                                    for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, ids: Tensor) -> Tensor:
        if ids.ndim != 2 or ids.dtype != torch.long:
            raise ValueError(f"ids must be (B, n) long token ids; got {tuple(ids.shape)} {ids.dtype}")
        if ids.shape[1] > self.max_len:
            raise ValueError(f"sequence length {ids.shape[1]} exceeds max_len={self.max_len}")
        x = self.drop(self.embed(ids) + self.pos[:ids.shape[1]])
        if self.pad is None:  # no padding: unmasked attention (torch's fused kernel) and a plain mean
            for block in self.blocks:
                x = block(x)
            return self.head(self.norm(x).mean(1))
        pad = ids == self.pad
        for block in self.blocks:
            x = block(x, key_padding_mask=pad)
        x = self.norm(x)
        keep = (~pad).unsqueeze(-1).to(x.dtype)
        return self.head((x * keep).sum(1) / keep.sum(1).clamp_min(1.0))


register_model("sequence-classifier", example_input=lambda: torch.randint(1, 16, (2, 24)),
               small=dict(vocab_size=16, num_classes=10, max_len=24, dim=16, heads=2, hidden=32,
                          landmarks=4, conv_kernel=3))(SequenceClassifier)
