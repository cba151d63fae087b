r"""Sample-quality formulas on the features of a domain classifier.

FID (Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to a local Nash
equilibrium", eq. 6) fits one Gaussian to the features of the real images and one to those of the
generated images and reports the Fréchet (2-Wasserstein) distance between them:

.. math::  d^2 = \lVert \mu_r - \mu_g \rVert_2^2 + \operatorname{Tr}\bigl(\Sigma_r + \Sigma_g
           - 2 (\Sigma_r \Sigma_g)^{1/2}\bigr).

KID (Binkowski et al. 2018, "Demystifying MMD GANs", sec. 3) is the squared maximum mean discrepancy
with the cubic polynomial kernel :math:`k(x, y) = (x^\top y / d + 1)^3`, estimated without bias on
random subsets; unlike FID its estimator has no bias that depends on the sample size.

The classifier score is the inception score of Salimans et al. 2016 ("Improved techniques for training
GANs", sec. 4), :math:`\exp(\mathbb{E}_x \mathrm{KL}(p(y\mid x) \,\Vert\, p(y)))`, with our domain
classifier in place of Inception: high when each sample is classified confidently and the classes are
used evenly.

The feature network (a :class:`~.features.FeatureNet`) comes from :func:`~.feature_cache.domain_features`;
report ``net.fingerprint`` with every value. Images are float tensors in [-1, 1], ``(N, C, H, W)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .features import FeatureNet

__all__ = [
    "extract_features",
    "feature_stats",
    "frechet_distance",
    "trace_sqrt_product",
    "fid",
    "fid_from_features",
    "kid",
    "polynomial_kernel",
    "mmd2_unbiased",
    "classifier_score",
]


# ------------------------------------------------------------------------------------------------ metrics

def _check_net(net: Any) -> FeatureNet:
    if not isinstance(net, FeatureNet):
        raise TypeError(f"net must be a FeatureNet (from domain_features), got {type(net).__name__}")
    return net


def extract_features(images: torch.Tensor, net: FeatureNet, batch_size: int = 500, name: str = "images") -> np.ndarray:
    """Features of ``images`` as a float64 numpy array (N, D), computed in eval mode."""
    from deepcourse.core import eval_mode, predict

    _check_net(net).check_images(images, name)
    if len(images) == 0:
        raise ValueError(f"{name} is empty")
    with eval_mode(net):  # BatchNorm on its running statistics
        feats = predict(net.features, images.detach(), batch_size, device=next(net.parameters()).device)
    return feats.double().numpy()  # (N, D)


def feature_stats(images: torch.Tensor, net: FeatureNet, name: str = "images") -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of the features: precompute once for the real set and pass the
    pair to :func:`fid` in place of the real images when tracking FID over training."""
    f = extract_features(images, net, name=name)
    if len(f) < 2:
        raise ValueError(f"{name}: need at least 2 images for a covariance, got {len(f)}")
    return f.mean(0), np.cov(f, rowvar=False)


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix; round-off negative eigenvalues are clipped to 0."""
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    r""":math:`\mathrm{Tr}\,(\Sigma_1\Sigma_2)^{1/2}` for symmetric PSD matrices, in the eigenvalue form.

    :math:`\Sigma_1\Sigma_2` is similar to the symmetric PSD matrix :math:`M = \Sigma_1^{1/2}\Sigma_2
    \Sigma_1^{1/2}` (conjugate by :math:`\Sigma_1^{1/2}`), so both have the same non-negative eigenvalues
    and :math:`\mathrm{Tr}(\Sigma_1\Sigma_2)^{1/2} = \sum_i \sqrt{\lambda_i(M)}`. Only symmetric
    eigendecompositions are used, so the result is real even when both covariances are singular (fewer
    samples than features), where a general ``sqrtm`` of the non-symmetric product returns imaginary
    parts whose size grows with the scale of the features.
    """
    r1 = _psd_sqrt(sigma1)
    lam = np.linalg.eigvalsh(r1 @ sigma2 @ r1)
    return float(np.sqrt(np.clip(lam, 0.0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    r"""Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017, eq. 6).

    :math:`\lVert\mu_1-\mu_2\rVert^2 + \mathrm{Tr}(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2})`,
    with the trace of the root from :func:`trace_sqrt_product` (eigenvalue form, always real). The
    reference code's ``scipy.linalg.sqrtm`` of the product agrees on well-conditioned covariances; on
    singular ones (n <= d) it leaves imaginary parts that its fixed 1e-3 tolerance rejects once the
    features are scaled up, although the distance is well defined.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or mu1.ndim != 1:
        raise ValueError(f"mu1 and mu2 must be vectors of the same length, got {mu1.shape} and {mu2.shape}")
    d = mu1.shape[0]
    if s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"sigma1 and sigma2 must be ({d}, {d}), got {s1.shape} and {s2.shape}")
    for name, s in (("sigma1", s1), ("sigma2", s2), ("mu1", mu1), ("mu2", mu2)):
        if not np.isfinite(s).all():
            raise ValueError(f"{name} has non-finite entries")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt_product(s1, s2)
    return float(max(value, 0.0))  # round-off can push identical distributions a hair below zero


def fid_from_features(f_real: np.ndarray, f_fake: np.ndarray) -> float:
    """FID between two feature matrices (N, D) and (M, D)."""
    for name, f in (("f_real", f_real), ("f_fake", f_fake)):
        if f.ndim != 2 or len(f) < 2:
            raise ValueError(f"{name} must be (N >= 2, D), got {f.shape}")
    return frechet_distance(f_real.mean(0), np.cov(f_real, rowvar=False), f_fake.mean(0), np.cov(f_fake, rowvar=False))


def fid(real: torch.Tensor | tuple[np.ndarray, np.ndarray], fake: torch.Tensor, net: FeatureNet) -> float:
    """Fréchet Inception Distance with ``net`` as the feature network (report ``net.fingerprint`` with it).

    ``real``: images (N, C, H, W) in [-1, 1], or ``feature_stats(real, net)`` precomputed.
    ``fake``: images of the same shape. FID is biased upward for small N (Binkowski et al. 2018):
    compare values only at equal sample sizes.
    """
    _check_net(net)
    if isinstance(real, tuple):
        mu1, s1 = real
    else:
        mu1, s1 = feature_stats(real, net, "real")
    mu2, s2 = feature_stats(fake, net, "fake")
    return frechet_distance(mu1, s1, mu2, s2)


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None,
                      coef0: float = 1.0) -> np.ndarray:
    r""":math:`k(x, y) = (\gamma\, x^\top y + c_0)^{degree}` with :math:`\gamma = 1/d` by default
    (the KID kernel of Binkowski et al. 2018)."""
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (gamma * x @ y.T + coef0) ** degree


def mmd2_unbiased(fx: np.ndarray, fy: np.ndarray, kernel=polynomial_kernel) -> float:
    r"""Unbiased estimate of :math:`\mathrm{MMD}^2` (Gretton et al. 2012, eq. 3; Binkowski et al. 2018):

    .. math:: \frac{1}{m(m-1)}\sum_{i\ne j} k(x_i,x_j) + \frac{1}{n(n-1)}\sum_{i\ne j} k(y_i,y_j)
              - \frac{2}{mn}\sum_{i,j} k(x_i,y_j).

    The diagonal terms k(x_i, x_i) are left out, which is what removes the bias; the estimate can
    therefore be slightly negative when the two distributions are equal.
    """
    m, n = len(fx), len(fy)
    if m < 2 or n < 2:
        raise ValueError(f"need at least 2 samples on each side, got {m} and {n}")
    kxx, kyy, kxy = kernel(fx, fx), kernel(fy, fy), kernel(fx, fy)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def kid(real: torch.Tensor, fake: torch.Tensor, net: FeatureNet, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018): mean and standard deviation of the unbiased
    MMD^2 (cubic polynomial kernel) over ``subsets`` random subsets of ``min(subset_size, N)`` real and
    ``min(subset_size, M)`` fake images, drawn without replacement with a generator seeded by ``seed``."""
    if subsets < 1:
        raise ValueError(f"subsets must be >= 1, got {subsets}")
    if subset_size < 2:
        raise ValueError(f"subset_size must be >= 2, got {subset_size}")
    fr = extract_features(real, _check_net(net), name="real")
    ff = extract_features(fake, net, name="fake")
    rng = np.random.default_rng(seed)
    m, n = min(subset_size, len(fr)), min(subset_size, len(ff))
    vals = np.array([mmd2_unbiased(fr[rng.choice(len(fr), m, replace=False)],
                                   ff[rng.choice(len(ff), n, replace=False)]) for _ in range(subsets)])
    return float(vals.mean()), float(vals.std())


def classifier_score(fake: torch.Tensor | np.ndarray, net: FeatureNet | None = None, splits: int = 1) -> float:
    r"""Inception-score analogue (Salimans et al. 2016): :math:`\exp\,\mathbb{E}_x\,\mathrm{KL}(p(y|x)\Vert p(y))`
    with ``net`` as the classifier, averaged over ``splits`` equal parts as in the paper's code.

    ``fake``: images (with ``net``), or their class probabilities ``p(y|x)`` (N, K) already computed
    (``net.probs(images)``; without ``net``). Between 1 (every sample gets the same prediction, or every
    prediction is uniform) and the number of classes (confident predictions spread evenly over the classes).
    """
    if net is None:
        p = np.asarray(fake.detach().cpu() if isinstance(fake, torch.Tensor) else fake, dtype=np.float64)
        if p.ndim != 2 or not np.allclose(p.sum(1), 1.0, atol=1e-4):
            raise ValueError(f"without net, fake must hold class probabilities (N, K) whose rows sum to 1, "
                             f"got {p.shape}")
    else:
        p = _check_net(net).probs(fake).numpy()  # (N, K) float64
    if splits < 1 or splits > len(p):
        raise ValueError(f"splits must be in [1, {len(p)}], got {splits}")
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(0, keepdims=True)  # (1, K) marginal p(y)
        kl = (part * (np.log(part + 1e-12) - np.log(py + 1e-12))).sum(1)  # (n,)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores))
