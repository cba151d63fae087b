"""src/deepcourse/pointcloud/losses.py: Chamfer (values and gradients against the dense formula, chunked memory),
F-score, Sinkhorn EMD against the exact assignment, the T-Net regulariser."""

from __future__ import annotations

import pytest
import torch

from deepcourse.pointcloud import chamfer_distance, f_score, sinkhorn_emd, transform_regulariser
from tests.helpers import assert_matches_reference


def dense_terms(p, g):
    d = torch.cdist(p, g) ** 2
    return d.min(2).values, d.min(1).values


def dense_l2(p, g):
    d1, d2 = dense_terms(p, g)
    return d1.mean(1) + d2.mean(1)


def dense_l1(p, g):
    d1, d2 = dense_terms(p, g)
    return (d1.sqrt().mean(1) + d2.sqrt().mean(1)) / 2


@pytest.mark.parametrize("kind,ref", [("l2", dense_l2), ("l1", dense_l1)])
def test_chamfer_matches_dense_with_gradients(kind, ref):
    p, g = torch.randn(3, 40, 3, dtype=torch.float64), torch.randn(3, 33, 3, dtype=torch.float64)
    assert_matches_reference(lambda p, g: chamfer_distance(p, g, kind, reduction="none", chunk=8), ref, [p, g],
                             rtol=1e-8, atol=1e-10)


def test_chamfer_of_identical_clouds_is_zero_with_finite_gradient():
    p = torch.randn(1, 50, 3, requires_grad=True)
    cd = chamfer_distance(p, p.detach().clone(), "l1")
    cd.backward()
    assert cd.item() < 1e-5 and torch.isfinite(p.grad).all()


@pytest.mark.slow
def test_chamfer_chunks_keep_memory_bounded():
    """16k x 16k in float32 would be 1 GiB per distance matrix; the chunked version runs forward and backward."""
    p = torch.rand(1, 16384, 3, requires_grad=True)
    g = torch.rand(1, 16384, 3)
    chamfer_distance(p, g, "l2", chunk=1024).backward()
    assert p.grad.shape == p.shape


def test_chamfer_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        chamfer_distance(torch.randn(1, 5, 3), torch.randn(1, 5, 2))
    with pytest.raises(ValueError, match="batch size"):
        chamfer_distance(torch.randn(2, 5, 3), torch.randn(1, 5, 3))


def test_f_score():
    g = torch.rand(1, 100, 3)
    assert f_score(g, g).item() == 1.0
    assert f_score(g + 1.0, g).item() == 0.0
    half = torch.cat([g[:, :50], g[:, 50:] + 1.0], 1)  # precision 1/2, recall 1/2
    assert abs(f_score(half, g, 0.01).item() - 0.5) < 1e-6


def test_sinkhorn_emd_approaches_the_exact_assignment():
    from scipy.optimize import linear_sum_assignment

    p, g = torch.rand(1, 30, 3, dtype=torch.float64), torch.rand(1, 30, 3, dtype=torch.float64)
    c = torch.cdist(p, g)[0].numpy()
    r, col = linear_sum_assignment(c)
    exact = c[r, col].mean()
    approx = sinkhorn_emd(p, g, eps=0.002, iters=500).item()
    assert abs(approx - exact) < 0.03 * exact  # entropic blur and unconverged marginals: within 3 %


def test_transform_regulariser():
    q, _ = torch.linalg.qr(torch.randn(4, 5, 5))
    assert transform_regulariser(q).item() < 1e-10
    assert abs(transform_regulariser(2 * torch.eye(3).expand(2, 3, 3)).item() - 27.0) < 1e-9  # (1-4)^2 * 3
    with pytest.raises(ValueError, match=r"\(B, K, K\)"):
        transform_regulariser(torch.randn(3, 2))
