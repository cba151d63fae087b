"""Deterministic index splits, and ``load_splits``: the fixed train / validation / test splits every
experiment uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["train_val_split", "random_partition", "stratified_subset", "load_splits", "Splits"]


def random_partition(n: int, fracs: tuple[float, ...], seed: int = 0) -> list[torch.Tensor]:
    """Seeded random partition of ``range(n)``: one index tensor per fraction in ``fracs``
    (``round(f * n)`` items each), plus a last part holding the remainder."""
    if sum(fracs) > 1.0 + 1e-9 or any(f < 0 for f in fracs):
        raise ValueError(f"fracs must be >= 0 and sum to at most 1, got {fracs!r}")
    import torch  # lazy: keeps `import deepcourse.data` cheap

    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed)))
    parts, start = [], 0
    for f in fracs:
        k = int(round(f * n))
        parts.append(perm[start:start + k])
        start += k
    parts.append(perm[start:])
    return parts


def train_val_split(n: int, val_frac: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``range(n)`` into disjoint ``(train_idx, val_idx)`` int64 tensors, each sorted ascending.

    The same ``(n, val_frac, seed)`` always gives the same split (a seeded ``torch.randperm`` on CPU,
    independent of the global RNG). ``len(val_idx) = round(n * val_frac)``, clipped so that both parts
    have at least one element. Use it to pick models on validation data and keep the test split for the
    final number only.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    if not isinstance(val_frac, (int, float)) or not 0.0 < val_frac < 1.0:
        raise ValueError(f"val_frac must be a float in (0, 1), got {val_frac!r}")
    import torch  # lazy: keeps `import deepcourse.data` cheap

    n_val = min(max(int(round(n * val_frac)), 1), n - 1)
    g = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(n, generator=g)
    val_idx, _ = torch.sort(perm[:n_val])
    train_idx, _ = torch.sort(perm[n_val:])
    return train_idx, val_idx


@dataclass(frozen=True)
class Splits:
    """Fixed train / validation / test tensors of one dataset (see :func:`load_splits`)."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x_train, self.y_train

    @property
    def val(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x_val, self.y_val

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x_test, self.y_test

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one example, e.g. ``(1, 28, 28)`` or ``(64,)``."""
        return tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        return (f"Splits({self.name!r}, train={len(self.x_train)}, val={len(self.x_val)}, test={len(self.x_test)}, "
                f"input={self.input_shape}, classes={self.num_classes})")


def stratified_subset(y: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """Indices (sorted) of ``n`` items of ``y`` whose class proportions match the whole (within one item per
    class), chosen by a seeded permutation: items are ranked by their position within their own class
    divided by the class size, so every class is drawn evenly. Float targets (regression): a plain
    seeded random subset."""
    import torch

    total = len(y)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= total:
        raise ValueError(f"subset must be an int in [1, {total}] (got {n!r})")
    perm = torch.randperm(total, generator=torch.Generator().manual_seed(int(seed)))
    if y.dtype.is_floating_point:
        return torch.sort(perm[:n]).values
    yp = y[perm]
    pos = torch.empty(total, dtype=torch.float64)
    for c in torch.unique(yp):
        members = (yp == c).nonzero().squeeze(1)  # positions in the permuted order, ascending
        pos[members] = (torch.arange(len(members), dtype=torch.float64) + 0.5) / len(members)
    order = torch.argsort(pos, stable=True)
    return torch.sort(perm[order[:n]]).values


_TEST_FRAC = 0.2  # the held-out test share of datasets that ship without a test split
_SPLIT_SEED = 0  # splits are part of the dataset's definition, not of the run: they never follow --seed


def _raw(name: str, root: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int, bool]:
    """(x_train, y_train, x_test, y_test, num_classes, is_image) for a registered or an embedded dataset."""
    import torch

    from .embedded import SKLEARN_DATASETS, load_sklearn
    from .registry import get_spec, list_datasets, load_tensors

    key = name.replace("-", "_")
    if key in SKLEARN_DATASETS:
        x, y = load_sklearn(key)
        tr, te = (None, None)
        is_image = False
        if key == "digits":
            x, is_image = x / 16.0, True  # 8x8 images, pixel values 0..16 -> [0, 1], kept flat (N, 64)
    elif name in list_datasets():
        spec = get_spec(name)
        x, y = load_tensors(name, "train", root)
        is_image = spec.kind.startswith("image")
        if "test" in spec.splits:
            x_te, y_te = load_tensors(name, "test", root)
            classes = len(spec.classes) if spec.classes else int(max(y.max(), y_te.max())) + 1
            return x, y, x_te, y_te, classes, is_image
    else:
        known = sorted(set(list_datasets()) | set(SKLEARN_DATASETS))
        raise ValueError(f"load_splits: unknown dataset {name!r}; known: {', '.join(known)}")
    te_idx, tr_idx = (torch.sort(p).values for p in random_partition(len(y), (_TEST_FRAC,), seed=_SPLIT_SEED))
    if not y.dtype.is_floating_point:  # stratified test split for classification
        te_idx = stratified_subset(y, max(1, int(round(_TEST_FRAC * len(y)))), seed=_SPLIT_SEED)
        mask = torch.ones(len(y), dtype=torch.bool)
        mask[te_idx] = False
        tr_idx = mask.nonzero().squeeze(1)
    classes = 0 if y.dtype.is_floating_point else int(y.max()) + 1
    return x[tr_idx], y[tr_idx], x[te_idx], y[te_idx], classes, is_image


def load_splits(
    name: str,
    run: Any = None,
    *,
    val: float = 0.1,
    subset: int | None = None,
    test_subset: int | None = None,
    scale: bool = True,
    root: Any = None,
) -> Splits:
    """Fixed, seeded train / validation / test splits of dataset ``name``.

    ``name``: a registered dataset (``mnist``, ``fashion-mnist``, ``usps``, ``cifar10-jpeg``, ``coil20``;
    see ``deepcourse data list``) or one of scikit-learn's bundled sets (``digits``, ``iris``, ``wine``,
    ``breast_cancer``, ``diabetes``).

    The splits are part of the dataset, not of the run: they never depend on ``run.seed``, so "test
    accuracy on digits" means the same test set in every experiment.

    * test: the dataset's own test split; for a dataset without one, a fixed stratified 20 % of it.
    * ``subset``: a fixed stratified subset of ``subset`` training items (quick presets); then
    * ``val``: a fixed stratified fraction of those training items held out for model selection
      (``val=0`` gives an empty validation split).
    * ``test_subset``: a fixed stratified subset of the test split.

    ``scale=True``: images become float32 in [0, 1] shaped ``(N, C, H, W)`` (scikit-learn's ``digits``
    stay flat, ``(N, 64)``, divided by 16); tabular features are standardised with the training split's
    mean and standard deviation. ``scale=False``: the tensors as :func:`load_tensors` /
    :func:`load_sklearn` return them.

    ``run`` supplies the data root (``--data-dir``); ``root`` overrides it. A missing dataset raises
    :class:`DataMissingError` with the paths searched and the download command.
    """
    import torch

    if not isinstance(val, (int, float)) or isinstance(val, bool) or not 0.0 <= val < 1.0:
        raise ValueError(f"load_splits: val must be a fraction in [0, 1) (got {val!r})")
    if root is None and run is not None:
        root = getattr(run, "data_root", None)
    x, y, x_te, y_te, classes, is_image = _raw(name, root)
    if subset is not None:
        idx = stratified_subset(y, subset, seed=_SPLIT_SEED)
        x, y = x[idx], y[idx]
    if test_subset is not None:
        idx = stratified_subset(y_te, test_subset, seed=_SPLIT_SEED + 1)
        x_te, y_te = x_te[idx], y_te[idx]
    n_val = int(round(val * len(y)))
    if val > 0 and not 1 <= n_val < len(y):
        from deepcourse.core.config import ConfigError  # a ValueError; the runner reports it as bad input (exit 2)

        raise ConfigError(f"val_frac={val:g} (the validation fraction) leaves no "
                          f"{'validation' if n_val < 1 else 'training'} items out of {len(y)}; use a larger val_frac "
                          "or subset")
    if n_val:
        va_idx = stratified_subset(y, n_val, seed=_SPLIT_SEED + 2)
        mask = torch.ones(len(y), dtype=torch.bool)
        mask[va_idx] = False
        tr_idx = mask.nonzero().squeeze(1)
    else:
        va_idx, tr_idx = torch.zeros(0, dtype=torch.long), torch.arange(len(y))
    parts = [x[tr_idx], x[va_idx], x_te]
    if scale:
        if is_image:
            parts = [_image_float(p, name) for p in parts]
        else:
            mean = parts[0].float().mean(0)
            std = parts[0].float().std(0).clamp_min(1e-8)
            parts = [(p.float() - mean) / std for p in parts]
    return Splits(name, parts[0], y[tr_idx], parts[1], y[va_idx], parts[2], y_te, classes)


def _image_float(x: torch.Tensor, name: str) -> torch.Tensor:
    import torch

    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    else:
        x = x.float()
    if x.dim() == 3 and name != "digits":  # (N, H, W) grey images -> (N, 1, H, W)
        x = x.unsqueeze(1)
    return x.contiguous()
