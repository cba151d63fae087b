"""scikit-learn's bundled datasets as tensors (shipped inside the scikit-learn wheel: always offline).

================  ========  ========  =================================================================
name              samples   features  target
================  ========  ========  =================================================================
``digits``        1,797     64        int64 digit 0..9 (8x8 images flattened, pixel values 0..16)
``iris``          150       4         int64 species 0..2 (Fisher 1936)
``wine``          178       13        int64 cultivar 0..2
``breast_cancer`` 569       30        int64 0 = malignant, 1 = benign (Wisconsin diagnostic)
``diabetes``      442       10        float32 disease progression after one year (Efron et al. 2004)
================  ========  ========  =================================================================

Features are returned as float32 without any scaling (standardise them yourself; the diabetes features
are already mean-centred and scaled by scikit-learn).
"""

from __future__ import annotations

__all__ = ["load_sklearn", "SKLEARN_DATASETS"]

SKLEARN_DATASETS = ("digits", "iris", "wine", "breast_cancer", "diabetes")


def load_sklearn(name: str):
    """Return ``(x, y)`` tensors for one of :data:`SKLEARN_DATASETS` (``breast-cancer`` also accepted).

    ``x`` is float32 ``(N, D)``; ``y`` is int64 ``(N,)``, except for ``diabetes`` (regression) where it is
    float32 ``(N,)``.
    """
    key = str(name).replace("-", "_")
    if key not in SKLEARN_DATASETS:
        raise ValueError(f"name must be one of {', '.join(SKLEARN_DATASETS)}; got {name!r}")
    import numpy as np
    import torch
    from sklearn import datasets

    x, y = getattr(datasets, f"load_{key}")(return_X_y=True)
    y_dtype = np.float32 if key == "diabetes" else np.int64
    return (torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(y, dtype=y_dtype)))
