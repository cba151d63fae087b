"""The Vision Transformer (Dosovitskiy et al. 2021): an image as a sequence of patches.

Cut the image into ``p x p`` patches, flatten and project each (a convolution with kernel = stride = p), add a
learned position embedding, prepend a learned class token (or not), run pre-LN encoder blocks, and classify the
class token's output (``pool="cls"``) or the mean of the patch outputs (``pool="mean"``, as in the
Nystromformer's LRA models and later ViT variants).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .blocks import EncoderBlock

__all__ = ["PatchEmbedding", "ViT", "patchify", "unpatchify", "POOLS"]

POOLS = ("cls", "mean")


def patchify(x: Tensor, patch: int) -> Tensor:
    """``(B, C, H, W) -> (B, N, p*p*C)`` with patches in row-major order."""
    B, C, H, W = x.shape
    if H % patch or W % patch:
        raise ValueError(f"image size {H}x{W} is not divisible by the patch size {patch}")
    x = x.reshape(B, C, H // patch, patch, W // patch, patch)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(B, (H // patch) * (W // patch), patch * patch * C)


def unpatchify(p: Tensor, patch: int, channels: int, height: int, width: int) -> Tensor:
    """Inverse of :func:`patchify`."""
    B = p.shape[0]
    x = p.reshape(B, height // patch, width // patch, patch, patch, channels)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(B, channels, height, width)


class PatchEmbedding(nn.Module):
    """``(B, C, H, W) -> (B, N, dim)``: a linear map of each flattened patch (as a strided convolution)."""

    def __init__(self, image_size: int, patch: int, in_channels: int, dim: int):
        super().__init__()
        if image_size % patch:
            raise ValueError(f"image_size {image_size} is not divisible by patch {patch}")
        self.image_size, self.patch, self.in_channels = image_size, patch, in_channels
        self.num_patches = (image_size // patch) ** 2
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch, stride=patch)

    def forward(self, x: Tensor) -> Tensor:
        want = (self.in_channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"images must be (B, {want[0]}, {want[1]}, {want[2]}); got {tuple(x.shape)}")
        return self.proj(x).flatten(2).transpose(1, 2)


class ViT(nn.Module):
    """``forward(images (B, C, H, W)) -> logits (B, num_classes)``; :meth:`features` gives the pooled vector."""

    def __init__(self, image_size: int = 28, patch: int = 7, in_channels: int = 1, num_classes: int = 10,
                 dim: int = 64, depth: int = 4, heads: int = 4, hidden: int = 128, dropout: float = 0.0,
                 pool: str = "cls", activation: str = "gelu"):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool = pool
        self.patch_embed = PatchEmbedding(image_size, patch, in_channels, dim)
        n = self.patch_embed.num_patches + (pool == "cls")
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim)) if pool == "cls" else None
        self.pos_embed = nn.Parameter(torch.randn(1, n, dim) * 0.02)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, hidden, dropout, activation, norm_first=True)
                                    for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def features(self, x: Tensor) -> Tensor:
        h = self.patch_embed(x)
        if self.cls_token is not None:
            h = torch.cat([self.cls_token.expand(h.shape[0], -1, -1), h], dim=1)
        h = self.drop(h + self.pos_embed)
        for block in self.blocks:
            h = block(h)
        h = self.norm(h)
        return h[:, 0] if self.pool == "cls" else h.mean(dim=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


register_model("vit", example_input=lambda: torch.randn(2, 1, 28, 28),
               small=dict(dim=16, depth=1, heads=2, hidden=32))(ViT)
