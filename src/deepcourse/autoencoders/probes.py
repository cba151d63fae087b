"""The linear probe: how linearly separable the classes are in a learned code space.

Labels never train the autoencoder; they are used only afterwards, to fit a multinomial logistic
regression on the (standardised) codes of the training images and score it on the test codes. A
higher probe accuracy means the unsupervised code kept the class structure (notes 3, "Example":
the digits of an MNIST autoencoder cluster in its latent space).
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

__all__ = ["linear_probe"]


def linear_probe(z_train: Tensor, y_train: Tensor, z_test: Tensor, y_test: Tensor, *, max_train: int = 10000,
                 seed: int = 0, max_iter: int = 100) -> float:
    """Test accuracy (0..1) of a logistic regression fitted on ``z_train`` (N, d) -> ``y_train`` (N,).

    At most ``max_train`` training codes are used (a seeded subsample) and at most ``max_iter`` L-BFGS
    iterations: on 500-D MNIST codes 300 iterations took 31 s for +0.2 points over 100 (14 s)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    from deepcourse.metrics import accuracy

    if len(z_train) != len(y_train) or len(z_test) != len(y_test):
        raise ValueError(f"codes and labels must pair up: {len(z_train)} vs {len(y_train)} (train), "
                         f"{len(z_test)} vs {len(y_test)} (test)")
    zt, yt = z_train.detach().cpu().double(), y_train.cpu()
    if len(zt) > max_train:
        keep = torch.randperm(len(zt), generator=torch.Generator().manual_seed(seed))[:max_train]
        zt, yt = zt[keep], yt[keep]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    # NumPy's BLAS follows torch's thread count (the run's --threads): its own default spun on a busy CPU,
    # 4.8 s of CPU time for a 0.06 s fit on 2,000 64-D codes
    with warnings.catch_warnings(), threadpool_limits(torch.get_num_threads(), user_api="blas"):
        warnings.simplefilter("ignore")  # ConvergenceWarning at the iteration cap is expected
        clf.fit(zt.numpy(), yt.numpy())
        pred = torch.from_numpy(clf.predict(z_test.detach().cpu().double().numpy()))
    return accuracy(pred, y_test.cpu())
