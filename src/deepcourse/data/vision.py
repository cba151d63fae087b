"""torchvision-based ``Dataset`` classes. Imported lazily (torchvision is slow to import).

* :class:`StagedMNIST` / :class:`StagedFashionMNIST`: torchvision's ``MNIST`` / ``FashionMNIST`` reading
  the registry's ``.gz`` files in place. torchvision itself expects uncompressed files under
  ``root/MNIST/raw``; here ``raw_folder`` is the dataset folder itself, the existence check is replaced by
  the registry's verification, and ``_load_data`` returns the tensors decoded from the ``.gz`` files.
  Everything else (``__getitem__`` returning a PIL image, ``classes``, ``transform``) is torchvision's.
* :class:`TensorImageDataset`: a ``VisionDataset`` over in-memory uint8 images (USPS, CIFAR-10 JPEG copy).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from PIL import Image
from torchvision.datasets import MNIST, FashionMNIST, VisionDataset

__all__ = ["StagedMNIST", "StagedFashionMNIST", "TensorImageDataset"]


class _StagedMixin:
    """Overrides shared by the staged MNIST-format classes (see module docstring)."""

    def __init__(self, folder: str, tensors: tuple[torch.Tensor, torch.Tensor], train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        self._tensors = tensors
        super().__init__(folder, train=train, transform=transform,  # type: ignore[call-arg]
                         target_transform=target_transform, download=False)
        del self._tensors  # data/targets now hold them

    @property
    def raw_folder(self) -> str:
        return str(self.root)  # type: ignore[attr-defined]

    def _check_legacy_exist(self) -> bool:
        return False  # never look for torchvision's old processed/*.pt files

    def _check_exists(self) -> bool:
        return True  # the registry verified size and sha256 before constructing us

    def _load_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._tensors

    def download(self) -> None:  # pragma: no cover - guarded by download=False
        raise RuntimeError("use `deepcourse data download` (deepcourse.data.download) instead")


class StagedMNIST(_StagedMixin, MNIST):
    """torchvision ``MNIST`` over the registry's staged ``.gz`` files."""


class StagedFashionMNIST(_StagedMixin, FashionMNIST):
    """torchvision ``FashionMNIST`` over the registry's staged ``.gz`` files."""


class TensorImageDataset(VisionDataset):
    """Images held in memory as uint8 tensors ``(N, H, W)`` or ``(N, C, H, W)``; items are ``(PIL, int)``.

    As with torchvision's datasets, ``transform`` receives a PIL image (grey ``L`` or ``RGB``).
    """

    def __init__(self, root: str, x: torch.Tensor, y: torch.Tensor, transform: Callable | None = None,
                 target_transform: Callable | None = None, classes: Sequence[str] = ()) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        if x.dtype != torch.uint8 or x.dim() not in (3, 4):
            raise ValueError(f"x must be a uint8 tensor of shape (N,H,W) or (N,C,H,W), got {x.dtype} {tuple(x.shape)}")
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
        self.data = x
        self.targets = y
        self.classes = list(classes)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = self.data[index]
        if img.dim() == 3:  # (C, H, W) -> (H, W, C) for PIL
            img = img.permute(1, 2, 0)  # (H, W, C)
            img = Image.fromarray(img.squeeze(2).contiguous().numpy() if img.shape[2] == 1 else img.contiguous().numpy())
        else:
            img = Image.fromarray(img.numpy())  # uint8 (H, W) -> mode "L"
        target = int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
