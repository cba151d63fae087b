"""PointNet (Qi, Su, Mo, Guibas 2017, arXiv:1612.00593): per-point shared MLPs, a symmetric max-pool to a global
feature, a classification head 512-256-k and a segmentation head on [per-point feature, global feature].

Two T-Nets (spatial transformers) predict an input alignment (D x D) and a feature alignment (64 x 64); the
feature transform is regularised towards orthogonality (:func:`~.losses.transform_regulariser`, weight 0.001 in
the paper). ``tnets=False`` is the notes' "vanilla" PointNet. Inputs are ``(B, N, D)`` clouds (D = 2 for MNIST
point sets, 3 for shapes)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.core import register_model

from .layers import SharedMLP, mlp_head, scaled
from .losses import transform_regulariser
from .ops import check_cloud

__all__ = ["TNet", "PointNet", "PointNetSeg"]


class TNet(nn.Module):
    """Predicts a ``k x k`` matrix from a ``(B, N, k)`` point set: shared MLP 64-128-1024, max-pool, FC 512-256,
    then a linear layer initialised to output the identity (so training starts from no transform)."""

    def __init__(self, k: int, width: float = 1.0):
        super().__init__()
        self.k = k
        self.mlp = SharedMLP(k, scaled((64, 128, 1024), width))
        h = scaled((512, 256), width)
        self.fc = mlp_head(self.mlp.c_out, h, k * k)
        nn.init.zeros_(self.fc[-1].weight)
        with torch.no_grad():
            self.fc[-1].bias.copy_(torch.eye(k).flatten())

    def forward(self, x: Tensor) -> Tensor:
        pooled, self.winners = self.mlp(x).max(1)  # winners: (B, C) indices of the points that set the max-pool
        return self.fc(pooled).view(-1, self.k, self.k)


class PointNetEncoder(nn.Module):
    """Input T-Net -> MLP(64, 64) -> feature T-Net -> MLP(64, 128, 1024) -> max-pool. ``forward`` returns the
    global feature ``(B, 1024)``, the 64-d aligned per-point features ``(B, N, 64)`` and the arg-max indices
    (the critical points); the last transforms are kept in ``self.transforms`` for the regulariser."""

    def __init__(self, in_dim: int = 3, width: float = 1.0, tnets: bool = True):
        super().__init__()
        self.in_dim, self.tnets = in_dim, tnets
        self.input_tnet = TNet(in_dim, width) if tnets else None
        self.mlp1 = SharedMLP(in_dim, scaled((64, 64), width))
        c = self.mlp1.c_out
        self.feature_tnet = TNet(c, width) if tnets else None
        self.mlp2 = SharedMLP(c, scaled((64, 128, 1024), width))
        self.c_point, self.c_global = c, self.mlp2.c_out
        self.transforms: tuple[Tensor, ...] = ()

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        check_cloud(x, "points", self.in_dim)
        transforms = []
        if self.input_tnet is not None:
            a = self.input_tnet(x)
            x = x @ a
            transforms.append(a)
        f = self.mlp1(x)
        if self.feature_tnet is not None:
            a = self.feature_tnet(f)
            f = f @ a
            transforms.append(a)
        self.transforms = tuple(transforms)
        g, crit = self.mlp2(f).max(1)
        return g, f, crit

    def aligned(self, x: Tensor) -> Tensor:
        """The input after the input T-Net (``x`` itself for vanilla PointNet)."""
        return x if self.input_tnet is None else x @ self.input_tnet(x)

    def regulariser(self) -> Tensor:
        """||I - A A^T||^2 of the feature transform of the last forward (0 without T-Nets)."""
        if not self.transforms:
            return torch.zeros(())
        return transform_regulariser(self.transforms[-1])


@register_model("pointnet", example_input=lambda: torch.randn(4, 32, 3), small={"width": 0.125, "num_classes": 5})
class PointNet(nn.Module):
    """PointNet classifier: encoder, then FC 512-256-k with dropout (0.3 = keep ratio 0.7, as the paper)."""

    def __init__(self, num_classes: int = 40, in_dim: int = 3, width: float = 1.0, tnets: bool = True,
                 dropout: float = 0.3):
        super().__init__()
        self.encoder = PointNetEncoder(in_dim, width, tnets)
        self.head = mlp_head(self.encoder.c_global, scaled((512, 256), width), num_classes, dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x)[0])

    def regulariser(self) -> Tensor:
        return self.encoder.regulariser()

    @torch.no_grad()
    def critical_points(self, x: Tensor) -> Tensor:
        """Boolean ``(B, N)`` mask of the points that win at least one channel of the max-pool: the global
        feature (hence the prediction) depends on these alone (Qi et al. 2017, Sec. 4.3 and Fig. 7). With T-Nets,
        the winners of the T-Nets' own max-pools are included, so that the T-Nets see the same pooled values and
        the critical subset alone reproduces the prediction exactly."""
        _, _, crit = self.encoder(x)
        mask = torch.zeros(x.shape[:2], dtype=torch.bool, device=x.device)
        for tnet in (self.encoder.input_tnet, self.encoder.feature_tnet):
            if tnet is not None:
                mask.scatter_(1, tnet.winners, True)
        return mask.scatter_(1, crit, True)


@register_model("pointnet-seg", example_input=lambda: torch.randn(4, 32, 3),
                small={"width": 0.125, "num_parts": 6})
class PointNetSeg(nn.Module):
    """PointNet part segmentation: each point's aligned 64-d feature concatenated with the global feature (and
    the object's one-hot class when ``num_classes > 0``), then a shared MLP 512-256-128 -> part logits
    ``(B, N, num_parts)``."""

    def __init__(self, num_parts: int = 50, in_dim: int = 3, width: float = 1.0, tnets: bool = True,
                 num_classes: int = 0):
        super().__init__()
        self.encoder = PointNetEncoder(in_dim, width, tnets)
        self.num_classes = num_classes
        c = self.encoder.c_point + self.encoder.c_global + num_classes
        self.mlp = SharedMLP(c, scaled((512, 256, 128), width))
        self.out = nn.Linear(self.mlp.c_out, num_parts)

    def forward(self, x: Tensor, cls: Tensor | None = None) -> Tensor:
        g, f, _ = self.encoder(x)
        parts = [f, g.unsqueeze(1).expand(-1, x.shape[1], -1)]
        if self.num_classes:
            if cls is None:
                raise ValueError("PointNetSeg(num_classes>0) needs the object classes cls: (B,)")
            onehot = nn.functional.one_hot(cls, self.num_classes).to(x.dtype)
            parts.append(onehot.unsqueeze(1).expand(-1, x.shape[1], -1))
        return self.out(self.mlp(torch.cat(parts, -1)))

    def regulariser(self) -> Tensor:
        return self.encoder.regulariser()
