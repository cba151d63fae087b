"""Regularised autoencoders (notes 3, "Regularizing autoencoders"): sparse (Ranzato et al. 2007),
contractive (Rifai et al. 2011) and denoising (Vincent et al. 2008) against a plain one."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deepcourse.core import Reference, Run, at_least, at_most, eval_mode, experiment, param, predict

from .. import latent as LT
from ..comparison_figure import comparison_panels
from ..corruption import NOISE_KINDS, corrupt
from ..probes import linear_probe
from ..models import (AE_KINDS, code_sparsity, jacobian_frobenius, reconstruction_loss, sigmoid_autoencoder,
                      train_autoencoder)


@dataclass
class RegConfig:
    dataset: str = param("mnist", choices=("mnist", "fashion-mnist", "usps"))
    subset: int | None = param(None, ge=100, help="training images (a fixed stratified subset); None: all")
    test_subset: int | None = param(None, ge=100, help="test images (a fixed stratified subset); None: all")
    hidden: int = param(64, ge=1, help="code units: one sigmoid layer z = sigmoid(Wx + b) for every variant")
    sparse_lam: float = param(1e-3, gt=0, help="weight of the L1 penalty on the code")
    contractive_lam: float = param(1e-3, gt=0, help="weight of ||dz/dx||_F^2")
    noise: str = param("masking", choices=NOISE_KINDS, help="corruption of the denoising AE (and of the noisy test set)")
    noise_level: float = param(0.3, ge=0, le=1, help="masking/salt-and-pepper fraction, or Gaussian std")
    epochs: int = param(30, ge=1)
    batch_size: int = param(64, ge=1)
    lr: float = param(1e-2, gt=0)
    eps: float = param(0.05, gt=0, help="|z| < eps counts as an inactive code unit")


# the table's columns: metric key -> heading
COLUMNS = {"rec": "rec. MSE (clean)", "rec_noisy": "rec. MSE (corrupted)", "mean_abs": "mean |z|",
           "frac_small": "frac |z| < eps", "sensitivity": "||dz/dx||_F", "probe_acc": "linear probe acc."}


@experiment(
    name="ae-regularisers", module="3", title="Plain vs sparse vs contractive vs denoising autoencoders",
    paper=Reference("notes 3 'Regularizing autoencoders'; Vincent et al. 2008 (denoising); "
                    "Rifai et al. 2011 (contractive); Ranzato et al. 2007 (sparse)", {}),
    quick=RegConfig(subset=2000, test_subset=1000, epochs=15, noise_level=0.5),
    full=RegConfig(hidden=500, sparse_lam=3e-4, contractive_lam=1e-4, epochs=10, batch_size=64, lr=1e-3),
    # seeds 0-4, threads 1 and 2: sparse_code_ratio 0.13-0.16, contractive_sens_ratio 0.30-0.33, denoising_noisy_ratio
    # 0.69-0.71, plain_rec 0.027-0.032, plain_probe_acc 0.83-0.88. With the penalties off (sparse_lam and
    # contractive_lam 1e-9, noise_level 0) the three ratios are 1.00 and fail.
    floor={"sparse_code_ratio": at_most(0.6), "contractive_sens_ratio": at_most(0.7),
           "denoising_noisy_ratio": at_most(0.85), "plain_rec": at_most(0.04), "plain_probe_acc": at_least(0.8)},
    primary="denoising_noisy_ratio", threads=1,
)
def ae_regularisers(cfg: RegConfig, run: Run) -> dict[str, float]:
    """Four autoencoders with one architecture (a sigmoid code layer of ``hidden`` units) and four
    objectives. Per variant: reconstruction MSE on clean and on corrupted test inputs (target:
    the clean image), code sparsity (mean |z| and the fraction |z| < eps), latent sensitivity
    (mean ||dz/dx||_F over the test set) and linear-probe accuracy of the codes. The floors
    encode the expected ordering: sparse codes are sparser than plain ones, the contractive
    encoder is less sensitive, the denoising AE restores corrupted inputs better. Full: MNIST
    with 500 units and 10 epochs per variant (~50 s per epoch for all four on a 2-core CPU, ~10
    minutes in all; Vincent et al. and Rifai et al. train 1000+ units for far longer)."""
    from deepcourse.data import load_splits
    from deepcourse.viz import image_grid

    splits = load_splits(cfg.dataset, run, val=0, subset=cfg.subset, test_subset=cfg.test_subset)
    x_tr, x_te = splits.x_train.flatten(1), splits.x_test.flatten(1)  # (N, H*W) in [0, 1]
    hw = tuple(splits.x_train.shape[2:])
    x_te_noisy = corrupt(x_te, cfg.noise, cfg.noise_level, run.generator("test-noise"))  # one set for all variants
    lam = {"plain": 0.0, "sparse": cfg.sparse_lam, "contractive": cfg.contractive_lam, "denoising": 0.0}
    out: dict[str, float] = {}
    rows, recon_noisy, filters = [], [], []
    for kind in AE_KINDS:
        run.manual_seed("init")  # the same initial weights for every variant
        model = sigmoid_autoencoder(x_tr.shape[1], cfg.hidden).to(run.device)  # one architecture for all four
        train_autoencoder(model, x_tr, kind=kind, lam=lam[kind], noise=cfg.noise, noise_level=cfg.noise_level, run=run,
                          epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, seed=run.seed,
                          log_prefix=f"{kind}/", desc=kind)
        z_tr, z_te = predict(model.encoder, x_tr), predict(model.encoder, x_te)  # (N, hidden)
        with eval_mode(model):
            x_hat, xr_noisy = (predict(model.reconstruct, x, device=run.device) for x in (x_te, x_te_noisy))
        sens = predict(lambda b: jacobian_frobenius(model.encoder, b, method="closed_form"), x_te, 1000,
                       device=run.device).sqrt().mean()  # mean ||dz/dx||_F
        m = {"rec": float(reconstruction_loss(x_hat, x_te)), "rec_noisy": float(reconstruction_loss(xr_noisy, x_te)),
             **code_sparsity(z_te, cfg.eps), "sensitivity": float(sens),
             "probe_acc": linear_probe(z_tr, splits.y_train, z_te, splits.y_test, seed=run.seed_for("probe"))}
        out.update({f"{kind}_{k}": v for k, v in m.items()})
        rows.append({"variant": kind, **{label: m[k] for k, label in COLUMNS.items()}})
        recon_noisy.append(xr_noisy[:10])
        filters.append(model.encoder.linear.weight.detach().cpu()[:16].reshape(16, *hw))  # (16, H, W)
    out["sparse_code_ratio"] = out["sparse_mean_abs"] / out["plain_mean_abs"]
    out["contractive_sens_ratio"] = out["contractive_sensitivity"] / out["plain_sensitivity"]
    out["denoising_noisy_ratio"] = out["denoising_rec_noisy"] / out["plain_rec_noisy"]

    run.table(rows, f"{cfg.dataset}: corruption {cfg.noise} {cfg.noise_level:g}; eps = {cfg.eps:g}; lambda sparse = "
                    f"{cfg.sparse_lam:g}, lambda contractive = {cfg.contractive_lam:g}")
    run.save_figure("table", comparison_panels(rows, "variant", [(v, v) for k, v in COLUMNS.items() if k != "frac_small"]))
    run.save_figure("denoising", LT.reconstruction_grid(
        x_te, [x_te_noisy] + recon_noisy, n=10, image_shape=hw,
        row_labels=("clean", f"{cfg.noise} {cfg.noise_level:g}", *AE_KINDS),
        title="reconstructions of the corrupted test images"))
    run.save_figure("filters", image_grid(torch.cat(filters), nrow=16,
                                          title="encoder filters (rows: " + ", ".join(AE_KINDS) + ")"))
    return out
