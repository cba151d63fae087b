"""Plain, sparse, contractive and denoising autoencoders; the linear AE that finds PCA.

All four share one model, :class:`Autoencoder` (an encoder f and a decoder g), and differ only
in the training objective (notes 3, "Regularizing autoencoders"):

* plain:        L(x, g(f(x)))
* sparse:       L(x, g(f(x))) + lambda * sum_i |z_i|         -- an L1 penalty on the *code*
  z = f(x), not on the weights (Ranzato et al. 2007; Goodfellow et al. 2016, eq. 14.2)
* contractive:  L(x, g(f(x))) + lambda * ||J_f(x)||_F^2       -- J_f = dz/dx, the derivative of the
  code with respect to the *input*, not the weights (Rifai, Vincent, Muller, Glorot & Bengio 2011, eq. 2)
* denoising:    L(x, g(f(x~))), x~ ~ q(x~ | x) a corruption   (Vincent et al. 2008, sec. 2.3)

With L2 loss and linear f, g the autoencoder spans the principal subspace of the data
(Baldi & Hornik 1989; Bourlard & Kamp 1988): :func:`linear_ae_pca` trains one and
:func:`principal_angles` measures how far its decoder's column space is from PCA's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepcourse.core.models import register_model

from .corruption import NOISE_KINDS, corrupt
from .networks import DenseDecoder, DenseEncoder

__all__ = [
    "Autoencoder",
    "SigmoidEncoder",
    "LinearAutoencoder",
    "dense_autoencoder",
    "sigmoid_autoencoder",
    "reconstruction_loss",
    "sparse_penalty",
    "contractive_penalty",
    "jacobian_frobenius",
    "code_sparsity",
    "train_autoencoder",
    "autoencoder_loss",
    "AE_KINDS",
    "principal_angles",
    "linear_ae_pca",
    "pca_basis",
]

AE_KINDS = ("plain", "sparse", "contractive", "denoising")


class Autoencoder(nn.Module):
    """g o f: ``encode(x) = f(x) = z``, ``decode(z) = g(z)``, ``forward(x) -> (x_hat, z)``.

    ``x_hat`` is reshaped to ``x``'s shape when the decoder's output has as many values per
    sample (a conv decoder's (N, 1, 8, 8) for flat (N, 64) digits)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        if not isinstance(encoder, nn.Module) or not isinstance(decoder, nn.Module):
            raise TypeError(f"encoder and decoder must be nn.Modules, got {type(encoder).__name__} and {type(decoder).__name__}")
        self.encoder, self.decoder = encoder, decoder

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = self.encoder(x)  # (N, d)
        x_hat = self.decoder(z)
        if x_hat.shape != x.shape and x_hat[0].numel() == x[0].numel():
            x_hat = x_hat.reshape(x.shape)
        return x_hat, z

    def reconstruct(self, x: Tensor) -> Tensor:
        """g(f(x)) alone, shaped like ``x`` (for :func:`deepcourse.core.predict`)."""
        return self(x)[0]


@register_model("ae-sigmoid-encoder", example_input=lambda: torch.randn(4, 16), small=dict(in_features=16, out_features=3))
class SigmoidEncoder(nn.Module):
    """One sigmoid layer z = sigmoid(W x + b) (the encoder of Rifai et al. 2011, sec. 3, and of
    Vincent et al. 2008): the case whose contractive penalty has a closed form."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        self.in_features, self.out_features = in_features, out_features
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.linear(x.flatten(1)))  # (N, d)


@register_model("ae-linear", example_input=lambda: torch.randn(4, 16), small=dict(in_features=16, latent_dim=3))
class LinearAutoencoder(Autoencoder):
    """x_hat = W2 (W1 x) (+ biases when ``bias``): the linear autoencoder of Baldi & Hornik (1989).
    For centred data no biases are needed."""

    def __init__(self, in_features: int, latent_dim: int, bias: bool = False):
        if latent_dim > in_features:
            raise ValueError(f"latent_dim must be <= in_features ({in_features}), got {latent_dim}")
        super().__init__(nn.Linear(in_features, latent_dim, bias=bias), nn.Linear(latent_dim, in_features, bias=bias))


@register_model("ae-sigmoid", example_input=lambda: torch.rand(4, 16), small=dict(in_features=16, hidden=3))
def sigmoid_autoencoder(in_features: int, hidden: int) -> Autoencoder:
    """One sigmoid layer each way, z = sigmoid(W x + b), x_hat = sigmoid(W' z + b'): the autoencoder of
    Vincent et al. 2008 and Rifai et al. 2011, on which ``ae-regularisers`` compares the four objectives."""
    return Autoencoder(SigmoidEncoder(in_features, hidden), nn.Sequential(nn.Linear(hidden, in_features), nn.Sigmoid()))


@register_model("ae-dense", example_input=lambda: torch.rand(4, 64),
                small=dict(in_features=64, hidden=(16,), latent_dim=2))
def dense_autoencoder(in_features: int, hidden: Sequence[int], latent_dim: int, activation: str = "relu",
                      output: str = "sigmoid") -> Autoencoder:
    """A mirrored dense :class:`Autoencoder` (DenseEncoder + DenseDecoder) for flat inputs."""
    return Autoencoder(DenseEncoder(in_features, hidden, latent_dim, activation=activation),
                       DenseDecoder(latent_dim, tuple(reversed(tuple(hidden))), (in_features,), activation=activation,
                                    output=output))


# ------------------------------------------------------------------------------ losses
def reconstruction_loss(x_hat: Tensor, x: Tensor, kind: str = "mse") -> Tensor:
    """Mean over all entries of the squared error (``"mse"``) or of the Bernoulli cross-entropy
    with ``x_hat`` as *logits* (``"bce"``; numerically stable, x in [0, 1])."""
    if x_hat.shape != x.shape:
        if x_hat.numel() != x.numel():
            raise ValueError(f"x_hat {tuple(x_hat.shape)} and x {tuple(x.shape)} must have the same number of values")
        x_hat = x_hat.reshape(x.shape)
    if kind == "mse":
        return F.mse_loss(x_hat, x)
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(x_hat, x)
    raise ValueError(f"kind must be 'mse' or 'bce', got {kind!r}")


def sparse_penalty(z: Tensor, lam: float = 1.0) -> Tensor:
    """lambda * mean over the batch of sum_i |z_i| -- L1 on the code, not the weights
    (Goodfellow et al. 2016, eq. 14.2 with the Laplace prior; notes 3: "penalization for signal")."""
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    return lam * z.abs().flatten(1).sum(1).mean()


def _closed_form_linear(encoder: nn.Module) -> nn.Linear:
    if isinstance(encoder, SigmoidEncoder):
        return encoder.linear
    if isinstance(encoder, nn.Sequential) and len(encoder) == 2 and isinstance(encoder[0], nn.Linear) \
            and isinstance(encoder[1], nn.Sigmoid):
        return encoder[0]
    raise TypeError("method='closed_form' needs a single sigmoid layer z = sigmoid(Wx + b): a SigmoidEncoder or "
                    f"nn.Sequential(nn.Linear, nn.Sigmoid); got {type(encoder).__name__} (use method='autograd')")


def jacobian_frobenius(encoder: nn.Module, x: Tensor, method: str = "autograd", create_graph: bool = False) -> Tensor:
    """Per-sample squared Frobenius norm ||J_f(x)||_F^2 = sum_{j,i} (dz_j/dx_i)^2, shape (N,).

    ``"closed_form"`` (one sigmoid layer, Rifai et al. 2011, eq. 7):
    ||J||_F^2 = sum_j (z_j (1 - z_j))^2 ||W_j||^2, with W_j the j-th row of W.
    ``"autograd"`` (any encoder): one reverse pass per code unit j gives row j of J for the
    whole batch at once (samples do not interact; BatchNorm in training mode would break this,
    so call it with the encoder in eval mode or without BatchNorm); ``create_graph=True``
    keeps the graph so the penalty can be differentiated again (double backward).
    """
    if method == "closed_form":
        lin = _closed_form_linear(encoder)
        z = torch.sigmoid(lin(x.flatten(1)))  # (N, d)
        w2 = lin.weight.pow(2).sum(1)  # (d,): ||W_j||^2
        return (z * (1 - z)).pow(2) @ w2  # (N,)
    if method != "autograd":
        raise ValueError(f"method must be 'autograd' or 'closed_form', got {method!r}")
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        z = encoder(xg)  # (N, d)
        if z.dim() != 2:
            raise ValueError(f"encoder must return codes of shape (N, d), got {tuple(z.shape)}")
        total = x.new_zeros(x.shape[0])
        for j in range(z.shape[1]):  # d reverse passes (loop over code units, not samples)
            (g,) = torch.autograd.grad(z[:, j].sum(), xg, create_graph=create_graph, retain_graph=True)
            total = total + g.flatten(1).pow(2).sum(1)  # (N,)
    return total


def contractive_penalty(encoder: nn.Module, x: Tensor, method: str = "autograd", lam: float = 1.0) -> Tensor:
    """lambda * mean over the batch of ||dz/dx||_F^2 (Rifai et al. 2011, eq. 2), differentiable
    with respect to the encoder's weights (``"autograd"`` uses double backward)."""
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    return lam * jacobian_frobenius(encoder, x, method=method, create_graph=True).mean()


def code_sparsity(z: Tensor, eps: float = 0.05) -> dict[str, float]:
    """Sparsity of codes (N, d): the fraction of entries with |z| < eps and the mean |z|."""
    z = z.detach()
    return {"frac_small": float((z.abs() < eps).float().mean()), "mean_abs": float(z.abs().mean())}


# ------------------------------------------------------------------------------ training
def autoencoder_loss(model: Autoencoder, x: Tensor, kind: str = "plain", lam: float = 0.0, noise: str = "masking",
                     noise_level: float = 0.25, loss: str = "mse", contractive_method: str | None = None,
                     generator: torch.Generator | None = None) -> dict[str, Tensor]:
    """The objective of one AE variant on a batch: {"loss", "rec", "penalty"}."""
    if kind not in AE_KINDS:
        raise ValueError(f"kind must be one of {AE_KINDS}, got {kind!r}")
    x_in = corrupt(x, noise, noise_level, generator) if kind == "denoising" else x
    x_hat, z = model(x_in)
    rec = reconstruction_loss(x_hat, x, loss)  # target is always the clean x
    if kind == "sparse":
        pen = sparse_penalty(z, lam)
    elif kind == "contractive":
        method = contractive_method or ("closed_form" if isinstance(model.encoder, SigmoidEncoder) else "autograd")
        pen = contractive_penalty(model.encoder, x, method=method, lam=lam)
    else:
        pen = rec.new_zeros(())
    return {"loss": rec + pen, "rec": rec.detach(), "penalty": pen.detach()}


def train_autoencoder(model: Autoencoder, x_train: Tensor, *, kind: str = "plain", lam: float = 0.0,
                      noise: str = "masking", noise_level: float = 0.25, loss: str = "mse", run: Any = None,
                      epochs: int = 20, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 0.0,
                      seed: int = 0, device: torch.device | str | None = None, callbacks: Sequence[Any] = (),
                      log_prefix: str = "", checkpoint_path: Any = None, desc: str | None = None) -> Any:
    """Train ``model`` as a ``kind`` autoencoder with Adam (Kingma & Ba 2015) through
    ``deepcourse.core.fit`` (progress bar, NaN guard, checkpoints and exact resume with ``run``).

    ``lam``: weight of the sparse/contractive penalty; ``noise``/``noise_level``: the corruption
    of the denoising AE (drawn from torch's global generator, which ``fit`` checkpoints).
    Returns fit's ``FitState`` (``history`` holds the per-epoch means of loss/rec/penalty).
    """
    from deepcourse.core import TensorLoader, fit

    if kind not in AE_KINDS:
        raise ValueError(f"kind must be one of {AE_KINDS}, got {kind!r}")
    if noise not in NOISE_KINDS:
        raise ValueError(f"noise must be one of {NOISE_KINDS}, got {noise!r}")
    if loss not in ("mse", "bce"):
        raise ValueError(f"loss must be 'mse' or 'bce', got {loss!r}")
    if kind in ("sparse", "contractive") and lam <= 0:
        raise ValueError(f"lam must be > 0 for a {kind} autoencoder, got {lam}")
    device = torch.device(device) if device is not None else (run.device if run is not None else torch.device("cpu"))
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, foreach=True)
    loader = TensorLoader(x_train, batch_size=batch_size, shuffle=True, seed=seed, device=device)

    def step(x: Tensor) -> dict[str, Tensor]:
        return autoencoder_loss(model, x, kind, lam, noise, noise_level, loss)

    if run is not None and checkpoint_path is None and log_prefix:
        checkpoint_path = run.out / f"checkpoint_{log_prefix.strip('/').replace('/', '_')}.pt"
    model.train()
    state = fit(step, loader, epochs=epochs, model=model, optimizer=opt, run=run, callbacks=callbacks,
                desc=desc or f"{kind} AE", log_prefix=log_prefix, checkpoint_path=checkpoint_path)
    model.eval()
    return state


# ------------------------------------------------------------------------------ linear AE = PCA
def principal_angles(a: Any, b: Any) -> np.ndarray:
    """Principal angles (radians, ascending) between the column spaces of ``a`` (D, k) and ``b``
    (D, l) (Bjorck & Golub 1973): 0 for a shared direction, pi/2 for orthogonal ones.
    Uses ``scipy.linalg.subspace_angles`` (which returns them descending)."""
    from scipy.linalg import subspace_angles

    a = a.detach().cpu().double().numpy() if isinstance(a, Tensor) else np.asarray(a, dtype=float)
    b = b.detach().cpu().double().numpy() if isinstance(b, Tensor) else np.asarray(b, dtype=float)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"a and b must be matrices (D, k) and (D, l) with the same D, got {a.shape} and {b.shape}")
    return np.sort(subspace_angles(a, b))


def pca_basis(x: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Top-``k`` principal directions (D, k) of x (N, D) and all eigenvalues of its covariance
    (descending), from the SVD of the centred data."""
    xc = x - x.mean(0, keepdim=True)  # (N, D)
    _, s, vh = torch.linalg.svd(xc.double(), full_matrices=False)
    return vh[:k].T.to(x.dtype), (s ** 2 / max(len(x) - 1, 1)).to(x.dtype)


class _FullBatch:
    """The whole data set as one batch, ``repeats`` times per epoch (a loader for ``fit``)."""

    def __init__(self, x: Tensor, repeats: int):
        self.x, self.repeats = x, repeats

    def __len__(self) -> int:
        return self.repeats

    def __iter__(self):
        for _ in range(self.repeats):
            yield self.x


def linear_ae_pca(x: Tensor, latent_dim: int, *, steps: int = 2000, lr: float = 1e-2, batch_size: int | None = None,
                  gram: bool = False, run: Any = None, seed: int = 0, log_prefix: str = "") -> dict[str, Any]:
    """Train a bias-free :class:`LinearAutoencoder` with L2 loss on the centred ``x`` (N, D) and
    compare its decoder's column space with the top-``latent_dim`` PCA subspace.

    Baldi & Hornik (1989, Fact 2 / Theorem 1): every local minimum of the L2 loss of a linear
    autoencoder is global and its decoder spans the principal subspace (the weights are not
    the eigenvectors themselves, only their span up to an invertible map). Returns
    ``{"model", "angles" (radians, ascending), "pca" (D, k), "mse_ae", "mse_pca"}``.

    ``gram=True`` (full batch only): the L2 loss of a linear map depends on the data only
    through X^T X, so training on the r = rank-sized "virtual batch" R = sqrt(r / N) S V^T
    (from the SVD X = U S V^T, R^T R / r = X^T X / N) gives the same loss and gradients at
    every step for a cost of O(D^2 k) instead of O(N D k) -- what makes MNIST feasible on a CPU.
    """
    from deepcourse.core import TensorLoader, fit

    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or not 1 <= latent_dim <= x.shape[1]:
        raise ValueError(f"latent_dim must be an int in [1, {x.shape[1]}], got {latent_dim!r}")
    x = x.flatten(1)
    xc = x - x.mean(0, keepdim=True)  # centred: no biases needed
    device = run.device if run is not None else torch.device("cpu")
    model = LinearAutoencoder(xc.shape[1], latent_dim, bias=False).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    if batch_size and gram:
        raise ValueError("gram=True replaces the full batch; it cannot be combined with batch_size")
    _, s_, vh = torch.linalg.svd(xc.double(), full_matrices=False)  # xc = U S V^T, one SVD for PCA and gram
    if batch_size:
        loader: Any = TensorLoader(xc, batch_size=batch_size, shuffle=True, seed=seed)
    else:  # full batch; an "epoch" of 100 steps keeps fit's per-epoch checkpoints and logs rare
        data = xc
        if gram:
            data = (math.sqrt(len(s_) / len(xc)) * s_[:, None] * vh).to(xc.dtype)  # (r, D): R^T R / r = X^T X / N
        loader = _FullBatch(data, min(100, steps))
    epochs = max(1, math.ceil(steps / len(loader)))

    def step(xb: Tensor) -> dict[str, Tensor]:
        x_hat, _ = model(xb)
        return {"loss": reconstruction_loss(x_hat, xb)}

    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))
    fit(step, loader, max_steps=steps, model=model, optimizer=opt, scheduler=sched, scheduler_interval="step",
        run=run, desc="linear AE", log_every=max(1, steps // 50), log_prefix=log_prefix)
    model.eval().cpu()
    pca = vh[:latent_dim].T.to(xc.dtype)  # (D, k): the top principal directions, as pca_basis gives them
    with torch.no_grad():
        mse_ae = float(reconstruction_loss(model(xc)[0], xc))
        mse_pca = float(reconstruction_loss(xc @ pca @ pca.T, xc))
    return {"model": model, "angles": principal_angles(model.decoder.weight, pca), "pca": pca,
            "mse_ae": mse_ae, "mse_pca": mse_pca}
