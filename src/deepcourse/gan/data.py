"""Data for image-to-image translation: derived paired sets, an unpaired digit pair, and loaders for the
pix2pix / CycleGAN releases.

Paired (pix2pix). The notes build a paired set from any image collection with "a transformer from y to
x, e.g. a Canny filter": the input is an edge map of the item, the target the item itself (Isola et al.
2017 do this for edges2shoes / edges2handbags with HED edges). We use the Sobel gradient magnitude,
normalised per image and thresholded, which is deterministic and needs no extra package:
``edges2fashion`` (Fashion-MNIST, 28x28) and ``edges2digits`` (MNIST, 28x28).

Unpaired (CycleGAN, Zhu et al. 2017): MNIST <-> USPS resized to a common side (the domain-adaptation
pair of CyCADA, Hoffman et al. 2018). The two sets come from different writers and scanners, so no image
of one domain has its counterpart in the other.

Both read the fixed splits and stratified subsets of :func:`deepcourse.data.load_splits`.

Real sets (not shipped; for users who download them): the pix2pix releases store each pair side by side
(``<name>/<split>/*.jpg``, input A on the left, B on the right: facades, maps, edges2shoes, ...), the
CycleGAN releases store two folders per split (``<name>/trainA``, ``trainB``, ``testA``, ``testB``:
horse2zebra, monet2photo, ...).

Every image tensor here is float in [-1, 1], shape (N, C, H, W).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

__all__ = [
    "PAIRED", "sobel_edges", "load_paired", "load_unpaired_digits", "resize",
    "PIX2PIX_SETS", "CYCLEGAN_SETS", "load_aligned_folder", "load_unaligned_folder",
]

PAIRED = {"edges2digits": "mnist", "edges2fashion": "fashion-mnist"}
PIX2PIX_SETS = ("facades", "maps", "cityscapes", "edges2shoes", "edges2handbags", "night2day")
CYCLEGAN_SETS = ("horse2zebra", "apple2orange", "summer2winter_yosemite", "monet2photo", "cezanne2photo",
                 "ukiyoe2photo", "vangogh2photo", "maps", "cityscapes", "facades", "iphone2dslr_flower")
_PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{}.tar.gz"
_CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{}.zip"
_IMAGE_EXT = (".jpg", ".jpeg", ".png")


def sobel_edges(x: torch.Tensor, threshold: float | None = 0.25) -> torch.Tensor:
    """Edge map of images in [-1, 1], (N, C, H, W) -> (N, 1, H, W) in [-1, 1] (edges = +1).

    Sobel gradient magnitude of the channel mean (replicate padding, so borders are not edges),
    divided by its per-image maximum; with ``threshold`` the map is binarised at that fraction of the
    maximum (a crude Canny without non-maximum suppression). Deterministic.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"x must be a (N, C, H, W) tensor, got {getattr(x, 'shape', type(x).__name__)}")
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1) or None, got {threshold}")
    g = x.float().mean(1, keepdim=True)  # (N, 1, H, W)
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=g.device)
    k = torch.stack([kx, kx.t()]).unsqueeze(1)  # (2, 1, 3, 3): d/dx, d/dy
    grad = F.conv2d(F.pad(g, (1, 1, 1, 1), mode="replicate"), k)  # (N, 2, H, W)
    mag = grad.square().sum(1, keepdim=True).sqrt()  # (N, 1, H, W)
    mag = mag / mag.amax((2, 3), keepdim=True).clamp_min(1e-8)  # [0, 1] per image
    if threshold is not None:
        mag = (mag >= threshold).float()
    return mag * 2 - 1


def load_paired(name: str, run_or_root=None, *, subset: int | None = None, test_subset: int | None = None,
                threshold: float | None = 0.25) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    """``((edges, images, labels) of train, (edges, images, labels) of test)`` of a derived paired set.

    ``edges`` and ``images`` are (N, 1, H, W) in [-1, 1]; ``labels`` the source classes (for the
    classifier accuracy on generated images). ``subset`` / ``test_subset``: fixed stratified subsets.
    """
    if name not in PAIRED:
        raise ValueError(f"name must be one of {', '.join(PAIRED)}; got {name!r}")
    from deepcourse.metrics.generative import domain_splits

    s = domain_splits(PAIRED[name], run_or_root, subset=subset, test_subset=test_subset)
    return ((sobel_edges(s.x_train, threshold), s.x_train, s.y_train),
            (sobel_edges(s.x_test, threshold), s.x_test, s.y_test))


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize (antialiased when shrinking) of (N, C, H, W) images to ``size`` x ``size``, clamped to [-1, 1]."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=size < x.shape[-1]).clamp(-1, 1)


def load_unpaired_digits(name: str = "mnist-usps", run_or_root=None, *, size: int = 16, subset: int | None = None,
                         test_subset: int | None = None) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    """``((xa, ya, xb, yb) of train, (xa, ya, xb, yb) of test)``: two unpaired digit domains, each
    (N, 1, size, size) in [-1, 1], with labels. ``"mnist-usps"``: A = MNIST, B = USPS (native side 16).
    ``subset`` / ``test_subset``: fixed stratified subsets of each domain."""
    if name != "mnist-usps":
        raise ValueError(f"name must be 'mnist-usps', got {name!r}")
    from deepcourse.metrics.generative import domain_splits

    a = domain_splits("mnist", run_or_root, subset=subset, test_subset=test_subset)
    b = domain_splits("usps", run_or_root, subset=subset, test_subset=test_subset)
    return ((resize(a.x_train, size), a.y_train, resize(b.x_train, size), b.y_train),
            (resize(a.x_test, size), a.y_test, resize(b.x_test, size), b.y_test))


# ------------------------------------------------------------------------------------ real image folders

def _folder(name: str, root, url: str) -> Path:
    from deepcourse.data import DataMissingError, data_root

    base = data_root(root) / name
    if not base.is_dir():
        raise DataMissingError(
            f"dataset {name!r} not found at {base}. Download {url} and extract it so that {base} exists "
            "(deepcourse.data.safe_extract extracts archives safely).",
            dataset=name, searched=[base], hint=url)
    return base


def _images(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_EXT and p.is_file())
    if not files:
        raise ValueError(f"no .jpg/.png images in {folder}")
    return files


def _read(path: Path) -> torch.Tensor:
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        a = np.asarray(im.convert("RGB"), dtype=np.float32)  # (H, W, 3)
    return torch.from_numpy(a).permute(2, 0, 1).div(127.5).sub(1)  # (3, H, W) in [-1, 1]


def load_aligned_folder(name: str, split: str = "train", root=None, size: int | None = None,
                        limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A pix2pix release (``<root>/<name>/<split>/*.jpg``, each file A | B side by side) as ``(A, B)``,
    each (N, 3, H, W) in [-1, 1] (resized to ``size`` if given). Files are read in sorted order."""
    base = _folder(name, root, _PIX2PIX_URL.format(name))
    folder = base / split
    if not folder.is_dir():
        raise ValueError(f"split must be one of {sorted(p.name for p in base.iterdir() if p.is_dir())}, got {split!r}")
    a_list, b_list = [], []
    for p in _images(folder)[:limit]:
        img = _read(p)
        w = img.shape[2]
        if w % 2:
            raise ValueError(f"{p}: an aligned pair must have an even width (A | B), got {w}")
        a_list.append(img[:, :, :w // 2])  # (3, H, W/2): left half
        b_list.append(img[:, :, w // 2:])  # right half
    a, b = torch.stack(a_list), torch.stack(b_list)
    return (resize(a, size), resize(b, size)) if size is not None else (a, b)


def load_unaligned_folder(name: str, split: str = "train", root=None, size: int | None = None,
                          limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A CycleGAN release (``<root>/<name>/{split}A`` and ``{split}B``) as ``(A, B)``, each (N, 3, H, W)
    in [-1, 1]; the two domains may have different sizes and counts. Without ``size`` all images of a
    domain must share one size."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    base = _folder(name, root, _CYCLEGAN_URL.format(name))
    out = []
    for side in ("A", "B"):
        folder = base / f"{split}{side}"
        if not folder.is_dir():
            raise ValueError(f"{base} has no {split}{side}/ folder (expected the CycleGAN layout trainA, trainB, testA, testB)")
        imgs = [_read(p) for p in _images(folder)[:limit]]
        if size is not None:
            imgs = [resize(i[None], size)[0] for i in imgs]
        shapes = {tuple(i.shape) for i in imgs}
        if len(shapes) > 1:
            raise ValueError(f"{folder}: images have different sizes {sorted(shapes)}; pass size=")
        out.append(torch.stack(imgs))
    return out[0], out[1]

