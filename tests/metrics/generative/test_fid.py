"""FID / KID / classifier score (deepcourse.metrics.generative.fid) on the digits feature network."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from scipy import linalg

from deepcourse.metrics.generative import domain_features, load_domain_data
from deepcourse.metrics.generative import fid as F


@pytest.fixture(scope="module")
def net():
    return domain_features("digits")  # trained once (a few seconds), then read from the cache


@pytest.fixture(scope="module")
def digits():
    x, _ = load_domain_data("digits", "train")
    xt, _ = load_domain_data("digits", "test")
    allx = torch.cat([x, xt])
    order = torch.randperm(len(allx), generator=torch.Generator().manual_seed(0))
    return allx[order]


def direct_fid(a: np.ndarray, b: np.ndarray) -> float:
    """FID written out with numpy/scipy only, as a reference."""
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = linalg.sqrtm(s1 @ s2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


def test_frechet_closed_form_1d_and_diag():
    # N(0, 1) vs N(1, 4): (0 - 1)^2 + 1 + 4 - 2 * sqrt(1 * 4) = 2
    assert F.frechet_distance([0.0], [[1.0]], [1.0], [[4.0]]) == pytest.approx(2.0, abs=1e-9)
    # diagonal covariances: sum_i (sqrt(a_i) - sqrt(b_i))^2 + |mu1 - mu2|^2
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    want = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert F.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(want, rel=1e-9)
    assert F.frechet_distance(mu1, np.diag(a), mu1, np.diag(a)) == pytest.approx(0.0, abs=1e-9)


def test_frechet_matches_direct_scipy_on_random_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6)) + 0.5
    assert F.fid_from_features(a, b) == pytest.approx(direct_fid(a, b), rel=1e-8)


def nuclear_fid(a: np.ndarray, b: np.ndarray) -> float:
    """FID from the samples alone: the non-zero eigenvalues of S_a S_b equal the squared singular values of
    A_c B_c^T / sqrt((n-1)(m-1)) (centred samples), so Tr (S_a S_b)^{1/2} is that matrix's nuclear norm.
    It works in sample space (n x m) and shares no step with the covariance-space computation."""
    ac, bc = a - a.mean(0), b - b.mean(0)
    tr_root = np.linalg.svd(ac @ bc.T / np.sqrt((len(a) - 1) * (len(b) - 1)), compute_uv=False).sum()
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + (ac ** 2).sum() / (len(a) - 1)
                 + (bc ** 2).sum() / (len(b) - 1) - 2 * tr_root)


@pytest.mark.parametrize("n,d,scale", [(10, 128, 1000.0), (100, 512, 50.0), (20, 256, 100.0), (50, 64, 1.0)])
def test_frechet_singular_covariances_scaled_features(n, d, scale):
    # n <= d: both covariances are singular. With scaled ReLU-like features scipy's sqrtm of the product
    # leaves imaginary diagonal parts of 3.6e-3 (n=100, d=512, x50) and 2.9e-2 (n=10, d=128, x1000); the
    # old fixed 1e-3 tolerance raised on both although the distance is well defined.
    rng = np.random.default_rng(n + d)
    a = np.maximum(rng.normal(size=(n, d)), 0) * scale
    b = np.maximum(rng.normal(size=(n, d)) + 0.3, 0) * scale
    got = F.fid_from_features(a, b)
    assert got == pytest.approx(nuclear_fid(a, b), rel=1e-7)
    assert F.fid_from_features(a, a) == pytest.approx(0.0, abs=1e-9 * np.trace(np.cov(a, rowvar=False)))


def test_trace_sqrt_product_is_real_and_matches_sqrtm_when_well_conditioned():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    s1, s2 = x @ x.T + np.eye(8), y @ y.T + np.eye(8)
    assert F.trace_sqrt_product(s1, s2) == pytest.approx(np.trace(linalg.sqrtm(s1 @ s2)).real, rel=1e-10)
    assert F.trace_sqrt_product(np.zeros((3, 3)), np.eye(3)) == 0.0


def test_frechet_rejects_bad_shapes():
    with pytest.raises(ValueError, match="mu1 and mu2"):
        F.frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="sigma1 and sigma2"):
        F.frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="non-finite"):
        F.frechet_distance(np.zeros(2), np.eye(2) * np.nan, np.zeros(2), np.eye(2))


def test_fid_two_halves_tiny_noise_huge(net, digits):
    half = len(digits) // 2
    a, b = digits[:half], digits[half:2 * half]
    noise = torch.rand(a.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    same, far = F.fid(a, b, net), F.fid(a, noise, net)
    assert same < 5.0, same
    assert far > 100.0, far
    assert far > 50 * same


def test_fid_agrees_with_direct_computation(net, digits):
    a, b = digits[:600], digits[600:900].flip(3)  # mirrored digits: a genuinely different distribution
    fa, fb = F.extract_features(a, net), F.extract_features(b, net)
    with np.errstate(all="ignore"):
        want = direct_fid(fa, fb)
    got = F.fid(a, b, net)
    assert got == pytest.approx(want, rel=1e-6)
    assert F.fid(F.feature_stats(a, net), b, net) == pytest.approx(got, rel=1e-12)  # precomputed real stats


def test_mmd2_unbiased_hand_cases():
    lin = lambda x, y: x @ y.T  # noqa: E731
    # Kxx off-diagonal: 2*(1*2)/2 = 2; Kyy: 0; Kxy mean: (0 + 1 + 0 + 2)/4 = 0.75 -> 2 + 0 - 1.5
    assert F.mmd2_unbiased(np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]]), lin) == pytest.approx(0.5)
    # cubic kernel (x y / 1 + 1)^3: Kxx off-diag (1+1)^3 = 8; Kyy = 1; Kxy = 1 -> 8 + 1 - 2
    assert F.mmd2_unbiased(np.array([[1.0], [1.0]]), np.array([[0.0], [0.0]])) == pytest.approx(7.0)
    assert F.mmd2_unbiased(np.array([[1.0], [0.0]]), np.array([[0.0], [0.0]])) == pytest.approx(0.0)
    assert F.polynomial_kernel(np.array([[1.0, 1.0]]), np.array([[2.0, 0.0]]))[0, 0] == pytest.approx(8.0)
    with pytest.raises(ValueError, match="at least 2"):
        F.mmd2_unbiased(np.ones((1, 2)), np.ones((3, 2)))


def test_mmd2_estimator_is_unbiased():
    rng = np.random.default_rng(0)
    est, biased = [], []
    for _ in range(3000):
        x, y = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
        est.append(F.mmd2_unbiased(x, y))
        k = F.polynomial_kernel
        biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
    se = np.std(est) / np.sqrt(len(est))
    assert abs(np.mean(est)) < 4 * se  # same distribution: expectation 0
    assert np.mean(biased) > 10 * se  # the V-statistic that keeps the diagonal is biased upward


def test_kid_on_digits(net, digits):
    a, b = digits[:400], digits[400:800]
    noise = torch.rand(a.shape, generator=torch.Generator().manual_seed(1)) * 2 - 1
    m_same, s_same = F.kid(a, b, net, subsets=4, subset_size=200)
    m_far, _ = F.kid(a, noise, net, subsets=4, subset_size=200)
    assert abs(m_same) < 3 * s_same + 1e-3 * m_far
    assert m_far > 100 * max(abs(m_same), 1e-9)
    # subsets as large as the sets: every subset is the whole set, so std 0 and the plain estimate
    m_all, s_all = F.kid(a[:50], b[:60], net, subsets=3, subset_size=1000)
    assert s_all == pytest.approx(0.0, abs=1e-9)
    assert m_all == pytest.approx(F.mmd2_unbiased(F.extract_features(a[:50], net), F.extract_features(b[:60], net)))


def test_classifier_score(net, digits):
    real = F.classifier_score(digits[:800], net)
    assert 8.0 < real <= 10.0
    one = digits[:1].expand(200, -1, -1, -1).contiguous()  # a single image repeated: no diversity
    assert F.classifier_score(one, net) == pytest.approx(1.0, abs=1e-6)
    assert F.classifier_score(digits[:800], net, splits=4) <= 10.0



def test_classifier_score_from_probabilities(net, digits):
    p = net.probs(digits[:300])
    assert F.classifier_score(p) == pytest.approx(F.classifier_score(digits[:300], net), rel=1e-12)
    with pytest.raises(ValueError, match="probabilities"):
        F.classifier_score(torch.ones(5, 3))


def test_bad_inputs_are_named(net):
    with pytest.raises(ValueError, match=r"fake must have shape \(N, 1, 8, 8\)"):
        F.fid(torch.zeros(10, 1, 8, 8), torch.zeros(10, 1, 28, 28), net)
    with pytest.raises(TypeError, match="float"):
        F.fid(torch.zeros(10, 1, 8, 8), torch.zeros(10, 1, 8, 8, dtype=torch.uint8), net)
    with pytest.raises(TypeError, match="FeatureNet"):
        F.fid(torch.zeros(10, 1, 8, 8), torch.zeros(10, 1, 8, 8), torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="subsets"):
        F.kid(torch.zeros(10, 1, 8, 8), torch.zeros(10, 1, 8, 8), net, subsets=0)
