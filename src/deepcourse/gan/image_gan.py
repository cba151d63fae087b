"""The shared driver of the image-GAN experiments (the 2014 MLP GAN, DCGAN on three datasets, WGAN):
train one GAN on a dataset's training images while tracking its domain FID, then measure and draw it.

Every sample set is scored with the FID of a classifier trained on the same domain
(:mod:`deepcourse.metrics.generative`); each run writes that network's fingerprint to
``fid_features.json`` (an FID is only comparable with FIDs on the same features). The FID of the
untrained generator is the floor's reference point: a trained G must land far below it.
Quick presets train on a fixed subset of their own dataset and score on the small feature network
(``fid_features="small"``); full presets follow the papers' recipes on the whole training split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from deepcourse.core import LambdaCallback, Run, param, predict

from . import latent as LT
from .networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, dcgan_optimizers
from .training import GANStep, WGANStep, generate, train_gan, wgan_gp_optimizers, wgan_optimizers

__all__ = ["DATASETS", "ImageGANConfig", "build_image_gan", "image_gan_experiment", "load_gan_data",
           "train_image_gan", "write_feature_fingerprint"]

DATASETS = ("mnist", "fashion-mnist", "cifar10-jpeg")


@dataclass
class ImageGANConfig:
    dataset: str = param("mnist", choices=DATASETS, help="training images")
    subset: int = param(0, ge=0, help="fixed stratified subset of the training images (0: all)")
    fid_features: str = param("full", choices=("small", "full"), help="feature-network recipe of the FID")
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
    critic_warmup: int = param(0, ge=0, help="first G steps with 100 critic steps each (WGAN; authors' code: 25)")
    clip: float = param(0.01, gt=0, help="WGAN weight clipping c")
    eval_every: int = param(500, ge=1, help="steps between FID evaluations")
    n_eval: int = param(500, ge=50, help="samples per FID evaluation")


def build_image_gan(cfg: ImageGANConfig, shape: tuple[int, int, int]) -> tuple[nn.Module, nn.Module]:
    """G and D for images of ``shape`` (C, H, W)."""
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
        return WGANStep(g, d, o["g"], o["d"], n_critic=cfg.n_critic, clip=cfg.clip, warmup_g_steps=cfg.critic_warmup)
    if cfg.loss == "wgan-gp":
        o = wgan_gp_optimizers(g, d, cfg.lr)
        return WGANStep(g, d, o["g"], o["d"], n_critic=cfg.n_critic, clip=None, gp_weight=10.0)
    o = dcgan_optimizers(g, d, cfg.lr, cfg.beta1)
    return GANStep(g, d, o["g"], o["d"], loss=cfg.loss)


def load_gan_data(cfg: ImageGANConfig, run: Run) -> dict:
    """Training images, the FID reference set (a fixed test subset), its feature statistics and the net."""
    from deepcourse.metrics.generative import domain_features, domain_splits, feature_stats

    s = domain_splits(cfg.dataset, run, subset=cfg.subset or None, test_subset=max(cfg.n_eval, 2000))
    net = domain_features(cfg.dataset, run, kind=cfg.fid_features)
    return {"x": s.x_train, "x_ref": s.x_test, "net": net, "real_stats": feature_stats(s.x_test, net, "real")}


def train_image_gan(cfg: ImageGANConfig, run: Run, name: str = "", data: dict | None = None) -> dict:
    """Train one image GAN with FID checkpoints (step 0 = the untrained G); returns the models, the
    track ``{"step", "fid", "critic", "d_loss"}`` and the data of :func:`load_gan_data`."""
    from deepcourse.metrics.generative.fid import fid

    data = data or load_gan_data(cfg, run)
    x, net, real_stats = data["x"], data["net"], data["real_stats"]
    run.manual_seed(f"{name}init")
    g, d = build_image_gan(cfg, tuple(x.shape[1:]))
    g, d = g.to(run.device), d.to(run.device)
    step = _step(cfg, g, d)
    track: dict[str, list[float]] = {"step": [], "fid": [], "critic": [], "d_loss": []}
    window: dict[str, list[float]] = {"critic": [], "d_loss": []}
    seed_eval = run.seed_for("eval-z") % 2**31  # the same z at every checkpoint

    def evaluate(s: int) -> None:
        f = fid(real_stats, generate(g, cfg.n_eval, seed=seed_eval), net)
        track["step"].append(s)
        track["fid"].append(f)
        for k in ("critic", "d_loss"):
            track[k].append(sum(window[k]) / max(len(window[k]), 1))
            window[k].clear()
        run.log(s, **{f"{name}fid": f})

    evaluate(0)

    def on_step(state, metrics):
        if "wasserstein" in metrics:
            window["critic"].append(metrics["wasserstein"])
        window["d_loss"].append(metrics.get("d_loss", 0.0))
        if state.step % cfg.eval_every == 0 or state.step == cfg.steps:
            evaluate(state.step)

    train_gan(step, x, batch_size=cfg.batch_size, steps=cfg.steps, run=run, name=name,
              seed=run.seed_for(f"{name}batches") % 2**31, callbacks=[LambdaCallback(on_step_end=on_step)],
              device=run.device)
    return {"g": g, "d": d, "track": track, **data}


def _class_stats(samples: Tensor, net) -> dict[str, float]:
    """Classifier-predicted label histogram of the samples: classes covered (>= 2% of samples each)
    and the max/min frequency ratio (1 = perfectly uniform), plus the classifier score."""
    from deepcourse.metrics.generative import classifier_score

    probs = net.probs(samples)  # (N, 10)
    freq = torch.bincount(probs.argmax(1), minlength=10).double() / len(probs)
    return {"classes_covered": float((freq >= 0.02).sum()), "class_freq_max": float(freq.max()),
            "class_freq_min": float(freq.min()), "classifier_score": classifier_score(probs)}


def _figures(run: Run, res: dict, title: str) -> None:
    from deepcourse.viz import image_grid, line_plot

    g, net, x = res["g"], res["net"], res["x"]
    samples = generate(g, 64, seed=run.seed_for("samples-z") % 2**31)
    run.save_figure("samples", image_grid(samples, nrow=8, title=f"{title}: random samples"))
    gen = run.generator("latent-walks")
    zs = torch.randn(4, 2, g.latent_dim, generator=gen)
    strips = torch.cat([LT.interpolate(g, z[0], z[1], steps=8, method="slerp") for z in zs])  # (32, C, H, W)
    run.save_figure("interpolation", image_grid(strips, nrow=8, title="slerp between two latents (rows)"))
    # latent arithmetic on classes found by the domain classifier: mean z of A - mean z of B + mean z of C
    z = torch.randn(1000, g.latent_dim, generator=gen)
    pred = net.predict(predict(g, z))
    groups = [z[pred == c][:8] for c in range(10)]
    have = [c for c in range(10) if len(groups[c]) >= 3]
    if len(have) >= 3:
        a, b, c = have[:3]
        za = LT.latent_arithmetic(groups[a], groups[b], groups[c], generator=gen)
        means = torch.stack([groups[k].mean(0) for k in (a, b, c)])  # (3, latent_dim)
        row = predict(g, torch.cat([means, za]))  # (12, C, H, W)
        run.save_figure("latent_arithmetic", image_grid(
            row, nrow=12, title=f"mean z('{a}') - mean z('{b}') + mean z('{c}'), then 8 jittered"))
    panel = LT.nearest_neighbour_panel(samples[:16], x)
    run.save_figure("nearest_neighbours", image_grid(panel, nrow=8, title="sample | nearest training image"))
    tr = res["track"]
    run.save_figure("fid_curve", line_plot(tr["step"], {"FID": tr["fid"]}, "discriminator step", "domain FID",
                                           logy=True, title=f"{title}: FID over training"))


def write_feature_fingerprint(run: Run, net) -> None:
    """``fid_features.json``: the fingerprint and metadata of the feature network every FID of the run used."""
    if run.is_main:
        (run.out / "fid_features.json").write_text(json.dumps(
            {"fingerprint": net.fingerprint, "meta": net.meta}, indent=2, default=str) + "\n")


def image_gan_experiment(cfg: ImageGANConfig, run: Run, title: str) -> dict[str, float]:
    """Train, draw, and report FID (last checkpoint), its ratio to the untrained G's, and class coverage."""
    res = train_image_gan(cfg, run)
    write_feature_fingerprint(run, res["net"])
    _figures(run, res, title)
    fids = res["track"]["fid"]
    # the ratio compares FIDs at equal sample counts (FID's bias depends on N): the last checkpoint's
    out = {"fid": fids[-1], "fid_untrained": fids[0], "fid_ratio": fids[-1] / fids[0],
           "fid_best": min(fids[1:]) if len(fids) > 1 else fids[-1]}
    out.update(_class_stats(generate(res["g"], max(cfg.n_eval, 1000), seed=run.seed_for("final-z") % 2**31),
                            res["net"]))
    return out
