from __future__ import annotations

import torch

from deepcourse.autoencoders import dense_vae, draw_samples


def test_draw_samples_is_seeded_batched_and_restores_the_mode():
    torch.manual_seed(0)
    model = dense_vae((1, 4, 4), (8,), 2)
    a = draw_samples(model, 25, torch.Generator().manual_seed(3), batch_size=10)
    b = draw_samples(model, 25, torch.Generator().manual_seed(3), batch_size=10)
    c = draw_samples(model, 25, torch.Generator().manual_seed(4), batch_size=10)
    assert a.shape == (25, 1, 4, 4) and torch.equal(a, b) and not torch.equal(a, c) and model.training
    assert 0 <= a.min() and a.max() <= 1
