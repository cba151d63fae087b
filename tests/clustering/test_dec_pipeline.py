"""The DEC pipeline (src/deepcourse/clustering/dec_pipeline.py): data, SDAE pretraining, seeding."""

from __future__ import annotations

import pytest
import torch

from deepcourse.clustering import DECConfig, load_points, normalise_points, pretrain_sdae
from deepcourse.core import Run


def test_load_points_digits_flat_in_unit_range():
    x, y, shape = load_points("digits")
    assert x.shape == (1797, 64) and y.shape == (1797,) and shape == (8, 8)
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.dtype == torch.float32
    xs, ys, _ = load_points("digits", subset=300)
    assert len(xs) == 300 and torch.bincount(ys).min() >= 25  # stratified: every class present
    assert torch.equal(xs, load_points("digits", subset=300)[0])  # fixed, whatever the seed


def test_normalise_points_to_unit_mean_square():
    """Xie et al. 2016, Sec. 4.1: (1/d)||x_i||^2 about 1, by one factor for the whole set."""
    x, _, _ = load_points("digits")
    xn, c = normalise_points(x)
    assert float((xn.double() ** 2).mean()) == pytest.approx(1.0, rel=1e-6)
    assert torch.allclose(xn, c * x) and c > 1
    with pytest.raises(ValueError, match="0"):
        normalise_points(torch.zeros(3, 4))


def test_bad_dataset_name():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_points("cifar")


def test_pretrain_sdae_is_seeded_by_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    x, _, _ = load_points("digits", subset=200)
    cfg = DECConfig(dataset="digits", hidden=(16,), embed=3, pretrain_epochs=1, finetune_epochs=1, ae_batch=50)

    def codes(seed: int, sub: str) -> torch.Tensor:
        run = Run(tmp_path / sub, seed=seed, progress=False)
        return pretrain_sdae(cfg, x, run).encode(x[:5]).detach()

    assert torch.equal(codes(0, "a"), codes(0, "b"))
    assert not torch.equal(codes(0, "c"), codes(1, "d"))


def test_rescale_embedding_scales_codes_and_keeps_the_reconstruction():
    from deepcourse.autoencoders import StackedDenoisingAE
    from deepcourse.clustering import rescale_embedding

    torch.manual_seed(0)
    model = StackedDenoisingAE((12, 9, 7, 3)).eval()
    x = torch.rand(20, 12)
    z, r = model.encode(x).detach(), model(x).detach()
    rescale_embedding(model, 3.0)
    assert torch.allclose(model.encode(x), 3.0 * z, atol=1e-5)
    assert torch.allclose(model(x), r, atol=1e-5)
    assert not torch.allclose(model.encode(x), z)
    with pytest.raises(ValueError, match="> 0"):
        rescale_embedding(model, 0.0)
