"""Module 2, toy data: mode collapse on the 5x5 grid of Gaussians.

``gan-grid25`` trains the same MLP generator/discriminator pair with five objectives - minimax and
non-saturating GAN (Goodfellow et al. 2014), WGAN with weight clipping (Arjovsky et al. 2017),
WGAN-GP (Gulrajani et al. 2017) and Coulomb GAN (Unterthiner et al. 2018; with its learned D, and
"coulomb-field", where G climbs the batch estimate of the potential directly) - and measures how many
of the 25 modes each covers and what share of its samples lies within 3 standard deviations of a
mode (VEEGAN / PacGAN protocol, :func:`deepcourse.metrics.generative.coverage.mode_coverage`).

The quick preset trains only the three objectives its floors are about, on wider Gaussians
(std 0.1) for 2000 steps; the full preset trains all five on the standard grid (std 0.05).

The data are scaled by 1/4 for training (modes on {-1, -0.5, 0, 0.5, 1}^2) so that the networks'
outputs start at the data's scale, and samples are scaled back before they are measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deepcourse.core import Reference, Run, at_least, experiment, param

from .networks import MLPDiscriminator, MLPGenerator
from .training import CoulombStep, GANStep, WGANStep, generate, single_thread, train_gan, wgan_optimizers

__all__ = ["Grid25Config", "METHODS", "grid25_table_md", "train_grid_method"]

METHODS = ("minimax", "nonsaturating", "wgan", "wgan-gp", "coulomb", "coulomb-field")
SCALE = 4.0  # training-space coordinates = data / SCALE


@dataclass
class Grid25Config:
    methods: str = param("minimax,nonsaturating,wgan,wgan-gp,coulomb,coulomb-field",
                         help="comma-separated subset of METHODS")
    n_train: int = param(20000, ge=100, help="training samples of the mixture")
    std: float = param(0.05, gt=0, help="standard deviation of each Gaussian (spacing 2)")
    latent_dim: int = param(2, ge=1)
    hidden: int = param(128, ge=4, help="width of the 3 hidden layers of G and D")
    batch_size: int = param(256, ge=2)
    steps: int = param(2000, ge=1, help="discriminator/critic steps per method")
    lr: float = param(1e-3, gt=0, help="Adam lr (GAN, WGAN-GP, Coulomb)")
    wgan_lr: float = param(5e-4, gt=0, help="RMSProp lr of the clipped WGAN")
    clip: float = param(0.01, gt=0, help="WGAN weight clipping c")
    gp_weight: float = param(0.1, gt=0, help="WGAN-GP lambda (0.1 in the authors' toy code)")
    eps: float = param(0.5, gt=0, help="Plummer kernel epsilon, in data units")
    kernel_dim: float = param(3.0, gt=0, help="Plummer kernel exponent d")
    n_eval: int = param(2500, ge=100, help="generated samples measured (PacGAN: 2500)")
    min_count: int = param(20, ge=1, help="high-quality samples a mode needs to count as covered")


def _adam(m: torch.nn.Module, lr: float, betas=(0.5, 0.999)) -> torch.optim.Optimizer:
    # beta1 = 0.5 as in DCGAN: less momentum in a game whose target moves every step
    return torch.optim.Adam(m.parameters(), lr=lr, betas=betas)


def train_grid_method(method: str, cfg: Grid25Config, x: torch.Tensor, run: Run | None = None):
    """Train one method on training-space data ``x`` (already divided by :data:`SCALE`); returns G."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS} (got {method!r})")
    hidden = (cfg.hidden,) * 3
    g, d = MLPGenerator(cfg.latent_dim, hidden, (2,)), MLPDiscriminator((2,), hidden)
    if method in ("minimax", "nonsaturating"):
        step = GANStep(g, d, _adam(g, cfg.lr), _adam(d, cfg.lr), loss=method)
    elif method == "wgan":
        o = wgan_optimizers(g, d, cfg.wgan_lr)
        step = WGANStep(g, d, o["g"], o["d"], n_critic=5, clip=cfg.clip)
    elif method == "wgan-gp":
        # Adam betas (0.5, 0.9): the authors' toy setting; gp per sample, so no BN anywhere here
        step = WGANStep(g, d, _adam(g, cfg.lr, (0.5, 0.9)), _adam(d, cfg.lr, (0.5, 0.9)), n_critic=5, clip=None,
                        gp_weight=cfg.gp_weight)
    else:
        # "coulomb-field": the ablation in which G climbs the batch potential itself (an exact D)
        step = CoulombStep(g, d, _adam(g, cfg.lr), _adam(d, cfg.lr), eps=cfg.eps / SCALE, dim=cfg.kernel_dim,
                           direct=method == "coulomb-field")
    train_gan(step, x, batch_size=cfg.batch_size, steps=cfg.steps, run=run, name=f"{method}/",
              seed=run.seed if run is not None else 0)
    return g


_NAMES = {"minimax": "GAN, minimax", "nonsaturating": "GAN, non-saturating", "wgan": "WGAN (weight clipping)",
          "wgan-gp": "WGAN-GP", "coulomb": "Coulomb GAN (learned D)", "coulomb-field": "Coulomb, exact batch field"}


def grid25_table_md(cfg: Grid25Config, methods: list[str], metrics: dict[str, float]) -> str:
    """Modes covered and % high-quality samples per objective, as a markdown table."""
    lines = [f"# 25 Gaussians (std {cfg.std}, {cfg.steps} D steps): modes covered and sample quality", "",
             "| objective | modes covered (of 25) | % high quality (within 3 std) |", "|---|---:|---:|"]
    lines += [f"| {_NAMES[m]} | {metrics[f'modes_{m}']:.0f} | {metrics[f'hq_{m}']:.1f} |" for m in methods]
    return "\n".join(lines) + "\n"


@experiment(
    name="gan-grid25", module="2", showcase=("samples",), title="Mode collapse on 25 Gaussians: GAN vs WGAN, WGAN-GP and Coulomb GAN",
    paper=Reference("Notes 2 (Coulomb GANs: 'mode collapse'); VEEGAN / PacGAN protocol (modes of 25, % high quality)",
                    {}),
    # quick: three objectives, wider Gaussians (std 0.1, 3-sigma radius 0.3) and a narrow net, so that
    # 2000 steps suffice on a CPU; full: all five on the standard std 0.05 grid.
    quick=Grid25Config(methods="nonsaturating,wgan-gp,coulomb-field", std=0.1, hidden=64, lr=2e-3, steps=2000),
    full=Grid25Config(steps=20000),
    # seeds 0 / 1 / 2 measured (2026-11-26): non-saturating 3 / 10 / 4, WGAN-GP 5 / 8 / 12, coulomb-field
    # 25 / 17 / 15 modes, so the gap coulomb-field - non-saturating is 22 / 7 / 11. An untrained or broken G
    # sits on at most one mode.
    floor={"modes_nonsaturating": at_least(2), "modes_wgan-gp": at_least(4), "modes_coulomb-field": at_least(12),
           "gap_coulomb_vs_gan": at_least(5)},
    primary="modes_coulomb-field",
)
def gan_grid25(cfg: Grid25Config, run: Run) -> dict[str, float]:
    """Modes covered (of 25) and % high-quality samples per objective; Coulomb/WGAN-GP cover most of the grid."""
    import matplotlib.pyplot as plt

    from deepcourse.data import gaussian_grid, gaussian_grid_centres
    from deepcourse.metrics.generative.coverage import mode_coverage

    methods = [m.strip() for m in cfg.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"methods must be a comma-separated subset of {METHODS} (got {cfg.methods!r})")
    x, _ = gaussian_grid(cfg.n_train, std=cfg.std, seed=run.seed)
    centres = gaussian_grid_centres()
    metrics: dict[str, float] = {}
    samples = {}
    with single_thread():
        for m in methods:
            torch.manual_seed(run.seed * 1000 + METHODS.index(m))
            g = train_grid_method(m, cfg, x / SCALE, run)
            s = generate(g, cfg.n_eval, seed=run.seed + 7) * SCALE  # back to data units
            cov = mode_coverage(s, centres, cfg.std, min_count=cfg.min_count)
            metrics[f"modes_{m}"], metrics[f"hq_{m}"] = cov["modes"], cov["high_quality"]
            samples[m] = s
    if "coulomb-field" in methods and "nonsaturating" in methods:
        # the notes' claim in one number: the potential field spreads G over modes the plain GAN drops
        metrics["gap_coulomb_vs_gan"] = metrics["modes_coulomb-field"] - metrics["modes_nonsaturating"]
    if run.is_main:
        (run.out / "table.md").write_text(grid25_table_md(cfg, methods, metrics))
    fig, axes = plt.subplots(1, len(methods) + 1, figsize=(3 * (len(methods) + 1), 3.2), sharex=True, sharey=True)
    axes = list(axes) if len(methods) else [axes]
    axes[0].scatter(x[:cfg.n_eval, 0], x[:cfg.n_eval, 1], s=2, alpha=0.5, color="C0")
    axes[0].set_title("data")
    for ax, m in zip(axes[1:], methods):
        s = samples[m]
        ax.scatter(centres[:, 0], centres[:, 1], s=15, marker="x", color="k", linewidths=0.8)
        ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.5, color="C3")
        ax.set_title(f"{m}: {metrics[f'modes_{m}']:.0f}/25, {metrics[f'hq_{m}']:.0f}% hq", fontsize=9)
    for ax in axes:
        ax.set_xlim(-6, 6)
        ax.set_ylim(-6, 6)
        ax.set_aspect("equal")
    fig.tight_layout()
    run.save_figure("samples", fig)
    if run.verbose:
        print(f"{'method':>14} {'modes (of 25)':>14} {'% high quality':>15}")
        for m in methods:
            print(f"{m:>14} {metrics[f'modes_{m}']:>14.0f} {metrics[f'hq_{m}']:>15.1f}")
    return metrics
