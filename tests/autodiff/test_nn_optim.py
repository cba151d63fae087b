"""The neural kit, losses, delta rule, optimisers (vs torch.optim) and Hopfield networks."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deepcourse.autodiff as ad
from deepcourse.autodiff import nn, optim
from deepcourse.autodiff.hopfield import Hopfield, flip_bits, overlap

RNG = np.random.default_rng(3)


# ---- losses ------------------------------------------------------------------------------------
LOSSES = {
    "mse": (nn.mse_loss, F.mse_loss, "reg"),
    "l1": (nn.l1_loss, F.l1_loss, "reg"),
    "huber": (lambda p, t: nn.huber_loss(p, t, 0.7), lambda p, t: F.huber_loss(p, t, delta=0.7), "reg"),
    "smooth_l1": (lambda p, t: nn.smooth_l1_loss(p, t, 0.7), lambda p, t: F.smooth_l1_loss(p, t, beta=0.7), "reg"),
    "bce": (nn.bce_loss, lambda p, t: F.binary_cross_entropy(p, t), "prob"),
    "bce_logits": (nn.bce_with_logits, F.binary_cross_entropy_with_logits, "reg01"),
    "cross_entropy": (nn.cross_entropy, F.cross_entropy, "cls"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_match_torch(name):
    ours, theirs, kind = LOSSES[name]
    if kind == "cls":
        p, t = RNG.normal(size=(6, 4)) * 2, RNG.integers(0, 4, size=6)
        tt = torch.tensor(t)
    else:
        p = RNG.uniform(0.05, 0.95, size=(5, 3)) if kind == "prob" else RNG.normal(size=(5, 3)) * 2
        t = RNG.integers(0, 2, size=(5, 3)).astype(float) if kind in ("prob", "reg01") else RNG.normal(size=(5, 3))
        tt = torch.tensor(t)
    x = ad.Tensor(p, requires_grad=True)
    loss = ours(x, t)
    tx = torch.tensor(p, requires_grad=True)
    tloss = theirs(tx, tt)
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-10)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_zero_one_loss_and_errors():
    assert nn.zero_one_loss(np.array([[0.1, 0.9], [0.8, 0.2]]), [1, 1]) == 0.5
    with pytest.raises(ValueError, match="shape"):
        nn.mse_loss(ad.Tensor(np.ones(3)), np.ones(4))
    with pytest.raises(ValueError, match="activation"):
        nn.Dense(3, 2, activation="swish")


def test_dense_and_units_match_torch():
    layer = nn.Dense(4, 3, activation="tanh", rng=np.random.default_rng(0))
    x = RNG.normal(size=(5, 4))
    out = layer(x)
    ref = torch.tanh(torch.tensor(x) @ torch.tensor(layer.W.data) + torch.tensor(layer.b.data))
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-12)
    assert len(layer.parameters()) == 2
    rbf = nn.RadialUnit(4, width=0.5, gaussian=False)
    np.testing.assert_allclose(rbf(x).data, np.linalg.norm(x - rbf.w.data, axis=1), rtol=1e-9)
    unit = nn.LinearUnit(4, activation="sigmoid")
    np.testing.assert_allclose(unit(x).data, 1 / (1 + np.exp(-(x @ unit.w.data))), rtol=1e-12)
    mlp = nn.MLP([4, 8, 8, 2])
    assert len(mlp.parameters()) == 6 and mlp(x).shape == (5, 2)


@pytest.mark.parametrize("activation", ["identity", "sigmoid", "tanh"])
def test_delta_rule_is_gradient_descent_on_quadratic_loss(activation):
    x = np.c_[np.ones(8), RNG.normal(size=(8, 3))]  # x_0 = 1 carries the bias
    t, w, lr = RNG.normal(size=8), RNG.normal(size=4), 0.05
    w_new, _ = nn.delta_rule_step(w, x, t, lr, activation)
    act = nn.ACTIVATIONS[activation]
    g = ad.grad(lambda w_: nn.l2_loss(act(ad.Tensor(x) @ w_), t))(w)
    np.testing.assert_allclose(w_new, w - lr * g / 2, rtol=1e-12)  # the notes fold the 2 into eta


# ---- optimisers vs torch.optim -------------------------------------------------------------------
PAIRS = {
    "gd": (lambda p: optim.GD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd": (lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_wd": (lambda p: optim.SGD(p, lr=0.1, weight_decay=0.01), lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01)),
    "momentum": (lambda p: optim.Momentum(p, lr=0.1, momentum=0.9),
                 lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    "nesterov": (lambda p: optim.Nesterov(p, lr=0.1, momentum=0.9),
                 lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "rprop": (lambda p: optim.Rprop(p, lr=0.05), lambda p: torch.optim.Rprop(p, lr=0.05)),
    "rmsprop": (lambda p: optim.RMSProp(p, lr=0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
    "adam": (lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_optimizer_steps_match_torch(name):
    make_ours, make_theirs = PAIRS[name]
    w0 = RNG.normal(size=(3, 2))
    ours = nn.Parameter(w0.copy())
    theirs = torch.nn.Parameter(torch.tensor(w0.copy()))
    o, t = make_ours([ours]), make_theirs([theirs])
    for _ in range(4):  # the same gradients in, including sign flips for Rprop
        g = RNG.normal(size=w0.shape)
        ours.grad, theirs.grad = g.copy(), torch.tensor(g.copy())
        o.step()
        t.step()
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_rprop_backtracking_follows_its_definition():
    # 1-D: step 0.1; gradients +1, +1, -1, -1 (the minimum was overshot at step 2)
    for backtracking, expected in ((True, [0.9, 0.78, 0.9, 0.96]), (False, [0.9, 0.78, 0.78, 0.84])):
        w = nn.Parameter(np.array([1.0]))
        o = optim.Rprop([w], lr=0.1, backtracking=backtracking)
        got = []
        for g in (1.0, 1.0, -1.0, -1.0):
            w.grad = np.array([g])
            o.step()
            got.append(w.data[0])
        np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_every_optimizer_descends_a_quadratic(name):
    A = np.diag([1.0, 10.0])
    w = nn.Parameter(np.array([1.0, 1.0]))
    lr = {"gd": 0.05, "sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adam": 0.05}.get(name, 0.02)
    o = optim.OPTIMIZERS[name]([w], lr=lr)
    loss0 = 0.5 * w.data @ A @ w.data
    for _ in range(100):
        w.grad = A @ w.data
        o.step()
    assert 0.5 * w.data @ A @ w.data < 0.05 * loss0


# ---- Hopfield ----------------------------------------------------------------------------------
def test_hopfield_weights_symmetric_zero_diagonal():
    net = Hopfield(20).store(RNG.choice([-1, 1], size=(3, 20)))
    np.testing.assert_array_equal(net.W, net.W.T)
    assert np.all(np.diag(net.W) == 0)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        net.store(np.zeros((1, 20)))


@pytest.mark.parametrize("seed", range(5))
def test_hopfield_energy_never_increases_async(seed):
    rng = np.random.default_rng(seed)
    n = 40
    net = Hopfield(n).store(rng.choice([-1, 1], size=(rng.integers(1, 12), n)))
    _, energies = net.update_async(rng.choice([-1, 1], size=n), rng, sweeps=10, trace=True)
    assert np.all(np.diff(energies) <= 1e-12)


def test_hopfield_restores_noisy_patterns_and_sync_can_oscillate():
    rng = np.random.default_rng(0)
    xi = rng.choice([-1, 1], size=(3, 100))
    net = Hopfield(100).store(xi)
    for p in xi:
        noisy = flip_bits(p, 0.2, rng)
        assert overlap(net.recall(noisy, rng), p)[0] == 1.0
    assert np.all(overlap(net.recall_batch(flip_bits(xi, 0.2, rng)), xi) == 1.0)
    two = Hopfield(2)
    two.W = np.array([[0.0, -1.0], [-1.0, 0.0]])  # anti-ferromagnetic pair
    s = np.array([1.0, 1.0])
    np.testing.assert_array_equal(two.update_sync(two.update_sync(s)), s)  # period-2 cycle
    np.testing.assert_array_equal(two.update_sync(s), -s)
