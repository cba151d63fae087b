"""Magnitude pruning: masks persist through training, global vs layer-wise amounts (checked against
torch.nn.utils.prune), structured channel pruning removes whole channels, gradual schedules, CSR layers."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.nn.utils import prune as tprune

from deepcourse.core import TensorLoader, fit
from deepcourse.optimization.pruning import (GradualPruning, MaskCallback, SparseLinear, channel_prune, layer_sparsity,
                                             magnitude_prune, polynomial_sparsity, pruned_channels, shrink_sequential,
                                             sparsity)
from deepcourse.cnn import ConvNet
from deepcourse.foundations import MLP


def _mlp(seed=0):
    torch.manual_seed(seed)
    return MLP(20, (32, 16), 5)


def _cnn():
    """Conv-BN-ReLU-pool blocks of 8 and 16 channels on 8x8 inputs, one hidden layer of 32."""
    return ConvNet(num_classes=10, in_channels=1, image_size=8, widths=(8, 16), convs_per_block=1, batch_norm=True,
                   hidden=32, hidden_layers=1)


def _train(model, callbacks, steps=15, wd=0.1):
    torch.manual_seed(1)
    x, y = torch.randn(128, 20), torch.randint(0, 5, (128,))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=wd)
    fit(lambda b: {"loss": nn.functional.cross_entropy(model(b[0]), b[1])}, TensorLoader(x, y, batch_size=32),
        max_steps=steps, model=model, optimizer=opt, callbacks=callbacks)


def test_masks_persist_through_training():
    model = _mlp()
    masks = magnitude_prune(model, 0.7, scope="layer")
    before = {k: p.detach().clone() for k, p in model.named_parameters()}
    _train(model, [MaskCallback(model, masks)])
    params = dict(model.named_parameters())
    for k, m in masks.items():
        assert torch.all(params[k][m == 0] == 0), k  # pruned stay exactly zero
        assert not torch.equal(params[k][m == 1], before[k][m == 1])  # survivors trained
    assert sparsity(model) == pytest.approx(0.7, abs=0.01)


def test_without_the_callback_pruned_weights_come_back():
    model = _mlp()
    magnitude_prune(model, 0.7)
    _train(model, [])
    assert sparsity(model) < 0.05


def test_layerwise_matches_torch_l1_unstructured():
    model, ref = _mlp(), _mlp()
    masks = magnitude_prune(model, 0.6, scope="layer")
    for name, mod in ref.named_modules():
        if isinstance(mod, nn.Linear):
            tprune.l1_unstructured(mod, "weight", amount=0.6)
            assert torch.equal(masks[f"{name}.weight"], mod.weight_mask)
    for v in layer_sparsity(model, masks).values():
        assert v == pytest.approx(0.6, abs=0.01)


def test_global_matches_torch_and_differs_per_layer():
    model, ref = _mlp(), _mlp()
    # make the first layer's weights small so global pruning takes more of them
    with torch.no_grad():
        model.net[0].weight.mul_(0.3)
        ref.net[0].weight.mul_(0.3)
    masks = magnitude_prune(model, 0.8, scope="global")
    mods = [(n, m) for n, m in ref.named_modules() if isinstance(m, nn.Linear)]
    tprune.global_unstructured([(m, "weight") for _, m in mods], pruning_method=tprune.L1Unstructured, amount=0.8)
    for n, m in mods:
        assert torch.equal(masks[f"{n}.weight"], m.weight_mask)
    assert sparsity(model, masks) == pytest.approx(0.8, abs=1e-3)
    per_layer = layer_sparsity(model, masks)
    assert per_layer["net.0.weight"] > 0.9 and min(per_layer.values()) < 0.8


def test_iterative_pruning_prunes_survivors():
    model = _mlp()
    m1 = magnitude_prune(model, 0.5)
    m2 = magnitude_prune(model, 0.5, masks=m1)
    assert sparsity(model, m2) == pytest.approx(0.75, abs=0.01)
    assert all(torch.all(m2[k] <= m1[k]) for k in m1)  # nothing regrows


def test_structured_pruning_removes_whole_channels():
    torch.manual_seed(0)
    model = _cnn().eval()
    with torch.no_grad():  # non-trivial BatchNorm statistics: a removed channel must still output 0
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.bias.uniform_(-1, 1)
    conv0 = model[0].weight.detach().clone()
    masks = channel_prune(model, 0.5)
    assert "10.weight" not in masks  # the classifier keeps its outputs
    for k, idx in pruned_channels(masks).items():
        m = masks[k]
        rows = m.flatten(1)
        assert torch.all((rows.sum(1) == 0) | (rows.sum(1) == rows.shape[1])), k  # all or nothing per channel
        assert len(idx) == round(0.5 * m.shape[0])
    # Li et al.: the filters with the smallest L1 norm go
    l1 = conv0.flatten(1).abs().sum(1)
    assert set(pruned_channels(masks)["0.weight"]) == set(torch.argsort(l1)[:4].tolist())
    assert torch.all(model[1].weight[masks["1.weight"] == 0] == 0)  # the BatchNorm channel too
    small = shrink_sequential(model, masks).eval()
    x = torch.randn(16, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(small(x), model(x), atol=1e-5, rtol=1e-4)
    assert small[0].out_channels == 4 and small[4].out_channels == 8
    assert sum(p.numel() for p in small.parameters()) < 0.4 * sum(p.numel() for p in model.parameters())


def test_shrink_mlp_same_function():
    """foundations.MLP keeps its layers in one Sequential child (``net``): that child is shrunk."""
    model = _mlp().eval()
    masks = channel_prune(model, 0.25)
    assert set(masks) >= {"net.0.weight", "net.0.bias", "net.2.weight"}
    small = shrink_sequential(model, masks)
    x = torch.randn(8, 20)
    torch.testing.assert_close(small(x), model(x))
    assert isinstance(small, MLP) and small.net[0].out_features == 24 and small.net[2].in_features == 24
    assert model.net[0].out_features == 32  # a copy


def test_polynomial_schedule_and_gradual_pruning():
    assert polynomial_sparsity(0, 0.9, begin=10, end=110) == 0.0
    assert polynomial_sparsity(110, 0.9, begin=10, end=110) == pytest.approx(0.9)
    vals = [polynomial_sparsity(t, 0.9, begin=10, end=110) for t in range(0, 130, 10)]
    assert vals == sorted(vals)
    assert vals[2] - vals[1] > vals[-3] - vals[-4]  # fast first, slow at the end (cubic)
    model = _mlp()
    cb = GradualPruning(model, 0.8, begin=2, end=12, every=2, scope="global")
    _train(model, [cb], steps=20)
    assert sparsity(model) == pytest.approx(0.8, abs=0.01)
    assert [s for _, s in cb.history] == sorted(s for _, s in cb.history)


def test_sparse_linear_matches_dense():
    torch.manual_seed(0)
    lin = nn.Linear(64, 32)
    magnitude_prune(lin, 0.9)
    x = torch.randn(5, 64)
    torch.testing.assert_close(SparseLinear(lin)(x), lin(x), atol=1e-5, rtol=1e-5)


def test_bad_arguments_are_clear():
    model = _mlp()
    with pytest.raises(ValueError, match="amount"):
        magnitude_prune(model, 1.5)
    with pytest.raises(ValueError, match="scope"):
        magnitude_prune(model, 0.5, scope="row")
    with pytest.raises(ValueError, match="not prunable"):
        channel_prune(model, 0.5, names=["nope.weight"])
    with pytest.raises(TypeError, match="Sequential"):
        shrink_sequential(copy.deepcopy(nn.Linear(2, 2)), {})
