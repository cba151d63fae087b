"""Masking for self-supervised training: BERT's token corruption and MAE's random patch subsets.

* BERT (Devlin et al. 2019, Sec. 3.1): choose 15 % of the positions as prediction targets; of those, 80 % are
  replaced by the ``[MASK]`` token, 10 % by a random token and 10 % are left unchanged; the loss is the
  cross-entropy on the chosen positions only.
* MAE (He et al. 2022, Sec. 3): per image, shuffle the patches with uniform noise and keep the first
  ``(1 - ratio) N``; the encoder sees only those. ``ids_restore`` puts the sequence back in order for the
  decoder.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["bert_mask", "random_patch_mask", "IGNORE"]

IGNORE = -100  # target value that cross-entropy ignores


def bert_mask(ids: Tensor, mask_id: int, vocab_size: int, ratio: float = 0.15, *, mask_frac: float = 0.8,
              random_frac: float = 0.1, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Corrupt ``ids (B, L)``; returns ``(inputs, targets)`` with ``targets = IGNORE`` where not chosen.

    Each position is chosen independently with probability ``ratio``; a chosen one becomes ``mask_id`` with
    probability ``mask_frac``, a uniformly random token (of ``vocab_size``) with ``random_frac``, else stays."""
    if not 0.0 < ratio <= 1.0 or mask_frac < 0 or random_frac < 0 or mask_frac + random_frac > 1.0:
        raise ValueError(f"need 0 < ratio <= 1 and mask_frac + random_frac <= 1; got ratio={ratio}, "
                         f"mask_frac={mask_frac}, random_frac={random_frac}")
    if ids.ndim != 2:
        raise ValueError(f"ids must be (B, L) token ids; got {tuple(ids.shape)}")
    u = torch.rand(ids.shape, generator=generator, device=ids.device)
    chosen = u < ratio
    action = torch.rand(ids.shape, generator=generator, device=ids.device)
    to_mask = chosen & (action < mask_frac)
    to_random = chosen & (action >= mask_frac) & (action < mask_frac + random_frac)
    inputs = ids.clone()
    inputs[to_mask] = mask_id
    rand = torch.randint(vocab_size, ids.shape, generator=generator, device=ids.device)
    inputs[to_random] = rand[to_random]
    targets = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    return inputs, targets


def random_patch_mask(batch: int, n: int, ratio: float, *, generator: torch.Generator | None = None,
                      device=None) -> tuple[Tensor, Tensor, Tensor]:
    """MAE's per-sample random masking. Returns ``ids_keep (B, n_keep)``, ``mask (B, n)`` (1 = masked,
    in the original order) and ``ids_restore (B, n)`` (the inverse permutation)."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"mask ratio must be in [0, 1), got {ratio}")
    keep = max(1, int(round(n * (1.0 - ratio))))
    noise = torch.rand(batch, n, generator=generator).to(device)
    ids_shuffle = noise.argsort(dim=1)
    ids_restore = ids_shuffle.argsort(dim=1)
    mask = torch.ones(batch, n, device=device)
    mask[:, :keep] = 0.0
    mask = mask.gather(1, ids_restore)
    return ids_shuffle[:, :keep], mask, ids_restore
