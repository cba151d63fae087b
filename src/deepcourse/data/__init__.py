"""Datasets for deepcourse: a verified registry of real datasets, scikit-learn's bundled sets, and seeded
synthetic generators.

Real data (MNIST, Fashion-MNIST, USPS, CIFAR-10 JPEG copy, the text, music and sensor sets of :mod:`.sequences`, the UCI tables of :mod:`.uci`) is looked for under the data root
(``--data-dir`` > ``$DEEPCOURSE_DATA`` > ``~/.cache/deepcourse``) and verified by size and sha256 before use.
A missing dataset raises :class:`DataMissingError` (a ``FileNotFoundError``) whose message lists every
path searched and how to get the data; a damaged one raises :class:`DataCorruptError` (a ``ValueError``).

Importing this package is cheap: torchvision, scikit-learn, scipy and Pillow are imported inside the
functions that need them. See :mod:`deepcourse.data.registry` for the functions the CLI calls.
"""

from __future__ import annotations

from .download import download_file, safe_extract, sha256_file
from .embedded import SKLEARN_DATASETS, load_sklearn
from .errors import DataCorruptError, DataError, DataMissingError, DownloadError, UnsafeArchiveError
from .registry import (DatasetSpec, FileCheck, FileSpec, all_ok, check, download, format_check, format_list,
                       get_spec, list_datasets, load_dataset, load_tensors, register_dataset,
                       unregister_dataset, verify, where)
from .roots import data_root, derived_dir
from .splits import Splits, load_splits, random_partition, stratified_subset, train_val_split
from .synthetic import (FUNCTIONS_1D, function_1d, gaussian_grid, gaussian_grid_centres,
                        regression_with_outliers, spirals, two_moons, xor)
from . import builtin as _builtin  # noqa: F401  registers mnist, fashion-mnist, usps, cifar10-jpeg
from . import graphs as _graphs  # noqa: F401  registers the TU, Planetoid and MoleculeNet graph sets
from .uci import UCI_TABLES, load_uci  # noqa: E402  registers abalone and htru2
from .sequences import (OCCUPANCY_FEATURES, CharCorpus, load_char_corpus, load_jsb_chorales,  # noqa: E402
                        load_occupancy)

__all__ = [
    "DataError", "DataMissingError", "DataCorruptError", "DownloadError", "UnsafeArchiveError",
    "data_root", "derived_dir",
    "FileSpec", "DatasetSpec", "FileCheck", "register_dataset", "unregister_dataset", "get_spec",
    "list_datasets", "where", "check", "all_ok", "verify", "download", "load_tensors", "load_dataset",
    "format_list", "format_check",
    "download_file", "safe_extract", "sha256_file",
    "load_sklearn", "SKLEARN_DATASETS",
    "xor", "two_moons", "spirals", "gaussian_grid", "gaussian_grid_centres", "function_1d", "FUNCTIONS_1D",
    "regression_with_outliers",
    "train_val_split", "random_partition", "stratified_subset", "load_splits", "Splits",
    "CharCorpus", "load_char_corpus", "load_jsb_chorales", "load_occupancy", "OCCUPANCY_FEATURES",
    "load_uci", "UCI_TABLES",
]
