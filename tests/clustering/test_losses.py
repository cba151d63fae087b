from __future__ import annotations

import math

import pytest
import torch
from torch.autograd import gradcheck

from deepcourse.clustering import losses as L


def test_kmeans_loss_by_hand():
    z = torch.tensor([[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]])
    mu = torch.tensor([[0.0, 0.0], [10.0, 1.0]])
    # nearest squared distances: 0, min(25, 49 + 9 = 58) = 25, 1 -> mean 26 / 3
    assert L.kmeans_loss(z, mu).item() == pytest.approx(26 / 3)
    assert L.pairwise_sq_dists(z, mu).tolist() == [[0.0, 101.0], [25.0, 58.0], [100.0, 1.0]]


def test_soft_assignment_by_hand():
    z = torch.tensor([[0.0], [1.0]])
    mu = torch.tensor([[0.0], [2.0]])
    q = L.soft_assignment(z, mu, nu=1.0)
    # point 0: kernels 1 and 1/(1+4) = 0.2 -> q = (1/1.2, 0.2/1.2); point 1: both at distance 1 -> (0.5, 0.5)
    assert q[0].tolist() == pytest.approx([1 / 1.2, 0.2 / 1.2])
    assert q[1].tolist() == pytest.approx([0.5, 0.5])
    # nu = 3: kernel (1 + d^2/3)^-2
    k = torch.tensor([1.0, (1 + 4 / 3) ** -2])
    assert L.soft_assignment(z, mu, nu=3.0)[0].tolist() == pytest.approx((k / k.sum()).tolist())
    far = L.soft_assignment(torch.tensor([[1e6]]), torch.tensor([[0.0], [1.0]]))
    assert torch.isfinite(far).all() and far.sum().item() == pytest.approx(1.0)


def test_target_distribution_by_hand():
    q = torch.tensor([[0.8, 0.2], [0.4, 0.6]])
    f = q.sum(0)  # (1.2, 0.8)
    w = q ** 2 / f
    p = L.target_distribution(q)
    assert torch.allclose(p, w / w.sum(1, keepdim=True))
    assert p[0, 0].item() == pytest.approx((0.64 / 1.2) / (0.64 / 1.2 + 0.04 / 0.8))
    assert p[0, 0] > q[0, 0]  # sharper than q
    assert not p.requires_grad


def test_kl_by_hand():
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    q = torch.tensor([[0.5, 0.5], [0.25, 0.75]])
    expected = (math.log(2) + 0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75)) / 2
    assert L.kl_clustering_loss(p, q).item() == pytest.approx(expected)
    assert L.kl_clustering_loss(q, q).item() == pytest.approx(0.0, abs=1e-7)


def test_balance_and_zipf():
    q = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert L.balance_loss(q).item() == pytest.approx(0.0, abs=1e-7)
    q2 = torch.tensor([[0.9, 0.1], [0.9, 0.1]])
    assert L.balance_loss(q2).item() == pytest.approx(0.9 * math.log(1.8) + 0.1 * math.log(0.2))
    f = L.zipf_prior(3, 1.0)
    assert f.tolist() == pytest.approx([6 / 11, 3 / 11, 2 / 11])
    assert L.zipf_prior(4, 0.0).tolist() == pytest.approx([0.25] * 4)
    # the sizes ranked largest first are compared, so the cluster order does not matter
    qa = torch.tensor([[0.2, 0.8], [0.3, 0.7]])
    assert L.cluster_size_prior_loss(qa, L.zipf_prior(2)).item() == pytest.approx(
        L.cluster_size_prior_loss(qa.flip(1), L.zipf_prior(2)).item())
    assert L.cluster_size_prior_loss(q2, L.zipf_prior(2, 0.0)).item() == pytest.approx(L.balance_loss(q2).item())


def test_locality_by_hand():
    z = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    zn = torch.tensor([[[1.0, 0.0], [0.0, 2.0]], [[1.0, 1.0], [0.0, 0.0]]])  # (2, 2, 2)
    s = torch.tensor([[1.0, 0.5], [1.0, 0.25]])
    # point 0: 1*1 + 0.5*4 = 3; point 1: 0 + 0.25*2 = 0.5 -> mean 1.75
    assert L.locality_loss(z, zn, s).item() == pytest.approx(1.75)


def test_knn_graph():
    x = torch.tensor([[0.0], [1.0], [3.0], [10.0]])
    idx, sim = L.knn_graph(x, 1)
    assert idx[:, 0].tolist() == [1, 0, 1, 2]
    assert ((sim > 0) & (sim <= 1)).all()
    idx2, _ = L.knn_graph(x, 2, chunk=3)  # chunking does not change the answer
    assert idx2[0].tolist() == [1, 2] and idx2[3].tolist() == [2, 1]
    with pytest.raises(ValueError, match="k must be"):
        L.knn_graph(x, 4)


def test_self_augmentation_loss():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert L.self_augmentation_loss(a, 3 * a).item() == pytest.approx(-1.0)
    assert L.self_augmentation_loss(a, torch.tensor([[0.0, 1.0], [1.0, 0.0]])).item() == pytest.approx(0.0)


def test_idec_loss_is_reconstruction_plus_gamma_kl():
    """Guo et al. 2017: L = L_r + gamma L_c, L_r the per-feature MSE of the authors' Keras code (its 'mse'),
    L_c = KL(P || Q) per sample; = (1 + gamma) x the taxonomy's alpha form at alpha = gamma / (1 + gamma)."""
    g = torch.Generator().manual_seed(0)
    x, x_rec = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    q = torch.softmax(torch.randn(4, 5, generator=g), 1)
    p = L.target_distribution(q)
    kl = (p * (p / q).log()).sum(1).mean()
    mse = ((x - x_rec) ** 2).mean()
    assert L.idec_loss(p, q, x, x_rec).item() == pytest.approx((mse + 0.1 * kl).item(), rel=1e-6)
    assert L.idec_loss(p, q, x, x_rec, gamma=0.0).item() == pytest.approx(mse.item(), rel=1e-6)
    a = L.alpha_schedule("joint", 0, 1, alpha=0.1 / 1.1)
    assert L.idec_loss(p, q, x, x_rec).item() == pytest.approx(1.1 * (a * kl + (1 - a) * mse).item(), rel=1e-6)
    with pytest.raises(ValueError, match="gamma"):
        L.idec_loss(p, q, x, x_rec, gamma=-1.0)
    with pytest.raises(ValueError, match="same shape"):
        L.idec_loss(p, q, x, x_rec[:, :2])


def test_reconstruction_and_alpha():
    x = torch.zeros(2, 3)
    assert L.reconstruction_loss(x, torch.ones(2, 3)).item() == pytest.approx(3.0)
    assert L.alpha_schedule("pretrain-then-finetune", 4, 100, warmup=5) == 0.0
    assert L.alpha_schedule("pretrain-then-finetune", 5, 100, warmup=5) == 1.0
    assert L.alpha_schedule("joint", 77, 100, alpha=0.3) == 0.3
    assert L.alpha_schedule("ramp", 25, 100, alpha=0.8) == pytest.approx(0.2)
    assert L.alpha_schedule("ramp", 500, 100, alpha=0.8, warmup=10) == pytest.approx(0.8)


def test_gradcheck_float64():
    torch.manual_seed(0)
    z = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    mu = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda a, b: L.soft_assignment(a, b, nu=2.0), (z, mu))
    p = L.target_distribution(L.soft_assignment(z, mu)).detach()
    assert gradcheck(lambda a, b: L.kl_clustering_loss(p, L.soft_assignment(a, b)), (z, mu))
    assert gradcheck(lambda a, b: L.balance_loss(L.soft_assignment(a, b)), (z, mu))
    prior = L.zipf_prior(4).double()
    assert gradcheck(lambda a, b: L.cluster_size_prior_loss(L.soft_assignment(a, b), prior), (z, mu))
    zn = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    s = torch.rand(5, 2, dtype=torch.float64)
    assert gradcheck(lambda a, b: L.locality_loss(a, b, s), (z, zn))
    w = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    assert gradcheck(L.self_augmentation_loss, (z, w))
    assert gradcheck(L.reconstruction_loss, (z, w))
    assert gradcheck(L.kmeans_loss, (z, mu))  # piecewise smooth: fine away from ties


def test_bad_input():
    with pytest.raises(ValueError, match="nu"):
        L.soft_assignment(torch.zeros(2, 2), torch.zeros(3, 2), nu=0)
    with pytest.raises(ValueError, match="same d"):
        L.kmeans_loss(torch.zeros(2, 2), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="same shape"):
        L.kl_clustering_loss(torch.ones(2, 2), torch.ones(3, 2))
    with pytest.raises(ValueError, match="schedule"):
        L.alpha_schedule("cosine", 0, 10)
    with pytest.raises(ValueError, match="alpha"):
        L.alpha_schedule("joint", 0, 10, alpha=2.0)
    with pytest.raises(ValueError, match="prior"):
        L.cluster_size_prior_loss(torch.ones(2, 3) / 3, L.zipf_prior(2))
    with pytest.raises(ValueError, match="k must"):
        L.zipf_prior(0)
    with pytest.raises(TypeError):
        L.target_distribution([[0.5, 0.5]])
