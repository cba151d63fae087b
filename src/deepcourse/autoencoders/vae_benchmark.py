"""The VAE density benchmark of Burda, Grosse & Salakhutdinov 2016 on one image dataset.

Train the 1-stochastic-layer MLP VAE (Kingma & Welling 2014; 784-200-200-50 tanh, Bernoulli decoder) on
dynamically binarised images, then score it on one fixed binarisation of the test images:

* the test ELBO (all test images) and the importance-weighted NLL with ``k`` samples (the first ``n_iw``);
* the NLL of independent Bernoulli pixels with the training means, the model with no latent structure:
  ``nll_vs_baseline`` < 1 means the latent code explains something;
* the active units (Burda et al. 2016, Section 5: Cov_x(E_q[z_j]) > 0.01);
* the domain FID of decoder means at z ~ N(0, I), against the same network before training;
* the notes' figures: the quantile grid and the test posterior means of a second, 2-D VAE, samples,
  reconstructions, an interpolation.

``vae-mnist`` and ``vae-fashion`` run it on MNIST and Fashion-MNIST.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import Tensor

from deepcourse.core import Run, eval_mode, param, predict

from . import latent as LT
from .sample_fid import DomainFID, draw_samples
from .vae import VAE, dense_vae, evaluate_vae, iwae_nll, train_vae

__all__ = ["VAEBenchmarkConfig", "run_vae_benchmark", "pixel_baseline_nll", "active_units"]


@dataclass
class VAEBenchmarkConfig:
    subset: int | None = param(None, ge=100, help="training images (a fixed stratified subset); None: all")
    test_subset: int | None = param(None, ge=100, help="test images (a fixed stratified subset); None: all")
    hidden: int = param(200, ge=1, help="units in each of the two tanh hidden layers (Burda et al. 2016: 200)")
    latent_dim: int = param(50, ge=1, help="latent units (Burda et al. 2016: 50)")
    epochs: int = param(30, ge=1)
    batch_size: int = param(100, ge=1)
    lr: float = param(1e-3, gt=0, help="Adam learning rate")
    beta: float = param(1.0, ge=0, help="KL weight (1: the ELBO; > 1: beta-VAE)")
    binarize: bool = param(True, help="dynamic binarisation of the training images (Burda et al. 2016)")
    k: int = param(5000, ge=1, help="importance samples for the test NLL (Burda et al. 2016: 5000)")
    n_iw: int = param(1000, ge=1, help="test images scored with the importance-weighted NLL")
    grid_epochs: int = param(10, ge=0, help="epochs of the 2-D latent VAE drawn as the quantile grid (0: no 2-D "
                                           "model; the grid varies z1, z2 of the main one)")
    grid_n: int = param(15, ge=2, help="quantile grid side")
    n_fid: int = param(5000, ge=50, help="samples (and test images) for the domain FID")
    fid_features: str = param("full", choices=("full", "small"),
                              help="the FID network's recipe: small (2,000 images, seconds) for quick runs")


def pixel_baseline_nll(x_train: Tensor, x_test: Tensor) -> float:
    """NLL (nats per image) of binary ``x_test`` under independent Bernoulli pixels with the mean
    intensities of ``x_train``: the model with no latent structure, which any VAE must beat."""
    p = x_train.mean(0).clamp(1e-3, 1 - 1e-3)  # (C, H, W)
    ll = x_test * p.log() + (1 - x_test) * (1 - p).log()  # (N, C, H, W)
    return float(-ll.flatten(1).sum(1).mean())


def active_units(model: VAE, x: Tensor, threshold: float = 0.01) -> float:
    """Latent dimensions whose posterior mean varies across the data, Cov_x(E_q[z_j]) > ``threshold``
    (Burda et al. 2016, Section 5)."""
    with eval_mode(model):
        mu = predict(lambda b: model.encode(b)[0], x, 1000, device=x.device)  # (N, d)
    return float((mu.var(0) > threshold).sum())


def run_vae_benchmark(cfg: VAEBenchmarkConfig, run: Run, dataset: str, title: str) -> dict[str, float]:
    """Train and score the VAE on ``dataset`` (see the module docstring); returns the metrics."""
    from deepcourse.data import load_splits
    from deepcourse.viz import image_grid, loss_curves

    splits = load_splits(dataset, run, val=0, subset=cfg.subset, test_subset=cfg.test_subset)
    x, xt, yt = splits.x_train, splits.x_test, splits.y_test  # images (N, 1, H, W) in [0, 1]
    # one binarisation of the test images, the same for every run and seed (Burda et al. score a fixed one)
    xt_bin = torch.bernoulli(xt, generator=torch.Generator().manual_seed(0))
    shape = tuple(x.shape[1:])
    hw = shape[1:]
    run.manual_seed("vae-init")
    model = dense_vae(shape, (cfg.hidden, cfg.hidden), cfg.latent_dim, beta=cfg.beta).to(run.device)
    n_fid = min(cfg.n_fid, len(xt))
    untrained = draw_samples(model, n_fid, run.generator("samples"))  # the FID reference: the net before training
    t0 = time.perf_counter()
    state = train_vae(model, x, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, binarize=cfg.binarize,
                      run=run, name="vae/", seed=run.seed, device=run.device)
    train_s = time.perf_counter() - t0
    xe = xt_bin.to(run.device)
    ev = evaluate_vae(model, xe)
    sub = xe[:cfg.n_iw]
    run.manual_seed("iwae")
    with eval_mode(model):
        neg_elbo_sub = evaluate_vae(model, sub)["neg_elbo"]
        t1 = time.perf_counter()
        nll = float(iwae_nll(model, sub, k=cfg.k).mean())
        iw_s = time.perf_counter() - t1
    active = active_units(model, xe)
    # the 2-D model for the notes' quantile grid and latent scatter
    m2, extra = model, {}
    if cfg.latent_dim != 2 and cfg.grid_epochs:
        run.manual_seed("vae2d-init")
        m2 = dense_vae(shape, (cfg.hidden, cfg.hidden), 2, beta=cfg.beta).to(run.device)
        train_vae(m2, x, epochs=cfg.grid_epochs, batch_size=cfg.batch_size, lr=cfg.lr, binarize=cfg.binarize,
                  run=run, name="vae2d/", seed=run.seed, device=run.device)
        extra["neg_elbo_2d"] = evaluate_vae(m2, xe)["neg_elbo"]
    d2 = m2.latent_dim
    grid_label, scatter_label = ("2-D VAE",) * 2 if d2 == 2 else (f"VAE (z1, z2 of {d2}, the rest 0)",
                                                                   f"VAE ({d2}-D, PCA to 2-D)")
    with eval_mode(m2):
        mu2 = predict(lambda b: m2.encode(b)[0], xe, 1000, device=run.device)  # (N, d2), PCA-projected if d2 > 2

    curve = [(r["epoch"], r["train_loss"]) for r in state.history]
    run.save_figure("elbo_curve", loss_curves({"-ELBO (train, binarised)": curve}, ylabel="nats per image",
                                              xlabel="epoch"))
    samples = draw_samples(model, 64, run.generator("shown-samples"))
    run.save_figure("samples", image_grid(samples, nrow=8, title=f"{title}: decoder means at z ~ N(0, I)"))
    with eval_mode(model):
        recon = predict(model.reconstruct, xt[:10], device=run.device)  # (10, 1, H, W)
    run.save_figure("reconstructions", LT.reconstruction_grid(xt[:10], recon, n=10,
                                                              title="test images and reconstructions"))
    run.save_figure("quantile_grid", LT.quantile_grid(m2.decoder, n=cfg.grid_n, image_shape=hw,
                                                      latent_dim=m2.latent_dim, apply_sigmoid=True,
                                                      title=f"{grid_label}: decoder on N(0,1) quantiles"))
    run.save_figure("latent_2d", LT.latent_scatter(mu2[:2000], yt[:2000], title=f"{scatter_label}: test posterior means"))
    pairs = xt[:8].to(run.device), xt[8:16].to(run.device)
    run.save_figure("interpolation", LT.interpolation_strip(lambda b: model.encode(b)[0], model.mean, *pairs, steps=8,
                                                            image_shape=hw, title="VAE: linear interpolation of mu"))
    fid = DomainFID(dataset, run, xt[:n_fid], cfg.fid_features)
    fid_trained, fid_untrained = fid(draw_samples(model, n_fid, run.generator("samples"))), fid(untrained)
    base = pixel_baseline_nll(x, xt_bin)
    return {"test_nll": nll, "test_neg_elbo": ev["neg_elbo"], "test_kl": ev["kl"], "test_rec": -ev["rec"],
            "iw_gap": neg_elbo_sub - nll, "nll_pixel_baseline": base, "nll_vs_baseline": nll / base,
            "active_units": active, **extra, "fid": fid_trained, "fid_untrained": fid_untrained,
            "fid_ratio": fid_trained / fid_untrained, "train_seconds": train_s, "iw_seconds": iw_s}
