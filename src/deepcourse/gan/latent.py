"""Walking the latent space: interpolation, vector arithmetic, and the nearest-neighbour check.

* Linear interpolation ``(1 - t) z0 + t z1``: the GAN paper's Figure 3 and DCGAN's Section 6.1
  ("walking in the latent space"); smooth transitions mean G has not memorised isolated images.
* Spherical interpolation (White 2016, "Sampling Generative Networks"): for a Gaussian prior in
  many dimensions almost all mass sits near the sphere of radius ``sqrt(dim)``; the straight line
  between two samples cuts through the low-norm interior that G rarely saw in training, while
  ``slerp`` keeps the norm.
* Vector arithmetic (Radford et al. 2016, Section 6.3): average the ``z`` of several samples per
  concept (single ``z`` were unstable), combine ``mean(A) - mean(B) + mean(C)``, and show the result
  with small uniform jitter (+-0.25 in the paper).
* Nearest training neighbours (Goodfellow et al. 2014, Figure 2, right column): each sample next
  to the closest training image in pixel space, to show the samples are not copies.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.core import predict

__all__ = ["lerp", "slerp", "interpolate", "latent_arithmetic", "nearest_neighbours", "nearest_neighbour_panel"]


def _ts(steps: int, like: Tensor) -> Tensor:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an int >= 2 (got {steps!r})")
    return torch.linspace(0, 1, steps, dtype=like.dtype, device=like.device)  # (S,)


def _check_pair(z0: Tensor, z1: Tensor) -> None:
    if z0.shape != z1.shape or z0.dim() != 1:
        raise ValueError(f"z0 and z1 must be 1-D vectors of the same size (got {tuple(z0.shape)}, {tuple(z1.shape)})")


def lerp(z0: Tensor, z1: Tensor, steps: int) -> Tensor:
    """``(1 - t) z0 + t z1`` for ``t`` in ``linspace(0, 1, steps)``: ``(steps, dim)``."""
    _check_pair(z0, z1)
    t = _ts(steps, z0)[:, None]  # (S, 1)
    return (1 - t) * z0 + t * z1


def slerp(z0: Tensor, z1: Tensor, steps: int, eps: float = 1e-7) -> Tensor:
    r"""Spherical interpolation (White 2016; Shoemake 1985):
    :math:`\frac{\sin((1-t)\Omega)}{\sin\Omega} z_0 + \frac{\sin(t\Omega)}{\sin\Omega} z_1`,
    :math:`\cos\Omega = \hat z_0 \cdot \hat z_1`. Falls back to :func:`lerp` for (anti)parallel vectors,
    where :math:`\sin\Omega = 0`. Returns ``(steps, dim)``; the endpoints are exactly ``z0`` and ``z1``.
    """
    _check_pair(z0, z1)
    t = _ts(steps, z0)[:, None]  # (S, 1)
    cos = torch.dot(z0 / z0.norm().clamp_min(eps), z1 / z1.norm().clamp_min(eps)).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    so = torch.sin(omega)
    if so.abs() < 1e-6:
        return lerp(z0, z1, steps)
    return torch.sin((1 - t) * omega) / so * z0 + torch.sin(t * omega) / so * z1


def interpolate(g: nn.Module, z0: Tensor, z1: Tensor, steps: int = 8, method: str = "slerp") -> Tensor:
    """``g`` evaluated along the path from ``z0`` to ``z1`` (eval mode): ``(steps, *sample_shape)``."""
    if method not in ("lerp", "slerp"):
        raise ValueError(f"method must be 'lerp' or 'slerp' (got {method!r})")
    zs = (slerp if method == "slerp" else lerp)(z0, z1, steps)  # (S, dim)
    return predict(g, zs)


def latent_arithmetic(za: Tensor, zb: Tensor, zc: Tensor, jitter: float = 0.25, n_jitter: int = 8,
                      generator: torch.Generator | None = None) -> Tensor:
    """``z' = mean(za) - mean(zb) + mean(zc)`` (each ``(k, dim)``, averaged over its ``k`` exemplars),
    followed by ``n_jitter`` copies with uniform noise in ``[-jitter, jitter]`` (Radford et al. 2016,
    Figure 7). Returns ``(1 + n_jitter, dim)``, ``z'`` first."""
    for name, z in (("za", za), ("zb", zb), ("zc", zc)):
        if z.dim() != 2:
            raise ValueError(f"{name} must be (k, dim) (got shape {tuple(z.shape)})")
    if not (za.shape[1] == zb.shape[1] == zc.shape[1]):
        raise ValueError(f"za, zb, zc must share dim (got {za.shape[1]}, {zb.shape[1]}, {zc.shape[1]})")
    z = za.mean(0) - zb.mean(0) + zc.mean(0)  # (dim,)
    noise = (torch.rand(n_jitter, z.shape[0], generator=generator, dtype=z.dtype) * 2 - 1) * jitter  # (J, dim)
    return torch.cat([z[None], z[None] + noise.to(z.device)])


def nearest_neighbours(samples: Tensor, train: Tensor, chunk: int = 2048) -> tuple[Tensor, Tensor]:
    """Index into ``train`` of each sample's nearest neighbour in pixel (L2) space, and the distance.

    ``samples`` ``(N, ...)``, ``train`` ``(M, ...)`` with the same item shape; returns ``(N,)``, ``(N,)``.
    The training set is scanned in chunks so that ``N x M`` distances never sit in memory at once.
    """
    if samples.shape[1:] != train.shape[1:]:
        raise ValueError(f"samples and train must have the same item shape (got {tuple(samples.shape[1:])}, "
                         f"{tuple(train.shape[1:])})")
    s = samples.reshape(samples.shape[0], -1).float()  # (N, D)
    best_d = torch.full((s.shape[0],), float("inf"))
    best_i = torch.zeros(s.shape[0], dtype=torch.long)
    for start in range(0, train.shape[0], chunk):
        t = train[start:start + chunk].reshape(-1, s.shape[1]).float()  # (m, D)
        d = torch.cdist(s, t)  # (N, m)
        v, i = d.min(1)
        better = v < best_d
        best_d[better], best_i[better] = v[better], i[better] + start
    return best_i, best_d


def nearest_neighbour_panel(samples: Tensor, train: Tensor) -> Tensor:
    """Interleave each sample with its nearest training image: ``(2N, C, H, W)``, ready for an
    ``image_grid`` with ``nrow=2`` (sample left, neighbour right)."""
    idx, _ = nearest_neighbours(samples, train)
    pairs = torch.stack([samples.float(), train[idx].float()], dim=1)  # (N, 2, C, H, W)
    return pairs.reshape(-1, *samples.shape[1:])  # (2N, C, H, W)
