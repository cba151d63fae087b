from __future__ import annotations

import pytest
import torch
from torch import nn

from deepcourse.clustering import ClusteringLayer, Regularisers, fit_dec, kmeans_init, most_confident
from deepcourse.metrics import cluster_acc


def blobs(n_per=60, k=3, d=6, sep=4.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = sep * torch.randn(k, d, generator=g)
    x = (centres[:, None, :] + torch.randn(k, n_per, d, generator=g)).reshape(-1, d)  # (k*n, d)
    y = torch.arange(k).repeat_interleave(n_per)
    return x, y


def small_encoder(d=6, e=2, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, e))


def test_kmeans_init_and_clustering_layer():
    x, y = blobs()
    c, lab = kmeans_init(x, 3, n_init=5)
    assert c.shape == (3, 6) and cluster_acc(y, lab) == 1.0
    q = ClusteringLayer(c)(x)
    assert q.shape == (180, 3) and torch.allclose(q.sum(1), torch.ones(180))
    assert cluster_acc(y, q.argmax(1)) == 1.0
    with pytest.raises(ValueError, match="n_clusters"):
        kmeans_init(x, 0)


def test_dec_learns_and_records_history():
    x, y = blobs(sep=1.5, seed=1)  # overlapping blobs: DEC has something to do
    enc = small_encoder()
    w0 = enc[0].weight.detach().clone()
    res = fit_dec(enc, x, 3, y=y, lr=0.05, batch_size=32, update_interval=10, max_iter=150, n_init=5, tol=0.0,
                  snapshot_every=2, snapshot_size=50)
    assert res.iterations == 150 and not res.converged
    assert [h["iteration"] for h in res.history] == [float(i) for i in range(0, 151, 10)]
    assert {"acc", "nmi", "changed", "loss"} <= set(res.history[-1])
    assert res.history[0]["changed"] == 1.0
    assert not torch.equal(w0, enc[0].weight)  # the encoder moved
    assert res.q.shape == (180, 3) and res.z.shape == (180, 2) and res.y_pred.shape == (180,)
    assert res.snapshots[0][0] == 0 and res.snapshots[-1][0] == 150 and res.snapshots[0][1].shape == (50, 2)


def test_dec_without_backprop_only_moves_centroids():
    x, y = blobs(sep=2.0)
    enc = small_encoder()
    before = [p.detach().clone() for p in enc.parameters()]
    c0, _ = kmeans_init(enc(x).detach(), 3, n_init=3)
    res = fit_dec(enc, x, 3, centroids=c0, train_encoder=False, lr=0.1, update_interval=5, max_iter=50, tol=0.0)
    assert all(torch.equal(a, b) for a, b in zip(before, enc.parameters()))
    assert not torch.allclose(res.centroids, c0)
    with torch.no_grad():
        assert torch.allclose(res.z, enc(x), atol=1e-6)


def test_dec_stops_on_tolerance():
    x, y = blobs(sep=8.0)
    res = fit_dec(small_encoder(), x, 3, y=y, update_interval=5, max_iter=10_000, tol=0.05, n_init=3)
    assert res.converged and res.iterations < 10_000 and res.history[-1]["changed"] < 0.05


def test_dec_is_seeded():
    x, _ = blobs(sep=2.0)
    r1 = fit_dec(small_encoder(), x, 3, update_interval=5, max_iter=30, n_init=3, seed=3)
    r2 = fit_dec(small_encoder(), x, 3, update_interval=5, max_iter=30, n_init=3, seed=3)
    assert torch.equal(r1.y_pred, r2.y_pred) and torch.allclose(r1.q, r2.q)


@pytest.mark.parametrize("regs", [
    Regularisers(reconstruction=True, schedule="ramp", alpha=0.5),
    Regularisers(reconstruction=True, schedule="pretrain-then-finetune", warmup=10),
    Regularisers(reconstruction=True, gamma=0.1),
    Regularisers(balance=1.0), Regularisers(zipf=1.0, zipf_s=1.0), Regularisers(locality=0.1, locality_k=3),
    Regularisers(self_augmentation=0.1, image_shape=(2, 3)),
])
def test_dec_with_regularisers_runs(regs):
    x, y = blobs()
    enc = small_encoder()
    dec = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 6))
    res = fit_dec(enc, x, 3, y=y, decoder=dec, regularisers=regs, update_interval=10, max_iter=30, n_init=3, tol=0.0)
    assert res.iterations == 30 and torch.isfinite(res.q).all()


def test_idec_keeps_the_decoder_reconstructing():
    """IDEC (L_r + 0.1 L_c, Adam) moves the encoder but keeps the decoder's reconstruction close to where it
    started; the taxonomy's alpha = 1 (KL only) leaves the decoder behind."""
    x, y = blobs()
    torch.manual_seed(0)
    enc, dec = small_encoder(), nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 6))
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-2)
    for _ in range(300):  # a quick autoencoder as the start
        opt.zero_grad()
        ((dec(enc(x)) - x) ** 2).mean().backward()
        opt.step()
    start = float(((dec(enc(x)) - x) ** 2).mean().detach())
    errs = {}
    import copy
    for name, regs in (("idec", Regularisers(reconstruction=True, gamma=0.1)),
                       ("kl only", Regularisers(reconstruction=True, schedule="joint", alpha=1.0))):
        e, d = copy.deepcopy(enc), copy.deepcopy(dec)
        res = fit_dec(e, x, 3, y=y, decoder=d, regularisers=regs, optimizer="adam", lr=1e-2, update_interval=10,
                      max_iter=200, tol=0.0, n_init=3)
        errs[name] = float(((d(e(x)) - x) ** 2).mean().detach())
        assert cluster_acc(y, res.y_pred) > 0.9
    assert errs["idec"] < 1.5 * start < errs["kl only"]


def test_balance_regulariser_evens_sizes():
    """Two blobs of 150 and 30 points clustered into 2: the balance prior pushes the sizes together."""
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(150, 2, generator=g), torch.randn(30, 2, generator=g) + 2.0])
    sizes = {}
    for w in (0.0, 5.0):
        res = fit_dec(nn.Identity(), x, 2, lr=0.1, update_interval=10, max_iter=200, tol=0.0, n_init=3,
                      regularisers=Regularisers(balance=w))
        sizes[w] = torch.bincount(res.y_pred, minlength=2).float()
    imbalance = {w: (s.max() - s.min()).item() for w, s in sizes.items()}
    assert imbalance[5.0] < imbalance[0.0]


def test_most_confident():
    q = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.95, 0.05]])
    idx = most_confident(q, 2)
    assert idx.tolist() == [[3, 0], [2, -1]]


def test_bad_input():
    x, _ = blobs()
    with pytest.raises(ValueError, match="tol"):
        fit_dec(small_encoder(), x, 3, tol=5.0)
    with pytest.raises(ValueError, match="batch_size"):
        fit_dec(small_encoder(), x, 3, batch_size=0)
    with pytest.raises(ValueError, match="decoder"):
        fit_dec(small_encoder(), x, 3, regularisers=Regularisers(reconstruction=True))
    with pytest.raises(ValueError, match="image_shape"):
        fit_dec(small_encoder(), x, 3, regularisers=Regularisers(self_augmentation=1.0))
    with pytest.raises(ValueError, match="optimizer"):
        fit_dec(small_encoder(), x, 3, optimizer="rmsprop")
    with pytest.raises(ValueError, match="gamma"):
        fit_dec(small_encoder(), x, 3, regularisers=Regularisers(reconstruction=True, gamma=-0.1))
    with pytest.raises(ValueError, match="centroids"):
        fit_dec(small_encoder(), x, 3, centroids=torch.zeros(2, 2))
