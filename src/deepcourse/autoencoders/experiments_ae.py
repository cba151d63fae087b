"""Autoencoder experiments of module 3: ae-mnist, ae-regularisers, linear-ae-pca, hopfield-denoise.

Quick presets run offline on scikit-learn's 8x8 digits (pixels rescaled to [0, 1]) or on
synthetic binary glyphs, in well under 20 s on two CPU cores; full presets use MNIST and are
shortened where the papers' recipes would not fit ~15 minutes on such a CPU (each docstring says how).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from deepcourse.core import LambdaCallback, Reference, Run, at_least, at_most, experiment, param
from deepcourse.core.utils import num_threads as _threads

from . import latent as LT
from .corruption import NOISE_KINDS, corrupt, corrupt_binary, from_pm1
from .models import (
    AE_KINDS,
    Autoencoder,
    SigmoidEncoder,
    code_sparsity,
    jacobian_frobenius,
    linear_ae_pca,
    pca_basis,
    reconstruction_loss,
    train_autoencoder,
)
from .networks import make_autoencoder

__all__ = ["load_images", "linear_probe", "binary_glyphs"]

DATASETS = ("digits", "mnist", "fashion-mnist", "usps")


# ------------------------------------------------------------------------------------------ helpers
def load_images(dataset: str, run: Run) -> tuple[Tensor, Tensor, Tensor, Tensor, tuple[int, int]]:
    """(x_train, y_train, x_test, y_test, (H, W)) with flat float images (N, H*W) in [0, 1].

    ``digits``: scikit-learn's 1797 8x8 digits, 75/25 split seeded by the run (offline);
    the others: the official train/test splits from ``run.data_root``.
    """
    if dataset == "digits":
        from deepcourse.data import load_sklearn, random_partition

        x, y = load_sklearn("digits")  # (1797, 64) in 0..16
        x = x / 16.0
        tr, te = random_partition(len(x), (0.75,), run.seed)
        return x[tr], y[tr], x[te], y[te], (8, 8)
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    from deepcourse.data import load_tensors

    x_tr, y_tr = load_tensors(dataset, "train", root=run.data_root)  # (N, H, W) uint8
    x_te, y_te = load_tensors(dataset, "test", root=run.data_root)
    hw = tuple(x_tr.shape[1:])
    return x_tr.flatten(1).float() / 255, y_tr, x_te.flatten(1).float() / 255, y_te, hw  # (N, H*W)


def linear_probe(z_train: Tensor, y_train: Tensor, z_test: Tensor, y_test: Tensor, max_train: int = 10000,
                 seed: int = 0, max_iter: int = 100) -> float:
    """Test accuracy (0..1) of a multinomial logistic regression fitted on standardised codes:
    how linearly separable the classes are in the latent space (the usual probe of a
    representation; labels are never used to train the autoencoder). At most ``max_train``
    training codes are used (a seeded subsample) and at most ``max_iter`` L-BFGS iterations: on
    500-D MNIST codes 300 iterations took 31 s for +0.2 points of accuracy over 100 (14 s)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    zt, yt = z_train.detach().cpu().double().numpy(), y_train.cpu().numpy()
    if len(zt) > max_train:
        idx = np.random.default_rng(seed).choice(len(zt), max_train, replace=False)
        zt, yt = zt[idx], yt[idx]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at the iteration cap is expected
        clf.fit(zt, yt)
    return float(clf.score(z_test.detach().cpu().double().numpy(), y_test.cpu().numpy()))


@torch.no_grad()
def _encode(model: Autoencoder, x: Tensor, batch: int = 2048) -> Tensor:
    model.eval()
    dev = next(model.parameters()).device
    return torch.cat([model.encode(x[i:i + batch].to(dev)).cpu() for i in range(0, len(x), batch)])


@torch.no_grad()
def _reconstruct(model: Autoencoder, x: Tensor, batch: int = 2048) -> Tensor:
    model.eval()
    dev = next(model.parameters()).device
    return torch.cat([model(x[i:i + batch].to(dev))[0].cpu() for i in range(0, len(x), batch)])


def _mse(a: Tensor, b: Tensor) -> float:
    return float(reconstruction_loss(a, b))


# ------------------------------------------------------------------------------------------ ae-mnist
@dataclass
class AEConfig:
    dataset: str = param("digits", choices=DATASETS, help="digits: sklearn 8x8 (offline); others need the data root")
    arch: str = param("dense", choices=("dense", "conv"), help="MLP or DCGAN-style convolutional encoder/decoder")
    latent_dim: int = param(10, ge=1, help="code size (scatter plots project d > 2 with PCA, as the notes do)")
    hidden: tuple[int, ...] = param((128, 64), ge=1, help="dense encoder widths (the decoder mirrors them)")
    widths: tuple[int, ...] = param((32, 64), ge=1, help="conv encoder channels (the decoder mirrors them)")
    epochs: int = param(40, ge=1)
    batch_size: int = param(32, ge=1)
    lr: float = param(5e-3, gt=0, help="Adam learning rate")
    snapshots: tuple[int, ...] = param((0, 1, 3, 10, 40), ge=0, help="epochs whose test codes are plotted")
    threads: int = param(1, ge=0, help="torch threads while training (0: leave as is)")


@experiment(
    name="ae-mnist", module="3", showcase=("reconstructions", "latent"), title="Autoencoder: reconstructions, latent space and interpolation",
    paper=Reference("notes 3 'Example' (AE latent of MNIST, PCA to 2-D: emergent clusters, interpolation oddballs); "
                    "Goodfellow, Bengio & Courville 2016, ch. 14", {}),
    quick=AEConfig(),
    full=AEConfig(dataset="mnist", hidden=(512, 256), epochs=20, batch_size=128, lr=1e-3,
                  snapshots=(0, 1, 3, 10, 20)),
    floor={"test_mse": at_most(0.018), "mse_ratio_to_pca": at_most(0.85), "probe_acc": at_least(0.85)},
    primary="test_mse",
)
def ae_mnist(cfg: AEConfig, run: Run) -> dict[str, float]:
    """A plain autoencoder g(f(x)) with L2 loss: test reconstruction MSE (per pixel, [0, 1] scale,
    beside PCA with as many components), linear-probe accuracy of the codes (labels unused in
    training), the latent space (PCA-projected) across epochs, and decoded interpolations
    between test codes. Full: MNIST, a 784-512-256-10 MLP, 20 epochs (~30 s an epoch on a
    busy 2-core CPU, so ~11 minutes; the notes' figure is qualitative, with no number to match)."""
    from deepcourse.viz import loss_curves

    x_tr, y_tr, x_te, y_te, hw = load_images(cfg.dataset, run)
    shape = (1, *hw) if cfg.arch == "conv" else (hw[0] * hw[1],)
    enc, dec = make_autoencoder(cfg.arch, shape, cfg.latent_dim, hidden=cfg.hidden, widths=cfg.widths, output="sigmoid")
    model = Autoencoder(enc, dec).to(run.device)
    n_show = min(2000, len(x_te))
    snaps: list[tuple[int, Tensor, Tensor]] = []
    if 0 in cfg.snapshots:
        snaps.append((0, _encode(model, x_te[:n_show]), y_te[:n_show]))

    def snapshot(state, record):
        record["test_mse"] = _mse(_reconstruct(model, x_te), x_te)
        if state.epoch in cfg.snapshots:
            snaps.append((state.epoch, _encode(model, x_te[:n_show]), y_te[:n_show]))
        model.train()

    with _threads(cfg.threads):
        st = train_autoencoder(model, x_tr, kind="plain", run=run, epochs=cfg.epochs, batch_size=cfg.batch_size,
                               lr=cfg.lr, seed=run.seed, callbacks=[LambdaCallback(on_epoch_end=snapshot)])
        x_hat = _reconstruct(model, x_te)
        z_tr, z_te = _encode(model, x_tr), _encode(model, x_te)
    test_mse = _mse(x_hat, x_te)
    pca, _ = pca_basis(x_tr, cfg.latent_dim)
    mu = x_tr.mean(0, keepdim=True)
    pca_mse = _mse((x_te - mu) @ pca @ pca.T + mu, x_te)
    acc = linear_probe(z_tr, y_tr, z_te, y_te, seed=run.seed)

    run.save_figure("loss", loss_curves({"train": [(r["epoch"], r["train_rec"]) for r in st.history],
                                         "test": [(r["epoch"], r["test_mse"]) for r in st.history]},
                                        logy=True, ylabel="reconstruction MSE"))
    run.save_figure("reconstructions", LT.reconstruction_grid(x_te, x_hat, n=12, image_shape=hw,
                                                              title=f"test MSE {test_mse:.4f}"))
    run.save_figure("latent", LT.latent_scatter(z_te[:n_show], y_te[:n_show],
                                                title=f"test codes (linear probe {100 * acc:.1f}%)"))
    if snaps:
        run.save_figure("latent_snapshots", LT.latent_snapshots(snaps, title="test codes during training"))
    g = torch.Generator().manual_seed(run.seed)
    ia, ib = torch.randperm(len(x_te), generator=g)[:12].view(2, 6)
    keep = y_te[ia] != y_te[ib]  # pairs of different digits: the path must cross between clusters
    ia, ib = (ia[keep], ib[keep]) if keep.any() else (ia, ib)
    model.cpu()
    run.save_figure("interpolation", LT.interpolation_strip(model.encoder, model.decoder, x_te[ia], x_te[ib], steps=10,
                                                            image_shape=hw))
    return {"test_mse": test_mse, "pca_mse": pca_mse, "mse_ratio_to_pca": test_mse / pca_mse, "probe_acc": acc,
            "train_mse": st.history[-1]["train_rec"] if st.history else float("nan")}


# ------------------------------------------------------------------------------------------ ae-regularisers
@dataclass
class RegConfig:
    dataset: str = param("digits", choices=DATASETS)
    hidden: int = param(64, ge=1, help="code units: one sigmoid layer z = sigmoid(Wx + b) for every variant")
    sparse_lam: float = param(1e-3, gt=0, help="weight of the L1 penalty on the code")
    contractive_lam: float = param(1e-3, gt=0, help="weight of ||dz/dx||_F^2")
    noise: str = param("masking", choices=NOISE_KINDS, help="corruption of the denoising AE (and of the noisy test set)")
    noise_level: float = param(0.3, ge=0, le=1, help="masking/salt-and-pepper fraction, or Gaussian std")
    epochs: int = param(30, ge=1)
    batch_size: int = param(64, ge=1)
    lr: float = param(1e-2, gt=0)
    eps: float = param(0.05, gt=0, help="|z| < eps counts as an inactive code unit")
    threads: int = param(1, ge=0)


def _variant_model(n_in: int, hidden: int) -> Autoencoder:
    # the same architecture for all four: one sigmoid layer each way (Vincent et al. 2008; Rifai et al. 2011)
    dec = torch.nn.Sequential(torch.nn.Linear(hidden, n_in), torch.nn.Sigmoid())
    return Autoencoder(SigmoidEncoder(n_in, hidden), dec)


@experiment(
    name="ae-regularisers", module="3", title="Plain vs sparse vs contractive vs denoising autoencoders",
    paper=Reference("notes 3 'Regularizing autoencoders'; Vincent et al. 2008 (denoising); "
                    "Rifai et al. 2011 (contractive); Ranzato et al. 2007 (sparse)", {}),
    quick=RegConfig(),
    full=RegConfig(dataset="mnist", hidden=500, sparse_lam=3e-4, contractive_lam=1e-4, epochs=10, batch_size=64,
                   lr=1e-3),
    floor={"sparse_code_ratio": at_most(0.6), "contractive_sens_ratio": at_most(0.7),
           "denoising_noisy_ratio": at_most(0.85), "plain_rec": at_most(0.02), "plain_probe_acc": at_least(0.85)},
    primary="denoising_noisy_ratio",
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
    x_tr, y_tr, x_te, y_te, hw = load_images(cfg.dataset, run)
    d = x_tr.shape[1]
    g = torch.Generator().manual_seed(10_000 + run.seed)
    x_te_noisy = corrupt(x_te, cfg.noise, cfg.noise_level, g)  # one fixed corrupted test set for all variants
    lam = {"plain": 0.0, "sparse": cfg.sparse_lam, "contractive": cfg.contractive_lam, "denoising": 0.0}
    out: dict[str, float] = {}
    recon_noisy: list[Tensor] = []
    filters = []
    for kind in AE_KINDS:
        torch.manual_seed(run.seed)  # same initial weights for every variant
        model = _variant_model(d, cfg.hidden).to(run.device)
        with _threads(cfg.threads):
            train_autoencoder(model, x_tr, kind=kind, lam=lam[kind], noise=cfg.noise, noise_level=cfg.noise_level,
                              run=run, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, seed=run.seed,
                              log_prefix=f"{kind}/", desc=kind)
            z_tr, z_te = _encode(model, x_tr), _encode(model, x_te)
            rec = _mse(_reconstruct(model, x_te), x_te)
            xr_noisy = _reconstruct(model, x_te_noisy)
            rec_noisy = _mse(xr_noisy, x_te)
            model.cpu()
            sens = torch.cat([jacobian_frobenius(model.encoder, x_te[i:i + 1000], method="closed_form").detach()
                              for i in range(0, len(x_te), 1000)]).sqrt().mean()
        sp = code_sparsity(z_te, cfg.eps)
        out.update({f"{kind}_rec": rec, f"{kind}_rec_noisy": rec_noisy, f"{kind}_mean_abs": sp["mean_abs"],
                    f"{kind}_frac_small": sp["frac_small"], f"{kind}_sensitivity": float(sens),
                    f"{kind}_probe_acc": linear_probe(z_tr, y_tr, z_te, y_te, seed=run.seed)})
        recon_noisy.append(xr_noisy[:10])
        filters.append(model.encoder.linear.weight.detach()[:16].reshape(16, *hw))
    out["sparse_code_ratio"] = out["sparse_mean_abs"] / out["plain_mean_abs"]
    out["contractive_sens_ratio"] = out["contractive_sensitivity"] / out["plain_sensitivity"]
    out["denoising_noisy_ratio"] = out["denoising_rec_noisy"] / out["plain_rec_noisy"]

    table = _regulariser_table(out, cfg)
    (run.out / "table.md").write_text(table) if run.is_main else None
    if run.verbose:
        print(table)
    run.save_figure("table", _table_figure(out))
    run.save_figure("denoising", LT.reconstruction_grid(
        x_te, [x_te_noisy] + recon_noisy, n=10, image_shape=hw,
        row_labels=("clean", f"{cfg.noise} {cfg.noise_level:g}", *AE_KINDS),
        title="reconstructions of the corrupted test images"))
    from deepcourse.viz import image_grid

    run.save_figure("filters", image_grid(torch.cat(filters), nrow=16,
                                          title="encoder filters (rows: " + ", ".join(AE_KINDS) + ")"))
    return out


def _regulariser_table(m: dict[str, float], cfg: RegConfig) -> str:
    rows = ["| variant | rec. MSE (clean) | rec. MSE (corrupted) | mean abs z | frac abs z < eps | sensitivity dz/dx (Frobenius) | linear probe |",
            "|---|---|---|---|---|---|---|"]
    for k in AE_KINDS:
        rows.append(f"| {k} | {m[f'{k}_rec']:.4f} | {m[f'{k}_rec_noisy']:.4f} | {m[f'{k}_mean_abs']:.3f} | "
                    f"{m[f'{k}_frac_small']:.3f} | {m[f'{k}_sensitivity']:.3f} | {100 * m[f'{k}_probe_acc']:.1f}% |")
    rows.append("")
    rows.append(f"corruption: {cfg.noise} {cfg.noise_level:g}; eps = {cfg.eps:g}; lambda sparse = {cfg.sparse_lam:g}, "
                f"lambda contractive = {cfg.contractive_lam:g}")
    return "\n".join(rows) + "\n"


def _table_figure(m: dict[str, float]):
    import matplotlib
    from matplotlib.figure import Figure

    from deepcourse.viz.figures import STYLE

    panels = [("rec", "rec. MSE (clean)"), ("rec_noisy", "rec. MSE (corrupted)"), ("mean_abs", "mean |z|"),
              ("sensitivity", "||dz/dx||_F"), ("probe_acc", "linear probe acc.")]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(13, 2.8), layout="tight")
        for i, (key, label) in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), i + 1)
            vals = [m[f"{k}_{key}"] for k in AE_KINDS]
            ax.bar(range(len(AE_KINDS)), vals, color=["#7f7f7f", "#1f77b4", "#2ca02c", "#d62728"])
            ax.set_xticks(range(len(AE_KINDS)), AE_KINDS, rotation=30, fontsize=8)
            ax.set_title(label, fontsize=10)
    return fig


# ------------------------------------------------------------------------------------------ linear-ae-pca
@dataclass
class LinearPCAConfig:
    dataset: str = param("digits", choices=DATASETS)
    latent_dim: int = param(5, ge=1)
    steps: int = param(1000, ge=1, help="Adam steps (cosine-annealed learning rate)")
    lr: float = param(1e-2, gt=0)
    batch_size: int = param(0, ge=0, help="0: full batch")
    gram: bool = param(False, help="full batch from the SVD of the data (same loss and gradients, O(D^2) per step)")
    threads: int = param(1, ge=0)


@experiment(
    name="linear-ae-pca", module="3", title="A linear autoencoder with L2 loss spans the PCA subspace",
    paper=Reference("Baldi & Hornik 1989, Fact 2 / Theorem 1; notes 3 'Loss function'", {"max_angle_deg": 0.0}),
    quick=LinearPCAConfig(),
    full=LinearPCAConfig(dataset="mnist", latent_dim=10, steps=5000, lr=1e-2, batch_size=0, gram=True),
    floor={"max_angle_deg": at_most(1.0), "mse_ratio": at_most(1.001)}, primary="max_angle_deg",
)
def linear_ae_pca_experiment(cfg: LinearPCAConfig, run: Run) -> dict[str, float]:
    """Train x_hat = W2 W1 x (no biases, centred data, L2 loss) and measure the principal angles
    between span(W2) and the top principal subspace, plus the ratio of its reconstruction MSE
    to PCA's (which is optimal among rank-k linear maps, Eckart & Young 1936). Full: MNIST,
    k = 10, 5000 full-batch steps computed through the SVD of the data (``gram=True``: identical
    loss and gradients; 60000-sample full batches would take ~1.5 s a step on a 2-core CPU)."""
    from deepcourse.viz import image_grid

    x_tr, _, _, _, hw = load_images(cfg.dataset, run)
    with _threads(cfg.threads):
        res = linear_ae_pca(x_tr, cfg.latent_dim, steps=cfg.steps, lr=cfg.lr, batch_size=cfg.batch_size or None,
                            gram=cfg.gram, run=run, seed=run.seed)
    ang = np.degrees(res["angles"])
    w = res["model"].decoder.weight.detach()  # (D, k)
    q, _ = torch.linalg.qr(w.double())  # orthonormal basis of span(W2)
    u, _, vh = torch.linalg.svd(q.T @ res["pca"].double())  # orthogonal Procrustes: rotate Q onto the PCA basis
    aligned = (q @ u @ vh).float()
    imgs = torch.cat([res["pca"].T, w.T / w.norm(dim=0, keepdim=True).T, aligned.T]).reshape(-1, *hw)
    run.save_figure("bases", image_grid(imgs, nrow=cfg.latent_dim,
                                        title="rows: PCA directions | AE decoder columns | decoder span rotated onto PCA"))
    return {"max_angle_deg": float(ang.max()), "mean_angle_deg": float(ang.mean()), "mse_ae": res["mse_ae"],
            "mse_pca": res["mse_pca"], "mse_ratio": res["mse_ae"] / res["mse_pca"]}


# ------------------------------------------------------------------------------------------ hopfield-denoise
def binary_glyphs(size: int = 24) -> tuple[np.ndarray, list[str]]:
    """Six binary (+-1) glyphs of side ``size`` with about half the pixels on and small mutual
    overlaps (|m| <= 0.25): a disk, vertical and horizontal stripes, a checkerboard, a diagonal
    split and a cross. Hebbian storage (Hopfield 1982) recalls weakly correlated patterns; strongly
    correlated ones (e.g. raw digits, mostly background) interfere and merge into spurious states."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8, got {size!r}")
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    c, s = size / 2, size
    glyphs = {
        "disk": (xx - c) ** 2 + (yy - c) ** 2 < (0.4 * s) ** 2,
        "v-stripes": (xx // max(1, s // 6)) % 2 == 0,
        "h-stripes": (yy // max(1, s // 4)) % 2 == 0,
        "checker": ((xx // max(1, s // 4)) + (yy // max(1, s // 4))) % 2 == 0,
        "diagonal": xx > yy,
        "cross": (np.abs(xx - yy) < 0.18 * s) | (np.abs(xx + yy - s) < 0.18 * s),
    }
    return np.stack([np.where(v, 1.0, -1.0).ravel() for v in glyphs.values()]), list(glyphs)


@dataclass
class HopfieldConfig:
    patterns: str = param("glyphs", choices=("glyphs", "digits"),
                          help="glyphs: six weakly correlated shapes; digits: one binarised sklearn digit per class "
                               "(correlated: shows the limits)")
    size: int = param(24, ge=8, help="glyph side in pixels (units = size^2)")
    trials: int = param(10, ge=1, help="noisy copies per stored pattern and noise type")
    gaussian_var: float = param(0.05, ge=0, help="variance of the Gaussian noise on the [0, 1] pixel scale (notes: 0.05)")
    sp_density: float = param(0.4, ge=0, le=1, help="salt-and-pepper density (notes: 0.4)")
    max_sweeps: int = param(50, ge=1, help="asynchronous sweeps at most")


@experiment(
    name="hopfield-denoise", module="3", title="Hopfield network restores noisy binary images",
    paper=Reference("Hopfield 1982; Tu, Liao & Zhang 2012 (notes 3: Gaussian var 0.05, salt-and-pepper 0.4)", {}),
    quick=HopfieldConfig(),
    full=HopfieldConfig(size=32, trials=50),
    floor={"acc_after_gaussian": at_least(0.99), "acc_after_salt_and_pepper": at_least(0.99),
           "acc_before_salt_and_pepper": at_most(0.9)},
    primary="acc_after_salt_and_pepper",
)
def hopfield_denoise(cfg: HopfieldConfig, run: Run) -> dict[str, float]:
    """Store binary images in a Hopfield network (Hebbian rule, zero diagonal; Hopfield 1982),
    corrupt them as in the notes (Gaussian noise of variance 0.05 and salt-and-pepper of density
    0.4, re-binarised by sign) and let asynchronous dynamics restore them. Metrics per noise type:
    pixel accuracy and overlap m = (1/N) s . xi before and after, and the fraction recalled exactly.
    Uses the NumPy network of ``deepcourse.autodiff.hopfield``."""
    from deepcourse.autodiff.hopfield import Hopfield, overlap
    from deepcourse.viz import image_grid

    if cfg.patterns == "glyphs":
        xi, _ = binary_glyphs(cfg.size)
        side = cfg.size
    else:
        from deepcourse.data import load_sklearn

        x, y = load_sklearn("digits")
        first = [int((y == k).nonzero()[0][0]) for k in range(10)]
        xi = np.where(x[first].numpy() > 8, 1.0, -1.0)  # (10, 64)
        side = 8
    net = Hopfield(xi.shape[1]).store(xi)
    rng = np.random.default_rng(run.seed)
    g = torch.Generator().manual_seed(run.seed)
    clean = np.repeat(xi, cfg.trials, axis=0)  # (P * trials, N)
    out: dict[str, float] = {}
    show = []
    for kind, level in (("gaussian", cfg.gaussian_var), ("salt_and_pepper", cfg.sp_density)):
        noisy = corrupt_binary(torch.from_numpy(clean), kind, level, g).numpy()
        restored = np.stack([net.recall(s, rng, max_sweeps=cfg.max_sweeps) for s in noisy])
        for tag, s in (("before", noisy), ("after", restored)):
            out[f"acc_{tag}_{kind}"] = float((s == clean).mean())
            out[f"overlap_{tag}_{kind}"] = float(overlap(s, clean).mean())
        out[f"exact_{kind}"] = float((restored == clean).all(1).mean())
        pick = np.arange(len(xi)) * cfg.trials  # the first noisy copy of each pattern
        show += [noisy[pick], restored[pick]]
    imgs = np.concatenate([xi, *show]).reshape(-1, side, side)
    run.save_figure("restoration", image_grid(from_pm1(torch.from_numpy(imgs)), nrow=len(xi),
                                              title="rows: stored | Gaussian noisy | restored | salt & pepper noisy | restored"))
    m = xi @ xi.T / xi.shape[1]
    out["max_pattern_overlap"] = float(np.abs(m - np.eye(len(xi))).max())
    return out
