"""Every set model of src/deepcourse/pointcloud: permutation invariance (classifiers, completion networks) or
equivariance (segmentation), shapes, bad input, and the PointNet mechanisms: T-Nets start at the identity, learn
to undo a rotation, critical points alone give the same global feature."""

from __future__ import annotations

import math

import pytest
import torch

from deepcourse.pointcloud import (DGCNN, DGCNNSeg, POOLINGS, PointNet, PointNet2, PointNet2Seg, PointNetSeg,
                                   SetClassifier, TNet, lexicographic_sort)
from deepcourse.pointcloud.augment import rotation_matrix_z
from deepcourse.pointcloud.folding import PCN, FoldingNet, grid_2d
from deepcourse.pointcloud.pointr import PoinTr, completion_loss

SMALL_LEVELS = ((16, ((0.5, 8, (64, 64)),)), (4, ((0.9, 8, (64, 128)),)))
CLASSIFIERS = {
    "pointnet": lambda: PointNet(5, width=0.125),
    "pointnet-vanilla": lambda: PointNet(5, width=0.125, tnets=False),
    "pointnet2": lambda: PointNet2(5, width=0.125, levels=SMALL_LEVELS),
    "pointnet2-msg": lambda: PointNet2(5, width=0.125, msg=True, radius_scale=2.0,
                                       levels=((16, ((0.3, 4, (32,)), (0.6, 8, (32,)))),)),
    "dgcnn": lambda: DGCNN(5, width=0.125, k=6),
    **{f"set-{p}": (lambda p=p: SetClassifier(p, 5, num_points=48, width=0.125)) for p in POOLINGS
       if p not in ("mlp-unsorted", "lstm")},
}
SEGMENTERS = {
    "pointnet-seg": lambda: PointNetSeg(6, width=0.125, num_classes=3),
    "pointnet2-seg": lambda: PointNet2Seg(6, width=0.125, levels=SMALL_LEVELS, num_classes=3),
    "dgcnn-seg": lambda: DGCNNSeg(6, width=0.125, k=6, num_classes=3),
}
COMPLETERS = {
    "pointr": lambda: PoinTr(proxies=8, queries=6, per_query=4, dim=32, depth=(1, 1), heads=4, k=4),
    "foldingnet": lambda: FoldingNet(24, width=0.125),
    "pcn": lambda: PCN(coarse=6, per_coarse=4, width=0.125),
}


def _cloud(b=3, n=48, seed=0):
    return torch.randn(b, n, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classifier_is_permutation_invariant(name):
    torch.manual_seed(0)
    model = CLASSIFIERS[name]().double().eval()
    x = _cloud()
    perm = torch.randperm(x.shape[1])
    out = model(x)
    assert out.shape == (3, 5)
    torch.testing.assert_close(model(x[:, perm]), out, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("pool", ["mlp-unsorted", "lstm"])
def test_order_dependent_baselines_are_not_invariant(pool):
    """The two baselines of the notes' table that read the points in order (they learn invariance from data)."""
    torch.manual_seed(0)
    model = SetClassifier(pool, 5, num_points=48, width=0.125).double().eval()
    x = _cloud()
    assert not torch.allclose(model(x[:, torch.randperm(48)]), model(x))
    if pool == "mlp-unsorted":
        with pytest.raises(ValueError, match=r"\(B, 48, 3\)"):
            model(_cloud(n=40))


@pytest.mark.parametrize("name", sorted(SEGMENTERS))
def test_segmenter_is_permutation_equivariant(name):
    torch.manual_seed(0)
    model = SEGMENTERS[name]().double().eval()
    x, cls = _cloud(), torch.tensor([0, 2, 1])
    perm = torch.randperm(x.shape[1])
    out = model(x, cls)
    assert out.shape == (3, 48, 6)
    torch.testing.assert_close(model(x[:, perm], cls), out[:, perm], rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="cls"):
        model(x)


@pytest.mark.parametrize("name", sorted(COMPLETERS))
def test_completion_is_permutation_invariant_and_trains(name):
    torch.manual_seed(0)
    model = COMPLETERS[name]().double().eval()
    x = _cloud(2, 32)
    perm = torch.randperm(32)
    a, b = model(x), model(x[:, perm])
    n_in = 32 if name == "pointr" else 0  # PoinTr appends the (permuted) input itself
    torch.testing.assert_close(b["points"][:, :b["points"].shape[1] - n_in], a["points"][:, :a["points"].shape[1] - n_in])
    assert a["points"].shape == (2, 24 + n_in, 3)
    model.train()
    loss = completion_loss(model(x), _cloud(2, 40, seed=1))
    loss.backward()
    assert torch.isfinite(loss) and all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_models_reject_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        PointNet(5, width=0.125)(torch.randn(2, 10, 2))
    with pytest.raises(ValueError, match=r"\(B, N, D\)"):
        DGCNN(5, width=0.125)(torch.randn(10, 3))


def test_tnet_starts_as_identity_and_learns_to_undo_rotations():
    torch.manual_seed(0)
    base = torch.tensor([[1.0, 0, 0], [0.5, 0.2, 0], [0, 0.6, 0.1], [-0.4, -0.3, 0.5], [0.2, -0.8, -0.3]])
    base = torch.cat([base, 0.3 * torch.randn(27, 3)])  # an asymmetric cloud
    tnet = TNet(3, width=0.25)
    tnet.eval()
    assert torch.allclose(tnet(base.unsqueeze(0)), torch.eye(3).unsqueeze(0), atol=1e-6)
    tnet.train()
    opt = torch.optim.Adam(tnet.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(1)

    def batch(n=32):
        r = rotation_matrix_z(torch.rand(n, generator=g) * 2 * math.pi)
        return base.expand(n, -1, -1) @ r

    err0 = ((batch() - base) ** 2).mean().item()
    for _ in range(300):
        x = batch()
        loss = ((x @ tnet(x) - base) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    tnet.eval()
    x = batch(64)
    assert ((x @ tnet(x) - base) ** 2).mean().item() < 0.15 * err0  # aligned back to the canonical pose


def test_critical_points_alone_give_the_same_global_feature():
    torch.manual_seed(0)
    model = PointNet(5, width=0.125).double().eval()
    for tnet in (model.encoder.input_tnet, model.encoder.feature_tnet):  # as after training: not the identity
        torch.nn.init.normal_(tnet.fc[-1].weight, std=0.1)
    x = _cloud(1, 64)
    mask = model.critical_points(x)[0]
    assert 0 < mask.sum() < 64
    g_full = model.encoder(x)[0]
    g_crit = model.encoder(x[:, mask])[0]
    torch.testing.assert_close(g_crit, g_full)


def test_lexicographic_sort_and_grid():
    x = torch.tensor([[[1.0, 2, 0], [0, 5, 1], [1, 1, 3], [0, 5, 0]]])
    assert lexicographic_sort(x)[0].tolist() == [[0, 5, 0], [0, 5, 1], [1, 1, 3], [1, 2, 0]]
    assert grid_2d(12).shape == (12, 2) and grid_2d(7).shape == (7, 2)
