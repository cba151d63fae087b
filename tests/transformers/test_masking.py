"""BERT's 15 % / 80-10-10 corruption, MAE's random patch masks, and the masked autoencoder's loss."""

from __future__ import annotations

import pytest
import torch

from deepcourse.transformers import IGNORE, MAEClassifier, MaskedAutoencoder, bert_mask, random_patch_mask
from deepcourse.transformers.vit import patchify


def test_bert_mask_proportions():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 50, (200, 500), generator=g)
    inputs, targets = bert_mask(ids, mask_id=50, vocab_size=50, generator=g)
    chosen = targets != IGNORE
    assert chosen.float().mean().item() == pytest.approx(0.15, abs=0.005)
    assert torch.equal(targets[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])
    masked = (inputs == 50) & chosen
    kept = (inputs == ids) & chosen
    changed = chosen & ~masked & ~kept
    n = chosen.sum().item()
    assert masked.sum().item() / n == pytest.approx(0.8, abs=0.01)
    # a random replacement equals the original 1 time in 50, so "kept" is 10 % + 10 % / 50
    assert kept.sum().item() / n == pytest.approx(0.1 + 0.1 / 50, abs=0.01)
    assert changed.sum().item() / n == pytest.approx(0.1 - 0.1 / 50, abs=0.01)
    with pytest.raises(ValueError, match="ratio"):
        bert_mask(ids, 50, 50, ratio=0.0)


def test_random_patch_mask():
    keep, mask, restore = random_patch_mask(4, 16, 0.75, generator=torch.Generator().manual_seed(0))
    assert keep.shape == (4, 4) and mask.shape == (4, 16)
    assert (mask.sum(1) == 12).all()
    for b in range(4):
        assert (mask[b, keep[b]] == 0).all()
    assert not torch.equal(keep[0], keep[1])  # per-sample masks


def test_mae_loss_is_on_masked_patches_only():
    torch.manual_seed(0)
    mae = MaskedAutoencoder(8, 4, 1, dim=16, depth=1, heads=2, hidden=32, dec_dim=8, dec_heads=2, mask_ratio=0.5)
    x = torch.rand(3, 1, 8, 8)
    loss, pred, mask = mae(x, generator=torch.Generator().manual_seed(1))
    want = (((pred - patchify(x, 4)) ** 2).mean(-1) * mask).sum() / mask.sum()
    torch.testing.assert_close(loss, want)
    # the prediction of a visible patch does not enter the loss: its gradient is zero
    pred.retain_grad()
    loss.backward()
    assert (pred.grad[mask == 0] == 0).all() and (pred.grad[mask == 1] != 0).any()
    masked, recon = mae.reconstruct(x, pred, mask)
    vis = patchify(recon, 4)[mask == 0]
    torch.testing.assert_close(vis, patchify(x, 4)[mask == 0])


def test_mae_zero_mask_token_and_classifier():
    mae = MaskedAutoencoder(8, 4, 1, dim=16, depth=1, heads=2, hidden=32, dec_dim=8, dec_heads=2,
                            mask_token="zeros")
    assert mae.mask_token is None
    assert mae(torch.rand(2, 1, 8, 8))[0].isfinite()
    clf = MAEClassifier(mae, 3)
    assert clf(torch.rand(2, 1, 8, 8)).shape == (2, 3)
    assert clf.blocks is mae.blocks  # shares the encoder
    with pytest.raises(ValueError, match="mask_token"):
        MaskedAutoencoder(mask_token="noise")
