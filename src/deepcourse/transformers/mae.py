"""Masked autoencoder (He et al. 2022, "Masked Autoencoders Are Scalable Vision Learners").

Cut the image into patches, hide a large random subset (75 %), encode only the visible patches with a ViT
encoder, then a small decoder sees the encoded visible tokens plus a token for every hidden patch (a learned
``[MASK]`` vector, or zeros: the notes' two ways of masking) with position embeddings, and predicts the pixels
of each patch. The loss is the mean squared error on the **masked** patches only (Sec. 3), optionally on
per-patch normalised pixels (``norm_pix``). The encoder is asymmetric to the decoder: deep and wide against
shallow and narrow, and it never processes mask tokens.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .blocks import EncoderBlock
from .masking import random_patch_mask
from .vit import PatchEmbedding, patchify, unpatchify

__all__ = ["MaskedAutoencoder", "MAEClassifier", "MASK_TOKENS"]

MASK_TOKENS = ("learned", "zeros")


class MaskedAutoencoder(nn.Module):
    """``forward(images) -> (loss, pred (B, N, p*p*C), mask (B, N))``; :meth:`features` encodes all patches."""

    def __init__(self, image_size: int = 28, patch: int = 4, in_channels: int = 1, dim: int = 64, depth: int = 4,
                 heads: int = 4, hidden: int = 128, dec_dim: int = 32, dec_depth: int = 1, dec_heads: int = 2,
                 mask_ratio: float = 0.75, mask_token: str = "learned", norm_pix: bool = False):
        super().__init__()
        if mask_token not in MASK_TOKENS:
            raise ValueError(f"mask_token must be one of {MASK_TOKENS}, got {mask_token!r}")
        if not 0.0 <= mask_ratio < 1.0:
            raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
        self.patch, self.in_channels, self.image_size = patch, in_channels, image_size
        self.mask_ratio, self.norm_pix = mask_ratio, norm_pix
        self.patch_embed = PatchEmbedding(image_size, patch, in_channels, dim)
        n = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, hidden, 0.0, "gelu") for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.dec_embed = nn.Linear(dim, dec_dim)
        self.mask_token = nn.Parameter(torch.randn(1, 1, dec_dim) * 0.02) if mask_token == "learned" else None
        self.register_buffer("zero_token", torch.zeros(1, 1, dec_dim), persistent=False)
        self.dec_pos = nn.Parameter(torch.randn(1, n + 1, dec_dim) * 0.02)
        self.dec_blocks = nn.ModuleList(EncoderBlock(dec_dim, dec_heads, 2 * dec_dim, 0.0, "gelu")
                                        for _ in range(dec_depth))
        self.dec_norm = nn.LayerNorm(dec_dim)
        self.dec_pred = nn.Linear(dec_dim, patch * patch * in_channels)

    def encode(self, x: Tensor, ids_keep: Tensor | None = None) -> Tensor:
        """Tokens ``(B, 1 + kept, dim)`` (class token first) of the patches in ``ids_keep`` (all if None)."""
        h = self.patch_embed(x) + self.pos_embed[:, 1:]
        if ids_keep is not None:
            h = h.gather(1, ids_keep[..., None].expand(-1, -1, h.shape[-1]))
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(h.shape[0], -1, -1)
        h = torch.cat([cls, h], dim=1)
        for block in self.blocks:
            h = block(h)
        return self.norm(h)

    def decode(self, latent: Tensor, ids_restore: Tensor) -> Tensor:
        y = self.dec_embed(latent)
        B, n = ids_restore.shape
        token = self.mask_token if self.mask_token is not None else self.zero_token
        fill = token.expand(B, n + 1 - y.shape[1], -1)
        seq = torch.cat([y[:, 1:], fill], dim=1)                                   # visible, then masked
        seq = seq.gather(1, ids_restore[..., None].expand(-1, -1, y.shape[-1]))    # back to image order
        seq = torch.cat([y[:, :1], seq], dim=1) + self.dec_pos
        for block in self.dec_blocks:
            seq = block(seq)
        return self.dec_pred(self.dec_norm(seq))[:, 1:]

    def targets(self, x: Tensor) -> Tensor:
        t = patchify(x, self.patch)
        if self.norm_pix:
            t = (t - t.mean(-1, keepdim=True)) / (t.var(-1, keepdim=True) + 1e-6).sqrt()
        return t

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
        n = self.patch_embed.num_patches
        ids_keep, mask, ids_restore = random_patch_mask(x.shape[0], n, self.mask_ratio, generator=generator,
                                                        device=x.device)
        pred = self.decode(self.encode(x, ids_keep), ids_restore)
        per_patch = ((pred - self.targets(x)) ** 2).mean(-1)                  # (B, N)
        loss = (per_patch * mask).sum() / mask.sum()                          # masked patches only
        return loss, pred, mask

    @torch.no_grad()
    def reconstruct(self, x: Tensor, pred: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Images of the masked input (hidden patches grey) and of the reconstruction pasted into the visible
        patches (in pixel units; with ``norm_pix`` each patch is un-normalised with its true statistics)."""
        t = patchify(x, self.patch)
        if self.norm_pix:
            mu, sd = t.mean(-1, keepdim=True), (t.var(-1, keepdim=True) + 1e-6).sqrt()
            pred = pred * sd + mu
        m = mask[..., None]
        masked = unpatchify(t * (1 - m) + 0.5 * m, self.patch, self.in_channels, self.image_size, self.image_size)
        recon = unpatchify(t * (1 - m) + pred.clamp(0, 1) * m, self.patch, self.in_channels, self.image_size,
                           self.image_size)
        return masked, recon

    def features(self, x: Tensor) -> Tensor:
        """Mean of the encoder's patch tokens over the whole (unmasked) image, for probing."""
        return self.encode(x)[:, 1:].mean(dim=1)


class MAEClassifier(nn.Module):
    """The MAE encoder (all patches, mean of the patch tokens) and a linear head: fine-tuning after
    pre-training, or the same network from scratch. The decoder is dropped."""

    def __init__(self, mae: MaskedAutoencoder, num_classes: int = 10):
        super().__init__()
        self.patch_embed, self.cls_token, self.pos_embed = mae.patch_embed, mae.cls_token, mae.pos_embed
        self.blocks, self.norm = mae.blocks, mae.norm
        self.head = nn.Linear(self.norm.normalized_shape[0], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(MaskedAutoencoder.encode(self, x)[:, 1:].mean(dim=1))


register_model("mae", example_input=lambda: torch.rand(2, 1, 28, 28),
               small=dict(dim=16, depth=1, heads=2, hidden=32, dec_dim=8, dec_depth=1, dec_heads=2),
               loss=lambda out: out[0])(MaskedAutoencoder)
