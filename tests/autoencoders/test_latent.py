from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from deepcourse.autoencoders.latent import (
    interpolate,
    interpolation_strip,
    latent_scatter,
    latent_snapshots,
    pca_2d,
    quantile_grid,
    reconstruction_grid,
)
from deepcourse.autoencoders.networks import DenseDecoder, DenseEncoder


def test_latent_scatter_2d_and_pca_labels():
    z2 = torch.randn(50, 2)
    fig = latent_scatter(z2, torch.randint(0, 3, (50,)), title="t")
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_xlabel() == "z1"
    fig = latent_scatter(torch.randn(50, 5))
    assert "PC1" in fig.axes[0].get_xlabel() and "5-D" in fig.axes[0].get_xlabel()
    assert "PC2" in fig.axes[0].get_ylabel()
    with pytest.raises(ValueError, match="labels"):
        latent_scatter(z2, torch.zeros(3))


def test_pca_2d_matches_sklearn():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    z = rng.normal(size=(100, 6)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])
    p, ratio = pca_2d(z)
    ref = PCA(2).fit(z)
    q = ref.transform(z)
    # same components up to sign
    assert np.allclose(np.abs(p), np.abs(q), atol=1e-8)
    assert np.allclose(ratio, ref.explained_variance_ratio_, atol=1e-8)


class _Spy(torch.nn.Module):
    """Decoder that records its inputs: images whose mean is z1."""

    in_features = 3

    def __init__(self):
        super().__init__()
        self.seen = None

    def forward(self, z):
        self.seen = z.clone()
        return z[:, :1, None].expand(-1, 4, 4).sigmoid()


def test_quantile_grid_queries_normal_quantiles():
    from scipy.stats import norm

    dec = _Spy()
    fig = quantile_grid(dec, n=5, lo=0.05, hi=0.95, image_shape=(4, 4))
    assert isinstance(fig, Figure)
    z = dec.seen
    assert z.shape == (25, 3)
    expect = norm.ppf(np.linspace(0.05, 0.95, 5))
    assert np.allclose(z[:5, 0].numpy(), expect, atol=1e-5)  # z1 along the first row
    assert np.allclose(z[::5, 1].numpy(), expect[::-1], atol=1e-5)  # z2 top (high) to bottom
    assert (z[:, 2] == 0).all()  # extra dims at the prior mean
    with pytest.raises(ValueError, match="lo"):
        quantile_grid(dec, lo=0.0)


def test_interpolate_endpoints_decode_codes():
    torch.manual_seed(0)
    enc = DenseEncoder(16, (8,), 2)
    dec = DenseDecoder(2, (8,), (4, 4))
    xa, xb = torch.rand(3, 16), torch.rand(3, 16)
    path = interpolate(enc, dec, xa, xb, steps=6)
    assert path.shape == (3, 6, 4, 4)
    with torch.no_grad():
        assert torch.allclose(path[:, 0], dec(enc(xa)), atol=1e-6)
        assert torch.allclose(path[:, -1], dec(enc(xb)), atol=1e-6)
    slerp = interpolate(enc, dec, xa, xb, steps=6, mode="slerp")
    assert torch.allclose(slerp[:, 0], path[:, 0], atol=1e-5)
    assert torch.allclose(slerp[:, -1], path[:, -1], atol=1e-5)
    # a linear decoder makes the linear path exactly linear in pixel space
    lin = torch.nn.Linear(2, 16)
    path = interpolate(lambda x: x[:, :2], lin, xa, xb, steps=5)
    assert torch.allclose(path[:, 2], (path[:, 0] + path[:, 4]) / 2, atol=1e-6)
    with pytest.raises(ValueError, match="steps"):
        interpolate(enc, dec, xa, xb, steps=1)
    with pytest.raises(ValueError, match="mode"):
        interpolate(enc, dec, xa, xb, mode="cubic")


def test_interpolation_strip_and_vae_style_encoder():
    dec = DenseDecoder(2, (8,), (1, 8, 8), output="identity")
    enc_base = DenseEncoder(64, (8,), 4)

    def enc(x):
        h = enc_base(x)
        return h[:, :2], h[:, 2:]  # (mu, logvar)

    fig = interpolation_strip(enc, dec, torch.rand(2, 64), torch.rand(2, 64), steps=4, apply_sigmoid=True)
    assert isinstance(fig, Figure)


def test_latent_snapshots_and_reconstruction_grid():
    snaps = [(e, torch.randn(30, 4), torch.randint(0, 10, (30,))) for e in (0, 5, 10)]
    fig = latent_snapshots(snaps, title="dyn")
    assert len([a for a in fig.axes]) == 3
    with pytest.raises(ValueError, match="snapshots"):
        latent_snapshots([])
    x = torch.rand(12, 64)
    fig = reconstruction_grid(x, x.flip(0), n=8)
    assert isinstance(fig, Figure)
    fig = reconstruction_grid(x, [x, x], n=4, row_labels=("clean", "noisy", "restored"))
    with pytest.raises(ValueError, match="image_shape"):
        reconstruction_grid(torch.rand(3, 10), torch.rand(3, 10))
