"""Mode coverage on a mixture of well-separated Gaussians (the 5x5 grid).

The protocol of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018): every generated
sample is assigned to its nearest mode; it is *high quality* when it lies within ``3 std`` of that
mode. A mode counts as covered when at least ``min_count`` high-quality samples land on it
(PacGAN: 20 of 2500 samples, a fifth of the 100 a perfect generator would put there), so a
handful of stray points between modes does not count as covering one.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["mode_coverage"]


def mode_coverage(samples: Tensor, centres: Tensor, std: float, n_std: float = 3.0, min_count: int = 20
                  ) -> dict[str, float]:
    """Returns ``{"modes": covered modes, "high_quality": % of samples within n_std*std of a mode,
    "kl_modes": KL(sample mode histogram || uniform over modes), over high-quality samples}``.

    ``samples``: ``(N, D)``; ``centres``: ``(M, D)``.
    """
    if samples.dim() != 2 or centres.dim() != 2 or samples.shape[1] != centres.shape[1]:
        raise ValueError(f"samples (N, D) and centres (M, D) must share D (got {tuple(samples.shape)}, "
                         f"{tuple(centres.shape)})")
    if not std > 0:
        raise ValueError(f"std must be > 0 (got {std})")
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1 (got {min_count})")
    samples, centres = samples.detach().double().cpu(), centres.detach().double().cpu()
    dist = torch.cdist(samples, centres)  # (N, M)
    d_min, nearest = dist.min(1)  # (N,), (N,)
    hq = d_min <= n_std * std  # (N,)
    counts = torch.bincount(nearest[hq], minlength=centres.shape[0]).double()  # (M,)
    modes = int((counts >= min_count).sum())
    if hq.any():
        p = counts / counts.sum()
        nz = p > 0
        kl = float((p[nz] * (p[nz] * centres.shape[0]).log()).sum())
    else:
        kl = float("inf")
    return {"modes": float(modes), "high_quality": 100.0 * float(hq.double().mean()), "kl_modes": kl}
