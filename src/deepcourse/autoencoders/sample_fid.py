"""Sample quality of an autoencoder's decoder: samples at z ~ prior, and their domain FID.

FID (Heusel et al. 2017) is computed on the features of the domain classifier of
:mod:`deepcourse.metrics.generative` (one per dataset, cached, named by its fingerprint). The
autoencoders here work on images in [0, 1]; the metric's convention is [-1, 1], so :class:`DomainFID`
converts. An FID is only comparable with FIDs on the same features, so the fingerprint is written
beside the run (``fid_features.json``).
"""

from __future__ import annotations

import json
from typing import Any

import torch
from torch import Tensor, nn

from deepcourse.core import eval_mode

__all__ = ["draw_samples", "DomainFID"]


def draw_samples(model: nn.Module, n: int, generator: torch.Generator, batch_size: int = 1000) -> Tensor:
    """``n`` samples ``model.sample(k, generator=...)`` drawn in eval mode (BatchNorm on its running
    statistics) in batches, gathered on the CPU."""
    with eval_mode(model):
        return torch.cat([model.sample(min(batch_size, n - i), generator=generator).cpu()
                          for i in range(0, n, batch_size)])


class DomainFID:
    """``fid(images01) -> float``: the FID of images in [0, 1] against fixed real test images of ``dataset``,
    on the domain network of recipe ``kind`` ("small" for quick presets, "full" for full runs)."""

    def __init__(self, dataset: str, run: Any, real01: Tensor, kind: str = "full"):
        from deepcourse.metrics.generative import domain_features, feature_stats

        self.net = domain_features(dataset, run, kind=kind, device="cpu")
        self.real = feature_stats(_to_pm1(real01), self.net, "real")
        if run.is_main:
            (run.out / "fid_features.json").write_text(json.dumps(
                {"fingerprint": self.net.fingerprint, "meta": getattr(self.net, "meta", {})}, indent=2,
                default=str) + "\n")

    def __call__(self, images01: Tensor) -> float:
        from deepcourse.metrics.generative.fid import fid

        return fid(self.real, _to_pm1(images01), self.net)


def _to_pm1(x: Tensor) -> Tensor:
    return (x.detach().float().cpu() * 2.0 - 1.0).clamp(-1, 1)  # [0, 1] -> [-1, 1], same shape
