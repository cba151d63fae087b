"""Module 2 image experiments: the original MLP GAN, DCGAN and WGAN, measured by domain FID.

Every sample set is scored with the FID of a classifier trained on the same domain
(:mod:`deepcourse.metrics.generative.fid`); each run writes the feature network's fingerprint to
``fid_features.json`` (an FID is comparable only with FIDs on the same features). Quick presets
use scikit-learn's 8x8 digits (offline, rescaled to [-1, 1]) and the 8x8 DCGAN layout; full
presets follow the papers' recipes on MNIST, Fashion-MNIST and CIFAR-10.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from deepcourse.core import LambdaCallback, Reference, Run, at_least, at_most, experiment, param
from deepcourse.core.utils import num_threads as _threads

from . import latent as LT
from .networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, dcgan_optimizers
from .training import GANStep, WGANStep, generate, train_gan, wgan_gp_optimizers, wgan_optimizers

__all__ = ["ImageGANConfig", "WGANTrackConfig", "domain_fid", "train_image_gan"]

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10-jpeg")


# ------------------------------------------------------------------------------------------ metrics
def _feature_net(domain: str, run: Run):
    from deepcourse.metrics.generative.fid import domain_features

    return domain_features(domain, run, device="cpu")


def domain_fid(real_stats, fake: Tensor, net) -> float:
    """The one place the FID is computed: ``real_stats`` from ``feature_stats(real, net)``."""
    from deepcourse.metrics.generative.fid import fid

    return fid(real_stats, fake.cpu(), net)


def _load(domain: str, split: str, run: Run) -> tuple[Tensor, Tensor]:
    from deepcourse.metrics.generative.fid import load_domain_data

    return load_domain_data(domain, split, run.data_root)  # float in [-1, 1], (N, C, H, W)


def _spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    if len(a) < 3:
        return float("nan")
    r = spearmanr(a, b).statistic
    return float(r) if math.isfinite(r) else 0.0


# ------------------------------------------------------------------------------------------ training
@dataclass
class ImageGANConfig:
    dataset: str = param("digits", choices=DATASETS, help="training images (digits: sklearn 8x8, offline)")
    arch: str = param("dcgan", choices=("dcgan", "mlp"), help="DCGAN (Radford et al. 2016) or the MLP GAN of 2014")
    loss: str = param("nonsaturating", choices=("nonsaturating", "minimax", "lsgan", "wgan", "wgan-gp"))
    latent_dim: int = param(32, ge=1)
    base: int = param(32, ge=4, help="DCGAN width: channels of D's first / G's last hidden layer")
    hidden: int = param(256, ge=8, help="MLP GAN hidden width")
    batch_size: int = param(64, ge=2)
    steps: int = param(1500, ge=1, help="discriminator steps")
    lr: float = param(2e-4, gt=0)
    beta1: float = param(0.5, ge=0, lt=1, help="Adam beta1; 0.5 keeps DCGAN from oscillating")
    n_critic: int = param(5, ge=1, help="critic steps per G step (WGAN)")
    clip: float = param(0.01, gt=0, help="WGAN weight clipping c")
    eval_every: int = param(500, ge=1, help="steps between FID evaluations")
    n_eval: int = param(500, ge=50, help="samples per FID evaluation")
    threads: int = param(1, ge=0, help="torch threads while training (0: leave as is)")


def _build(cfg: ImageGANConfig, shape: tuple[int, int, int]) -> tuple[nn.Module, nn.Module]:
    c, h, _ = shape
    if cfg.arch == "dcgan":
        g = DCGANGenerator(cfg.latent_dim, c, h, cfg.base)
        # WGAN-GP: no BN in the critic (the penalty is per sample; BN mixes samples)
        d = DCGANDiscriminator(c, h, cfg.base, batch_norm=cfg.loss != "wgan-gp")
    else:
        g = MLPGenerator(cfg.latent_dim, (cfg.hidden, cfg.hidden), shape, tanh=True)
        d = MLPDiscriminator(shape, (cfg.hidden, cfg.hidden), dropout=0.3)  # the 2014 paper used dropout in D
    return g, d


def _step(cfg: ImageGANConfig, g: nn.Module, d: nn.Module):
    if cfg.loss == "wgan":
        o = wgan_optimizers(g, d, cfg.lr)
        return WGANStep(g, d, o["g"], o["d"], n_critic=cfg.n_critic, clip=cfg.clip)
    if cfg.loss == "wgan-gp":
        o = wgan_gp_optimizers(g, d, cfg.lr)
        return WGANStep(g, d, o["g"], o["d"], n_critic=cfg.n_critic, clip=None, gp_weight=10.0)
    o = dcgan_optimizers(g, d, cfg.lr, cfg.beta1)
    return GANStep(g, d, o["g"], o["d"], loss=cfg.loss)


def train_image_gan(cfg: ImageGANConfig, run: Run, name: str = "") -> dict:
    """Train one image GAN with FID checkpoints; returns models, the FID track and the data."""
    from deepcourse.metrics.generative.fid import feature_stats

    x, _ = _load(cfg.dataset, "train", run)
    x_test, _ = _load(cfg.dataset, "test", run)
    net = _feature_net(cfg.dataset, run)
    ref = x_test[:max(cfg.n_eval, 2000)]
    real_stats = feature_stats(ref, net, "real")
    g, d = _build(cfg, tuple(x.shape[1:]))
    g, d = g.to(run.device), d.to(run.device)
    step = _step(cfg, g, d)
    track = {"step": [], "fid": [], "critic": [], "d_loss": []}
    window: dict[str, list[float]] = {"critic": [], "d_loss": []}
    seed_eval = run.seed + 12345

    def evaluate(s: int) -> None:
        f = domain_fid(real_stats, generate(g, cfg.n_eval, seed=seed_eval), net)
        track["step"].append(s)
        track["fid"].append(f)
        for k in ("critic", "d_loss"):
            track[k].append(sum(window[k]) / max(len(window[k]), 1))
            window[k].clear()
        run.log(s, **{f"{name}fid": f})

    evaluate(0)  # the untrained generator: the floor's reference point

    def on_step(state, metrics):
        if "wasserstein" in metrics:
            window["critic"].append(metrics["wasserstein"])
        window["d_loss"].append(metrics.get("d_loss", 0.0))
        if state.step % cfg.eval_every == 0 or state.step == cfg.steps:
            evaluate(state.step)

    with _threads(cfg.threads):
        train_gan(step, x, batch_size=cfg.batch_size, steps=cfg.steps, run=run, name=name, seed=run.seed,
                  callbacks=[LambdaCallback(on_step_end=on_step)], device=run.device)
    return {"g": g, "d": d, "net": net, "track": track, "x": x, "x_test": x_test, "real_stats": real_stats}


def _class_stats(samples: Tensor, net) -> dict[str, float]:
    """Classifier-predicted label histogram of the samples: classes covered (>= 2% of samples each)
    and the max/min frequency ratio (1 = perfectly uniform), plus the classifier score."""
    from deepcourse.metrics.generative.fid import classifier_score

    pred = net.predict(samples.cpu())
    freq = torch.bincount(pred, minlength=10).double() / len(pred)
    return {"classes_covered": float((freq >= 0.02).sum()), "class_freq_max": float(freq.max()),
            "class_freq_min": float(freq.min()), "classifier_score": classifier_score(samples.cpu(), net)}


def _figures(run: Run, res: dict, title: str, prefix: str = "") -> None:
    from deepcourse.viz import image_grid, line_plot

    g, net, x = res["g"], res["net"], res["x"]
    samples = generate(g, 64, seed=run.seed + 1)
    run.save_figure(f"{prefix}samples", image_grid(samples, nrow=8, title=f"{title}: random samples"))
    gen = torch.Generator().manual_seed(run.seed + 2)
    zs = torch.randn(4, 2, g.latent_dim, generator=gen)
    strips = torch.cat([LT.interpolate(g, z[0], z[1], steps=8, method="slerp") for z in zs])  # (32, C, H, W)
    run.save_figure(f"{prefix}interpolation", image_grid(strips, nrow=8, title="slerp between two latents (rows)"))
    # latent arithmetic on classes found by the domain classifier: mean z of A - mean z of B + mean z of C
    z = torch.randn(2000, g.latent_dim, generator=gen)
    with torch.no_grad():
        g.eval()
        pred = net.predict(g(z).cpu())
        g.train()
    groups = [z[pred == c][:8] for c in range(10)]
    have = [c for c in range(10) if len(groups[c]) >= 3]
    if len(have) >= 3:
        a, b, c = have[:3]
        za = LT.latent_arithmetic(groups[a], groups[b], groups[c], generator=gen)
        row = torch.cat([generate_from(g, groups[a].mean(0, keepdim=True)), generate_from(g, groups[b].mean(0, keepdim=True)),
                         generate_from(g, groups[c].mean(0, keepdim=True)), generate_from(g, za)])
        run.save_figure(f"{prefix}latent_arithmetic", image_grid(
            row, nrow=12, title=f"mean z('{a}') - mean z('{b}') + mean z('{c}'), then 8 jittered"))
    panel = LT.nearest_neighbour_panel(samples[:16], x)
    run.save_figure(f"{prefix}nearest_neighbours", image_grid(panel, nrow=8, title="sample | nearest training image"))
    tr = res["track"]
    run.save_figure(f"{prefix}fid_curve", line_plot(tr["step"], {"FID": tr["fid"]}, "discriminator step", "domain FID",
                                                   logy=True, title=f"{title}: FID over training"))


@torch.no_grad()
def generate_from(g: nn.Module, z: Tensor) -> Tensor:
    was = g.training
    g.eval()
    out = g(z.to(next(g.parameters()).device)).cpu()
    g.train(was)
    return out


def _write_features(run: Run, net) -> None:
    if run.is_main:
        (run.out / "fid_features.json").write_text(json.dumps(
            {"fingerprint": net.fingerprint, "meta": getattr(net, "meta", {})}, indent=2, default=str) + "\n")


def _image_gan(cfg: ImageGANConfig, run: Run, title: str) -> dict[str, float]:
    res = train_image_gan(cfg, run)
    g, net = res["g"], res["net"]
    _write_features(run, net)
    _figures(run, res, title)
    tr = res["track"]
    # the ratio compares FIDs at equal sample counts (FID's bias depends on N): the last checkpoint's
    fid_final = tr["fid"][-1]
    final = generate(g, max(cfg.n_eval, 2000), seed=run.seed + 99)
    out = {"fid": fid_final, "fid_untrained": tr["fid"][0], "fid_ratio": fid_final / tr["fid"][0],
           "fid_best": min(tr["fid"][1:]) if len(tr["fid"]) > 1 else fid_final}
    out.update(_class_stats(final, net))
    return out


# ------------------------------------------------------------------------------------------ experiments
@experiment(
    name="gan-mnist", module="2", title="The original GAN: MLP generator and discriminator (Goodfellow et al. 2014)",
    paper=Reference("Goodfellow et al. 2014, Figure 2 (MNIST samples; Parzen log-likelihood 225, not comparable)", {}),
    quick=ImageGANConfig(arch="mlp", steps=1500, lr=1e-3),  # 2e-4 collapsed to 2 classes in 1500 steps
    full=ImageGANConfig(dataset="mnist", arch="mlp", latent_dim=100, hidden=1024, batch_size=100, steps=30000,
                        lr=2e-4, eval_every=2000, n_eval=5000, threads=0),
    floor={"fid_ratio": at_most(0.3)}, primary="fid",
)
def gan_mnist(cfg: ImageGANConfig, run: Run) -> dict[str, float]:
    """The MLP GAN of the 2014 paper (non-saturating G loss, dropout in D): FID far below the untrained G's."""
    return _image_gan(cfg, run, "MLP GAN")


@experiment(
    name="dcgan-mnist", module="2", showcase=("samples",), title="DCGAN on MNIST: samples, interpolation, arithmetic and domain FID",
    paper=Reference("Radford et al. 2016 (architecture guidelines; no MNIST FID reported)", {}),
    quick=ImageGANConfig(),
    full=ImageGANConfig(dataset="mnist", latent_dim=100, base=64, batch_size=128, steps=10000, eval_every=1000,
                        n_eval=5000, threads=0),
    floor={"fid_ratio": at_most(0.3), "classes_covered": at_least(8)}, primary="fid",
)
def dcgan_mnist(cfg: ImageGANConfig, run: Run) -> dict[str, float]:
    """DCGAN (strided convs, BN, ReLU/Tanh G, LeakyReLU D, Adam beta1 0.5): FID falls far below the untrained G's."""
    return _image_gan(cfg, run, "DCGAN")


@experiment(
    name="dcgan-fashion", module="2", title="DCGAN on Fashion-MNIST",
    paper=Reference("Radford et al. 2016 (recipe)", {}),
    quick=ImageGANConfig(),
    full=ImageGANConfig(dataset="fashion-mnist", latent_dim=100, base=64, batch_size=128, steps=10000,
                        eval_every=1000, n_eval=5000, threads=0),
    floor={"fid_ratio": at_most(0.3)}, primary="fid",
)
def dcgan_fashion(cfg: ImageGANConfig, run: Run) -> dict[str, float]:
    """DCGAN on clothing images; the quick preset is the offline digits run."""
    return _image_gan(cfg, run, "DCGAN")


@experiment(
    name="dcgan-cifar10", module="2", title="DCGAN on CIFAR-10 (full run for a GPU)",
    paper=Reference("Radford et al. 2016; FID of DCGAN on CIFAR-10 ~37 with Inception features (Heusel et al. 2017)",
                    {}),
    quick=ImageGANConfig(),
    full=ImageGANConfig(dataset="cifar10-jpeg", latent_dim=100, base=64, batch_size=128, steps=30000,
                        eval_every=2500, n_eval=5000, threads=0),
    floor={"fid_ratio": at_most(0.3)}, primary="fid",
)
def dcgan_cifar10(cfg: ImageGANConfig, run: Run) -> dict[str, float]:
    """DCGAN at 32x32x3 (4 -> 8 -> 16 -> 32); the quick preset is the offline digits run."""
    return _image_gan(cfg, run, "DCGAN")


@dataclass
class WGANTrackConfig:
    dataset: str = param("digits", choices=DATASETS)
    latent_dim: int = param(32, ge=1)
    base: int = param(32, ge=4)
    batch_size: int = param(64, ge=2)
    wgan_steps: int = param(2500, ge=1, help="critic steps of the WGAN (n_critic per G step)")
    gan_steps: int = param(1000, ge=1, help="D steps of the JS-GAN baseline")
    wgan_lr: float = param(5e-5, gt=0, help="RMSProp lr (Arjovsky et al. 2017: 5e-5)")
    n_critic: int = param(5, ge=1)
    clip: float = param(0.01, gt=0)
    eval_every: int = param(250, ge=1)
    n_eval: int = param(500, ge=50)
    threads: int = param(1, ge=0)


@experiment(
    name="wgan-mnist", module="2", showcase=("critic_vs_fid",), title="The WGAN critic's estimate tracks sample quality; the JS-GAN loss does not",
    paper=Reference("Arjovsky et al. 2017, Figures 3-4 (W estimate falls with sample quality; JS estimate flat)", {}),
    # quick: a narrow DCGAN (base 16) on 8x8 digits; lr 5e-4 because the paper's 5e-5 moves too little in a
    # few thousand critic steps
    quick=WGANTrackConfig(base=16, wgan_steps=2000, gan_steps=600, eval_every=200, wgan_lr=5e-4),
    full=WGANTrackConfig(dataset="mnist", latent_dim=100, base=64, wgan_steps=50000, gan_steps=10000, eval_every=2500,
                         n_eval=2000, threads=0),
    # seeds 0 / 1 / 2: rank correlation 0.99 / 0.93 / 0.99, FID ratio 0.065 / 0.057 / 0.056
    floor={"rank_corr_wgan": at_least(0.5), "fid_ratio_wgan": at_most(0.3)}, primary="rank_corr_wgan",
)
def wgan_mnist(cfg: WGANTrackConfig, run: Run) -> dict[str, float]:
    """Spearman correlation between the critic's Wasserstein estimate and domain FID over checkpoints (WGAN),
    and between the discriminator loss and FID (JS-GAN)."""
    from deepcourse.viz import image_grid
    import matplotlib.pyplot as plt

    common = dict(dataset=cfg.dataset, latent_dim=cfg.latent_dim, base=cfg.base, batch_size=cfg.batch_size,
                  eval_every=cfg.eval_every, n_eval=cfg.n_eval, threads=cfg.threads)
    wcfg = ImageGANConfig(loss="wgan", steps=cfg.wgan_steps, lr=cfg.wgan_lr, n_critic=cfg.n_critic, clip=cfg.clip, **common)
    jcfg = ImageGANConfig(loss="nonsaturating", steps=cfg.gan_steps, **common)
    w = train_image_gan(wcfg, run, name="wgan/")
    j = train_image_gan(jcfg, run, name="jsgan/")
    _write_features(run, w["net"])
    tw, tj = w["track"], j["track"]
    # skip checkpoint 0: there is no critic estimate before training
    r_w = _spearman(tw["critic"][1:], tw["fid"][1:])
    # JS-GAN: the D loss is 2 log 2 - 2 JS at the optimal D; a tracking loss would fall as FID falls
    r_j = _spearman([-v for v in tj["d_loss"][1:]], tj["fid"][1:])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, tr, key, lab, r in ((axes[0], tw, "critic", "critic's W estimate", r_w),
                                (axes[1], tj, "d_loss", "D loss (JS-GAN)", r_j)):
        ax.plot(tr["step"][1:], tr[key][1:], "o-", color="C0")
        ax.set_xlabel("step")
        ax.set_ylabel(lab, color="C0")
        ax2 = ax.twinx()
        ax2.plot(tr["step"][1:], tr["fid"][1:], "s--", color="C1")
        ax2.set_ylabel("domain FID", color="C1")
        ax.set_title(f"Spearman = {r:.2f}")
    fig.tight_layout()
    run.save_figure("critic_vs_fid", fig)
    run.save_figure("wgan_samples", image_grid(generate(w["g"], 64, seed=run.seed + 1), nrow=8, title="WGAN samples"))
    return {"rank_corr_wgan": r_w, "rank_corr_jsgan": r_j, "fid_wgan": tw["fid"][-1], "fid_jsgan": tj["fid"][-1],
            "fid_ratio_wgan": tw["fid"][-1] / tw["fid"][0]}
