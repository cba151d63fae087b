"""Long Range Arena Image (Tay et al. 2021): CIFAR-10 as sequences of 1,024 grey levels, 10 classes.

LRA's pipeline (``lra_benchmarks/image/input_pipeline.py``, ``get_cifar10_datasets``) converts each 32x32 RGB
image with ``tf.image.rgb_to_grayscale`` to one 8-bit channel, keeps the integers (no normalisation) and
flattens the image row by row: a sequence of 1,024 tokens from a vocabulary of 256 intensities, classified
into the 10 CIFAR-10 classes. Training on the first 90 % of CIFAR-10's training set (45,000), validation on the
other 10 % (5,000), test on the 10,000 test images.

``tf.image.rgb_to_grayscale`` on uint8 pixels, step by step (float32 throughout):

* ``x / 255`` per channel (``convert_image_dtype`` to float),
* ``g = 0.2989 R + 0.5870 G + 0.1140 B`` (:data:`LRA_GREY_WEIGHTS`),
* back to uint8 as ``trunc(g * 255.5)``, clipped to 0..255 (``convert_image_dtype``'s saturating cast).

Here the images come from the platform's CIFAR-10 (the ``cifar10-jpeg`` copy: JPEG-recompressed, so the grey
levels differ slightly from the lossless original), and the 45,000 / 5,000 split is :func:`load_splits`'s fixed
stratified one, not LRA's first / last 90 %. Intensity 0 is a black pixel, not padding: a model must not mask it
(the Nystromformer's LRA code masks every id 0, black pixels included).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .splits import Splits, load_splits

if TYPE_CHECKING:
    import torch

__all__ = ["LRA_GREY_WEIGHTS", "LRA_IMAGE_VOCAB", "LRA_IMAGE_LENGTH", "grey_levels", "lra_image_splits"]

LRA_GREY_WEIGHTS = (0.2989, 0.5870, 0.1140)  # tf.image.rgb_to_grayscale's R, G, B weights
LRA_IMAGE_VOCAB = 256   # token ids are the grey levels 0..255
LRA_IMAGE_LENGTH = 1024  # 32 x 32 pixels, row by row


def grey_levels(images: torch.Tensor) -> torch.Tensor:
    """uint8 RGB images ``(N, 3, H, W)`` -> long token ids ``(N, H * W)`` in 0..255, row by row, with
    ``tf.image.rgb_to_grayscale``'s arithmetic (module docstring)."""
    import torch

    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be uint8 (N, 3, H, W); got {tuple(images.shape)} {images.dtype}")
    w = torch.tensor(LRA_GREY_WEIGHTS, dtype=torch.float32).view(1, 3, 1, 1)
    out = []
    for chunk in images.split(4096):  # bounded float32 memory on the 50,000 training images
        g = (chunk.float() * (1.0 / 255.0) * w).sum(1)           # (n, H, W) in [0, 1]
        out.append((g * 255.5).clamp(0, 255).to(torch.long).flatten(1))  # trunc: .to(long) rounds toward 0
    return torch.cat(out) if out else torch.zeros(0, images.shape[2] * images.shape[3], dtype=torch.long)


def lra_image_splits(run: Any = None, *, subset: int | None = None, test_subset: int | None = None,
                     val: float = 0.1, dataset: str = "cifar10-jpeg", root: Any = None) -> Splits:
    """Fixed train / validation / test splits of LRA Image: ``x`` long ``(N, 1024)`` grey levels, ``y`` the
    10 classes. ``subset`` / ``test_subset`` / ``val``: as in :func:`load_splits` (``subset=None``,
    ``val=0.1``: 45,000 / 5,000 / 10,000 as in LRA)."""
    s = load_splits(dataset, run, val=val, subset=subset, test_subset=test_subset, scale=False, root=root)
    return Splits(f"lra-image ({dataset})", grey_levels(s.x_train), s.y_train, grey_levels(s.x_val), s.y_val,
                  grey_levels(s.x_test), s.y_test, s.num_classes)
