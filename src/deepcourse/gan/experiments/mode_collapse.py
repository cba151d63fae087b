"""Mode collapse on the 5x5 grid of Gaussians (notes 2, "Coulomb GANs"; the VEEGAN / PacGAN protocol).

The same MLP generator/discriminator pair is trained with each objective - minimax and non-saturating
GAN (Goodfellow et al. 2014), WGAN with weight clipping (Arjovsky et al. 2017), WGAN-GP (Gulrajani et
al. 2017) and Coulomb GAN (Unterthiner et al. 2018; with its learned D, and "coulomb-field", where G
climbs the batch estimate of the potential directly) - and we count how many of the 25 modes each
covers and what share of its samples lies within 3 standard deviations of a mode
(:func:`deepcourse.metrics.generative.mode_coverage`). A GAN hops between modes, so besides the count
at the end we average it over ``checkpoints`` checkpoints spread over the second half of training
(``modes_mean_*``): the number of modes a generator holds, not the number it passes through.

The learned-D Coulomb GAN (issue 17). The potential is right - the exact batch field covers 25 modes - but a plain
MLP D regressed onto it fails (``coulomb_recipe=unscaled``, Adam 1e-3 for both: 2 of 25 modes, 4 % high quality;
the authors' loop, ``coulomb_recipe=authors kernel_dim=1 eps=1``: G step, then D on the same fakes, Adam 1e-4: 0
of 25 and 1-3 % after 20000 steps on seeds 0-2, G a smooth blob). D's targets span the kernel's peak ``eps^-d``
(512 at ``eps = 0.5 / 4``, ``d = 3``: about +20 at reals, down to -500 at the fakes of a collapsed G), while an MLP
starts with outputs near 0 and Adam moves weights by about ``lr`` a step, so for thousands of steps D gives reals
and fakes nearly one value (with the charges frozen, after 200 steps: a reals-minus-fakes gap of 50 against the
target's 300) and G, following D's gradient, collapses or leaves the grid.

The default, ``coulomb_recipe=scaled``, is our fix, three changes to the unscaled recipe: (1) D outputs the
potential in units of the kernel's peak (:class:`deepcourse.gan.coulomb.PeakScaled`, ``D = eps^-d * MLP``; the
same function class and minimiser, only conditioned so that Adam reaches the targets' scale at once); (2) G is
slower than D (``coulomb_g_lr`` 1e-4, D at ``lr`` 1e-3), so D tracks the moving potential; (3) both lrs decay
linearly over the second half of training to ``coulomb_lr_decay`` = 0.1 of their start (the only objective given a
schedule here; the Coulomb GAN baseline on this grid in the Plummer-autoencoder code, arXiv:1802.03505, also
decays its lrs).
Measured, full preset (20000 steps, ``methods=coulomb checkpoints=11``, modes at 10k, 11k, ..., 20k):

- seed 0: 25 modes, 75.0 % high quality (checkpoints 20 14 22 20 22 19 22 25 25 25 25 modes);
- seed 1: 25 modes, 74.9 % (20 23 19 25 24 20 24 24 25 25 25);
- seed 2: 25 modes, 72.2 % (11 17 20 21 25 24 20 25 25 25 25).

Ablations on seed 0: without the decay (1 + 2) G reaches 21 modes, 49 % high quality at the end but swings (20 16
15 15 16 18 20 13 16 0 21 modes at 10k-20k), its samples bridging the modes along the grid lines; with G at 3e-4
and no decay, 16 modes and 48 % (scratch harness). Without the scaling nothing we tried covered more than 3 modes
in 2000-8000-step scratch pilots on seed 0: matching D's gradient to the batch field (Sobolev training), a softplus
D, random Fourier features for D (also with the scaling: D fits the reals, but its gradient at the fakes is noise),
5 D steps per G step.

The quick preset trains only the two objectives its floors are about, on wider Gaussians (std 0.15) for
1000 steps; the full preset trains all six on the standard grid (std 0.05) for 20000. The data are scaled
by 1/4 for training
(modes on {-1, -0.5, 0, 0.5, 1}^2) so that the networks' outputs start at the data's scale; samples are
scaled back before they are measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from deepcourse.core import LambdaCallback, Reference, Run, at_least, experiment, param

from ..coulomb import PeakScaled
from ..networks import MLPDiscriminator, MLPGenerator
from ..training import CoulombStep, GANStep, WGANStep, generate, train_gan, wgan_optimizers

METHODS = ("minimax", "nonsaturating", "wgan", "wgan-gp", "coulomb", "coulomb-field")
NAMES = {"minimax": "GAN, minimax", "nonsaturating": "GAN, non-saturating", "wgan": "WGAN (weight clipping)",
         "wgan-gp": "WGAN-GP", "coulomb": "Coulomb GAN (learned D)", "coulomb-field": "Coulomb, exact batch field"}
SCALE = 4.0  # training-space coordinates = data / SCALE


@dataclass
class Grid25Config:
    methods: tuple[str, ...] = param(METHODS, choices=METHODS, help="objectives to train")
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
    checkpoints: int = param(3, ge=1, help="coverage checkpoints over the second half of training (averaged)")
    coulomb_recipe: str = param("scaled", choices=("scaled", "unscaled", "authors"),
                                help="learned-D Coulomb GAN: 'scaled' (D = eps^-d * MLP, so D regresses onto the "
                                     "potential in units of the kernel's peak; D step, then G on fresh fakes; Adam "
                                     "betas (0.5, 0.999), D at lr, G at coulomb_g_lr, both decayed to "
                                     "coulomb_lr_decay), 'unscaled' (a plain MLP D, both at lr, no decay) or "
                                     "'authors' (bioinf-jku/coulomb_gan: G step, then D on the same fakes; Adam 1e-4, "
                                     "default betas). Their kernel is kernel_dim=1 "
                                     "(their 'dimension 3'), eps=1 in their image units")
    coulomb_g_lr: float = param(1e-4, gt=0, help="G's Adam lr in the 'scaled' learned-D Coulomb GAN (D uses lr)")
    coulomb_lr_decay: float = param(0.1, gt=0, le=1,
                                    help="'scaled' recipe: both lrs decay linearly over the second half of training "
                                         "to this factor (1: constant)")


def _adam(m: torch.nn.Module, lr: float, betas=(0.5, 0.999)) -> torch.optim.Optimizer:
    # beta1 = 0.5 as in DCGAN: less momentum in a game whose target moves every step
    return torch.optim.Adam(m.parameters(), lr=lr, betas=betas)


def train_grid_method(method: str, cfg: Grid25Config, x: torch.Tensor, run: Run, at: set[int] = frozenset(),
                      on_checkpoint: Callable[[torch.nn.Module, int], None] | None = None) -> torch.nn.Module:
    """Train one objective on training-space data ``x`` (already divided by :data:`SCALE`); returns G.
    ``on_checkpoint(g, step)`` is called after each step in ``at``."""
    run.manual_seed(f"{method}/init")
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
    elif method == "coulomb" and cfg.coulomb_recipe == "authors":
        step = CoulombStep(g, d, _adam(g, 1e-4, (0.9, 0.999)), _adam(d, 1e-4, (0.9, 0.999)), eps=cfg.eps / SCALE,
                           dim=cfg.kernel_dim, g_first=True)
    elif method == "coulomb" and cfg.coulomb_recipe == "scaled":
        # D outputs the potential in units of the kernel's peak eps^-d (PeakScaled); G slower than D
        d = PeakScaled(d, cfg.eps / SCALE, cfg.kernel_dim)
        step = CoulombStep(g, d, _adam(g, cfg.coulomb_g_lr), _adam(d, cfg.lr), eps=cfg.eps / SCALE,
                           dim=cfg.kernel_dim)
    else:
        # "coulomb-field": the ablation in which G climbs the batch potential itself (an exact D)
        step = CoulombStep(g, d, _adam(g, cfg.lr), _adam(d, cfg.lr), eps=cfg.eps / SCALE, dim=cfg.kernel_dim,
                           direct=method == "coulomb-field")

    decay = cfg.coulomb_lr_decay if method == "coulomb" and cfg.coulomb_recipe == "scaled" else 1.0
    base = [[grp["lr"] for grp in o.param_groups] for o in (step.opt_g, step.opt_d)]

    def checkpoint(state, _metrics) -> None:
        if decay != 1.0:  # the lr for the next step, from the step count alone (so a resume agrees)
            frac = min(max((state.step - cfg.steps / 2) / (cfg.steps / 2), 0.0), 1.0)
            for o, lrs in zip((step.opt_g, step.opt_d), base):
                for grp, lr in zip(o.param_groups, lrs):
                    grp["lr"] = lr * (1.0 - (1.0 - decay) * frac)
        if on_checkpoint is not None and state.step in at:
            on_checkpoint(g, state.step)

    train_gan(step, x, batch_size=cfg.batch_size, steps=cfg.steps, run=run, name=f"{method}/",
              seed=run.seed_for(f"{method}/batches") % 2**31, callbacks=[LambdaCallback(on_step_end=checkpoint)])
    return g


def _figure(run: Run, x: torch.Tensor, centres: torch.Tensor, samples: dict, metrics: dict, n: int) -> None:
    from deepcourse.viz import new_figure

    fig = new_figure((3 * (len(samples) + 1), 3.2))
    axes = fig.subplots(1, len(samples) + 1, sharex=True, sharey=True)
    axes[0].scatter(x[:n, 0], x[:n, 1], s=2, alpha=0.5, color="C0")
    axes[0].set_title("data")
    for ax, (m, s) in zip(axes[1:], samples.items()):
        ax.scatter(centres[:, 0], centres[:, 1], s=15, marker="x", color="k", linewidths=0.8)
        ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.5, color="C3")
        ax.set_title(f"{m}: {metrics[f'modes_{m}']:.0f}/25, {metrics[f'hq_{m}']:.0f}% hq", fontsize=9)
    for ax in axes:
        ax.set_xlim(-6, 6)
        ax.set_ylim(-6, 6)
        ax.set_aspect("equal")
    run.save_figure("samples", fig)


@experiment(
    name="gan-grid25", module="2", showcase=("samples",),
    title="Mode collapse on 25 Gaussians: GAN vs WGAN, WGAN-GP and Coulomb GAN",
    paper=Reference("Notes 2 (Coulomb GANs: 'mode collapse'); VEEGAN / PacGAN protocol (modes of 25, % high quality)",
                    {}),
    # quick: the plain GAN against the exact Coulomb field, wider Gaussians (std 0.15, 3-sigma radius 0.45, still
    # far from the spacing 2) and a narrow net, so that 1000 steps each suffice on a CPU (std 0.1 needs 2000+);
    # WGAN-GP needs 5 critic steps per G step and is left to the full preset, which trains all six.
    quick=Grid25Config(methods=("nonsaturating", "coulomb-field"), std=0.15, hidden=64, lr=3e-3, steps=1000),
    full=Grid25Config(steps=20000),
    # seeds 0-4 (threads 1 and 2 agree): coulomb-field 12.3 20.7 18.3 17.0 18.7 modes, gap 5.3 11.7 14.3 11.3 16.3.
    # An untrained G sits on at most the centre mode; a frozen one gives 0 modes and a gap of -1.
    floor={"modes_mean_coulomb-field": at_least(10), "gap_coulomb_vs_gan": at_least(4)},
    primary="modes_coulomb-field", threads=1,
)
def gan_grid25(cfg: Grid25Config, run: Run) -> dict[str, float]:
    """Modes covered (of 25) and % high-quality samples per objective; Coulomb/WGAN-GP cover most of the grid."""
    from deepcourse.data import gaussian_grid, gaussian_grid_centres
    from deepcourse.metrics.generative import mode_coverage

    x, _ = gaussian_grid(cfg.n_train, std=cfg.std, seed=run.seed_for("data") % 2**31)
    centres = gaussian_grid_centres()
    n = cfg.checkpoints
    at = {round(cfg.steps * (0.5 + 0.5 * k / (n - 1))) for k in range(n)} if n > 1 else {cfg.steps}
    metrics: dict[str, float] = {}
    samples = {}
    for m in cfg.methods:
        counts: list[float] = []

        def measure(g: torch.nn.Module) -> dict[str, float]:
            s = generate(g, cfg.n_eval, seed=run.seed_for("eval-z") % 2**31) * SCALE  # back to data units
            samples[m] = s
            return mode_coverage(s, centres, cfg.std, min_count=cfg.min_count)

        def at_checkpoint(g: torch.nn.Module, step: int) -> None:
            cov = measure(g)
            counts.append(cov["modes"])
            run.log(step, **{f"{m}/coverage_modes": cov["modes"], f"{m}/coverage_hq": cov["high_quality"]})

        g = train_grid_method(m, cfg, x / SCALE, run, at, at_checkpoint)
        cov = measure(g)
        metrics[f"modes_{m}"], metrics[f"hq_{m}"] = cov["modes"], cov["high_quality"]
        counts = counts or [cov["modes"]]  # fewer steps than checkpoints: the final count
        metrics[f"modes_mean_{m}"] = sum(counts) / len(counts)
    if "coulomb-field" in cfg.methods and "nonsaturating" in cfg.methods:
        # the notes' claim in one number: the potential field spreads G over modes the plain GAN drops
        metrics["gap_coulomb_vs_gan"] = metrics["modes_mean_coulomb-field"] - metrics["modes_mean_nonsaturating"]
    run.table([{"objective": NAMES[m], "modes covered (of 25)": int(metrics[f"modes_{m}"]),
                "modes, mean of 2nd half": metrics[f"modes_mean_{m}"],
                "% high quality (within 3 std)": round(metrics[f"hq_{m}"], 1)} for m in cfg.methods],
              f"25 Gaussians (std {cfg.std}, {cfg.steps} D steps): modes covered and sample quality")
    _figure(run, x, centres, samples, metrics, cfg.n_eval)
    return metrics
