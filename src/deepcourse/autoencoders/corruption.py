"""Input corruption for denoising autoencoders and for the Hopfield restoration demo.

A denoising autoencoder is trained to reconstruct the clean x from a corrupted x~ ~ q(x~ | x),
minimising L(x, g(f(x~))) (Vincent, Larochelle, Bengio & Manzagol 2008, sec. 2.3; notes 3,
"Regularizing autoencoders"). Vincent et al. (2008) use *masking noise* (a random fraction of
the inputs forced to 0); Vincent et al. (2010, sec. 4.2) add isotropic *Gaussian noise* and
*salt-and-pepper noise* (a random fraction set to the minimum or maximum value, each with
probability 1/2). Every function draws from the ``generator`` it is given (or torch's global
generator when it is ``None``, which ``fit`` checkpoints, so a resumed run corrupts identically)
and never changes its input in place.

For the Hopfield network (notes 3, after Tu, Liao & Zhang 2012) the images are binary with
states +-1: :func:`binary_gaussian_noise` and :func:`binary_salt_and_pepper` corrupt on the
[0, 1] pixel scale the notes use (Gaussian noise of variance 0.05, salt-and-pepper of density
0.4) and re-binarise by sign, so the network always starts from a valid +-1 state.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "gaussian_noise",
    "salt_and_pepper",
    "masking",
    "corrupt",
    "NOISE_KINDS",
    "to_pm1",
    "from_pm1",
    "binary_gaussian_noise",
    "binary_salt_and_pepper",
    "corrupt_binary",
    "BINARY_NOISE_KINDS",
]

NOISE_KINDS = ("gaussian", "salt_and_pepper", "masking")
BINARY_NOISE_KINDS = ("gaussian", "salt_and_pepper")


def _check_tensor(x: object, name: str = "x") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def _check_fraction(p: float, name: str = "p") -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {p!r}")
    return float(p)


def _uniform(x: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device if generator is None else generator.device).to(x.device)


def gaussian_noise(x: Tensor, std: float, generator: torch.Generator | None = None,
                   clip: tuple[float, float] | None = None) -> Tensor:
    """x~ = x + std * eps, eps ~ N(0, I) (Vincent et al. 2010, "additive isotropic Gaussian
    noise"); optionally clipped to ``clip`` = (lo, hi) to stay a valid image."""
    x = _check_tensor(x)
    if isinstance(std, bool) or not isinstance(std, (int, float)) or std < 0 or not math.isfinite(std):
        raise ValueError(f"std must be a finite number >= 0, got {std!r}")
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype,
                      device=x.device if generator is None else generator.device).to(x.device)
    out = x + std * eps
    return out.clamp(*clip) if clip is not None else out


def salt_and_pepper(x: Tensor, p: float, generator: torch.Generator | None = None,
                    low: float = 0.0, high: float = 1.0) -> Tensor:
    """Each entry is, with probability ``p``, replaced by ``low`` or ``high`` (1/2 each)
    (Vincent et al. 2010, sec. 4.2; MATLAB's ``imnoise(..., 'salt & pepper', p)``)."""
    x = _check_tensor(x)
    p = _check_fraction(p)
    u = _uniform(x, generator)  # one draw decides both whether and which: u < p/2 pepper, p/2 <= u < p salt
    return torch.where(u < p / 2, torch.full_like(x, low), torch.where(u < p, torch.full_like(x, high), x))


def masking(x: Tensor, p: float, generator: torch.Generator | None = None, value: float = 0.0) -> Tensor:
    """Masking noise: each entry is forced to ``value`` (0) with probability ``p``
    (Vincent et al. 2008, sec. 2.3: "destroyed" inputs the network must fill in)."""
    x = _check_tensor(x)
    p = _check_fraction(p)
    keep = _uniform(x, generator) >= p
    return torch.where(keep, x, torch.full_like(x, value))


def corrupt(x: Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> Tensor:
    """Dispatch: ``kind`` in :data:`NOISE_KINDS`; ``level`` is the std (Gaussian, clipped to
    [0, 1]) or the fraction of corrupted entries (salt-and-pepper, masking)."""
    if kind == "gaussian":
        return gaussian_noise(x, level, generator, clip=(0.0, 1.0))
    if kind == "salt_and_pepper":
        return salt_and_pepper(x, level, generator)
    if kind == "masking":
        return masking(x, level, generator)
    raise ValueError(f"kind must be one of {NOISE_KINDS}, got {kind!r}")


# ------------------------------------------------------------------ binary (+-1) images
def to_pm1(x: Tensor, threshold: float = 0.5) -> Tensor:
    """Binarise [0, 1] images: pixels > ``threshold`` -> +1, others -> -1 (Hopfield states)."""
    x = _check_tensor(x)
    return torch.where(x > threshold, 1.0, -1.0).to(x.dtype)


def from_pm1(s: Tensor) -> Tensor:
    """+-1 states -> {0, 1} pixels."""
    return (s + 1) / 2


def _check_pm1(s: Tensor, name: str = "s") -> Tensor:
    s = _check_tensor(s, name)
    if not ((s == 1) | (s == -1)).all():
        raise ValueError(f"{name} must contain only -1 and +1 (binary Hopfield states)")
    return s


def binary_gaussian_noise(s: Tensor, var: float, generator: torch.Generator | None = None) -> Tensor:
    """Add N(0, var) noise on the [0, 1] pixel scale, then re-binarise at 0.5.

    For +-1 states that is sign(s + 2 sigma eps), sigma = sqrt(var): a pixel flips with
    probability Phi(-1 / (2 sigma)) (1.3 % at the notes' var = 0.05)."""
    s = _check_pm1(s)
    if isinstance(var, bool) or not isinstance(var, (int, float)) or var < 0 or not math.isfinite(var):
        raise ValueError(f"var must be a finite number >= 0, got {var!r}")
    noisy = gaussian_noise(from_pm1(s), math.sqrt(var), generator)  # [0, 1] scale
    return torch.where(noisy > 0.5, 1.0, torch.where(noisy < 0.5, -1.0, s)).to(s.dtype)


def binary_salt_and_pepper(s: Tensor, density: float, generator: torch.Generator | None = None) -> Tensor:
    """Salt-and-pepper of ``density`` on +-1 states: a fraction ``density`` of the pixels is set to
    +1 or -1 (1/2 each), so about ``density / 2`` of them actually flip."""
    s = _check_pm1(s)
    return salt_and_pepper(s, _check_fraction(density, "density"), generator, low=-1.0, high=1.0)


def corrupt_binary(s: Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> Tensor:
    """Dispatch for +-1 images: ``kind`` in :data:`BINARY_NOISE_KINDS`; ``level`` is the
    variance (Gaussian, [0, 1] scale) or the density (salt-and-pepper)."""
    if kind == "gaussian":
        return binary_gaussian_noise(s, level, generator)
    if kind == "salt_and_pepper":
        return binary_salt_and_pepper(s, level, generator)
    raise ValueError(f"kind must be one of {BINARY_NOISE_KINDS}, got {kind!r}")
