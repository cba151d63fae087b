from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck

from deepcourse.foundations import losses as L
from deepcourse.foundations.ssim import gaussian_window, ssim, ssim_loss, ssim_map


def rnd(*shape, seed=0, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).requires_grad_()


# ------------------------------------------------------------------------------ regression
def test_regression_losses_known_values():
    p, t = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.0, 0.0, 1.0])  # residuals 0, 2, 3
    assert L.mse_loss(p, t).item() == pytest.approx(13 / 3)
    assert L.mae_loss(p, t).item() == pytest.approx(5 / 3)
    assert L.l2_loss(p[None], t[None]).item() == pytest.approx(13.0)  # ||r||_2^2 per sample
    assert L.l1_loss(p[None], t[None]).item() == pytest.approx(5.0)
    # Huber, delta = 2.5: 0, 0.5*2^2 = 2, 2.5*(3 - 1.25) = 4.375
    assert L.huber_loss(p, t, 2.5, "none").tolist() == pytest.approx([0.0, 2.0, 4.375])
    assert L.smooth_l1_loss(p, t, 1.0, "none").tolist() == pytest.approx([0.0, 1.5, 2.5])
    assert L.charbonnier_loss(p, t, eps=1.0, reduction="none").tolist() == pytest.approx(
        [1.0, math.sqrt(5), math.sqrt(10)])


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_matches_torch_delta_and_smooth_l1_relation(delta):
    p, t = rnd(40), rnd(40, seed=1)
    torch.testing.assert_close(L.huber_loss(p, t, delta), F.huber_loss(p, t, delta=delta))
    torch.testing.assert_close(L.smooth_l1_loss(p, t, delta), F.smooth_l1_loss(p, t, beta=delta))
    torch.testing.assert_close(L.smooth_l1_loss(p, t, delta) * delta, L.huber_loss(p, t, delta))
    # threshold on the ordinate: quadratic where the L1 value |r| <= delta, linear with slope delta beyond
    r = (p - t).detach().abs()
    (g,) = torch.autograd.grad(L.huber_loss(p, t, delta, "sum"), p)
    big = r > delta
    torch.testing.assert_close(g[big].abs(), torch.full_like(g[big], delta))


def test_regression_losses_match_torch():
    p, t = rnd(3, 5), rnd(3, 5, seed=1)
    torch.testing.assert_close(L.mse_loss(p, t), F.mse_loss(p, t))
    torch.testing.assert_close(L.mae_loss(p, t), F.l1_loss(p, t))
    torch.testing.assert_close(L.l2_loss(p, t), F.mse_loss(p, t, reduction="sum") / 3)


@pytest.mark.parametrize("fn", [L.mse_loss, L.l2_loss, L.l1_loss, L.mae_loss, L.huber_loss, L.smooth_l1_loss,
                                L.charbonnier_loss, L.cosine_distance])
def test_regression_gradcheck(fn):
    p, t = rnd(4, 6), rnd(4, 6, seed=1)
    assert gradcheck(lambda a: fn(a, t.detach()), (p,), eps=1e-6, atol=1e-5)


# -------------------------------------------------------------------------- classification
def test_zero_one():
    s = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert L.zero_one_loss(s, torch.tensor([1, 1, 1])).item() == pytest.approx(1 / 3)
    assert L.zero_one_loss(s, torch.tensor([1, 0, 1]), reduction="sum").item() == 0.0


def test_bce_from_probs_and_logits():
    z, y = rnd(10), torch.randint(0, 2, (10,), generator=torch.Generator().manual_seed(0)).double()
    p = torch.sigmoid(z)
    torch.testing.assert_close(L.binary_cross_entropy(p, y), F.binary_cross_entropy(p, y))
    torch.testing.assert_close(L.binary_cross_entropy_with_logits(z, y), F.binary_cross_entropy_with_logits(z, y))
    torch.testing.assert_close(L.binary_cross_entropy_with_logits(z, y), L.binary_cross_entropy(p, y))
    assert L.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([1.0])).item() == pytest.approx(math.log(2))
    assert gradcheck(lambda a: L.binary_cross_entropy_with_logits(a, y), (z,))
    assert gradcheck(lambda a: L.binary_cross_entropy(torch.sigmoid(a), y), (z,))


def test_bce_with_huge_logits_is_exact():
    z = torch.tensor([1e4, -1e4, 1e4, -1e4, 800.0], requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0])
    loss = L.binary_cross_entropy_with_logits(z, y, reduction="none")
    torch.testing.assert_close(loss, torch.tensor([0.0, 0.0, 1e4, 1e4, 800.0]))
    loss.sum().backward()
    torch.testing.assert_close(z.grad, torch.tensor([0.0, 0.0, 1.0, -1.0, 1.0]))
    # the probability form stays finite thanks to clamping (but is no longer exact)
    assert torch.isfinite(L.binary_cross_entropy(torch.sigmoid(z.detach()), y)).all()


def test_categorical_ce_from_probs_and_logits():
    z = rnd(6, 4)
    y = torch.tensor([0, 3, 1, 1, 2, 0])
    torch.testing.assert_close(L.cross_entropy_with_logits(z, y), F.cross_entropy(z, y))
    torch.testing.assert_close(L.cross_entropy(torch.softmax(z, 1), y), F.cross_entropy(z, y))
    soft = torch.softmax(rnd(6, 4, seed=3), 1).detach()  # probability targets
    torch.testing.assert_close(L.cross_entropy_with_logits(z, soft), F.cross_entropy(z, soft))
    assert gradcheck(lambda a: L.cross_entropy_with_logits(a, y), (z,))
    assert gradcheck(lambda a: L.cross_entropy(torch.softmax(a, 1), soft), (z,))
    # uniform prediction over C classes costs log C
    assert L.cross_entropy(torch.full((1, 4), 0.25), torch.tensor([2])).item() == pytest.approx(math.log(4))


def test_categorical_ce_with_huge_logits():
    z = torch.tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], requires_grad=True)
    y = torch.tensor([0, 0])
    loss = L.cross_entropy_with_logits(z, y, reduction="none")
    torch.testing.assert_close(loss, torch.tensor([0.0, 2e4]))
    loss.sum().backward()
    assert torch.isfinite(z.grad).all()


def test_hinge_losses():
    s = torch.tensor([2.0, 0.5, -0.3])
    y = torch.tensor([1.0, 1.0, -1.0])
    assert L.hinge_loss(s, y, reduction="none").tolist() == pytest.approx([0.0, 0.5, 0.7])
    sc, yc = rnd(5, 4), torch.tensor([0, 1, 2, 3, 0])
    torch.testing.assert_close(L.multiclass_hinge_loss(sc, yc), F.multi_margin_loss(sc, yc) * 4)
    assert gradcheck(lambda a: L.hinge_loss(a, torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)),
                     (rnd(4, seed=5),))


def test_cosine_distance():
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    b = torch.tensor([[3.0, 0.0], [-1.0, -1.0], [1.0, 0.0]])
    assert L.cosine_distance(a, b, reduction="none").tolist() == pytest.approx([0.0, 2.0, 1.0])
    p, t = rnd(3, 5), rnd(3, 5, seed=1)
    torch.testing.assert_close(L.cosine_distance(p, t), 1 - F.cosine_similarity(p, t).mean())


# ------------------------------------------------------------------------------------- KL
def test_kl_notes_example():
    # notes (module 3, "KLD example"): P = Binomial(N=2, p=0.4), Q uniform on {0, 1, 2}
    p = torch.tensor([9 / 25, 12 / 25, 4 / 25], dtype=torch.float64)
    q = torch.full((3,), 1 / 3, dtype=torch.float64)
    assert L.kl_divergence(p, q).item() == pytest.approx(0.085, abs=5e-4)
    assert L.kl_divergence(q, p).item() == pytest.approx(0.097, abs=5e-4)
    assert L.kl_divergence(p, q).item() == pytest.approx(0.0852996, abs=1e-6)
    # KL = cross-entropy - entropy (notes: H(A, B) = KL(A||B) + H(A))
    torch.testing.assert_close(L.kl_divergence(p, q), L.cross_entropy(q, p) - L.entropy(p))
    torch.testing.assert_close(L.kl_divergence(p, q), F.kl_div(q.log(), p, reduction="sum"))
    assert L.kl_divergence(p, p).item() == 0.0


def test_kl_zero_mass_and_gradcheck():
    p = torch.tensor([0.0, 0.5, 0.5], dtype=torch.float64)
    q = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    assert L.kl_divergence(p, q).item() == pytest.approx(0.5 * math.log(0.5 / 0.3))
    logits = rnd(2, 4)
    target = torch.softmax(rnd(2, 4, seed=2), -1).detach()
    assert gradcheck(lambda a: L.kl_divergence(target, torch.softmax(a, -1)), (logits,))


# ------------------------------------------------------------------------------------ SSIM
def direct_ssim_at(x, y, i, j, size=11, sigma=1.5, c1=1e-4, c2=9e-4):
    """SSIM of the window whose top-left corner is (i, j), by explicit weighted sums."""
    r = np.arange(size) - (size - 1) / 2
    g = np.exp(-(r ** 2) / (2 * sigma ** 2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    px, py = x[i:i + size, j:j + size], y[i:i + size, j:j + size]
    mx, my = (w * px).sum(), (w * py).sum()
    vx, vy = (w * (px - mx) ** 2).sum(), (w * (py - my) ** 2).sum()
    cxy = (w * (px - mx) * (py - my)).sum()
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))


def test_ssim_identical_is_one_and_matches_direct_computation():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 24, 20, generator=g, dtype=torch.float64)
    assert ssim(x, x).item() == pytest.approx(1.0, abs=1e-12)
    y = (x + 0.1 * torch.randn(x.shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    m = ssim_map(x, y)
    assert m.shape == (2, 3, 14, 10)
    xn, yn = x.numpy(), y.numpy()
    for (n, c, i, j) in [(0, 0, 0, 0), (1, 2, 13, 9), (0, 1, 5, 7)]:
        assert m[n, c, i, j].item() == pytest.approx(direct_ssim_at(xn[n, c], yn[n, c], i, j), abs=1e-10)
    s = ssim(x, y).item()
    assert 0 < s < 1
    assert ssim(x, y, reduction="none").shape == (2,)
    assert ssim_loss(x, x).item() == pytest.approx(0.0, abs=1e-12)


def test_ssim_window_and_gradcheck():
    w = gaussian_window(11, 1.5)
    assert w.shape == (11, 11) and w.sum().item() == pytest.approx(1.0)
    assert w[5, 5] == w.max()
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64, requires_grad=True)
    y = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    assert gradcheck(lambda a: ssim(a, y, window_size=5), (x,))


# ------------------------------------------------------------------------------ bad input
def test_bad_input_raises():
    with pytest.raises(ValueError, match="same shape.*\\(3,\\).*\\(4,\\)"):
        L.mse_loss(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="reduction"):
        L.mse_loss(torch.zeros(3), torch.zeros(3), reduction="avg")
    with pytest.raises(ValueError, match="delta"):
        L.huber_loss(torch.zeros(3), torch.zeros(3), delta=0)
    with pytest.raises(ValueError, match="prob must lie in"):
        L.binary_cross_entropy(torch.tensor([2.0]), torch.tensor([1.0]))
    with pytest.raises(ValueError, match="class indices must be in \\[0, 3\\)"):
        L.cross_entropy_with_logits(torch.zeros(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="does not match"):
        L.cross_entropy_with_logits(torch.zeros(2, 3), torch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integers"):
        L.zero_one_loss(torch.zeros(2, 3), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="-1 or \\+1"):
        L.hinge_loss(torch.zeros(2), torch.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match="torch.Tensor"):
        L.mse_loss([1.0], torch.zeros(1))
    with pytest.raises(ValueError, match="smaller than"):
        ssim(torch.rand(5, 5), torch.rand(5, 5))
    with pytest.raises(ValueError, match="same shape"):
        ssim(torch.rand(12, 12), torch.rand(12, 13))
