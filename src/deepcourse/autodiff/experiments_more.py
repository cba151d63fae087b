"""Optimiser and Hopfield experiments (imported by ``experiments``; split only to keep files short)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepcourse.core import Reference, Run, at_least, at_most, experiment, param

from . import nn, optim
from .hopfield import Hopfield, flip_bits, overlap
from .tensor import no_grad


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


# ---- optimizers-from-scratch ---------------------------------------------------------------------
@dataclass
class OptConfig:
    steps: int = param(100, ge=1, help="parameter updates per optimiser")
    hidden: int = param(32, ge=1)
    n: int = param(400, ge=50, help="training examples (digits)")
    batch: int = param(64, ge=1, help="minibatch for SGD-type methods; GD and Rprop use the full batch")


# learning rates picked by a coarse sweep on this problem; Rprop's lr is its initial step Delta_0
LRS = {"gd": 0.5, "sgd": 0.5, "momentum": 0.05, "nesterov": 0.05, "rprop": 0.01, "rprop_backtracking": 0.01,
       "rmsprop": 0.003, "adam": 0.01}
FULL_BATCH = {"gd", "rprop", "rprop_backtracking"}  # Rprop's sign logic needs exact, not noisy, gradients


@experiment(name="optimizers-from-scratch", module="0.1", title="GD, SGD, momentum, Nesterov, Rprop, RMSProp, Adam",
            paper=Reference("Riedmiller & Braun 1993; Kingma & Ba 2015", {}), quick=OptConfig(),
            full=OptConfig(steps=1000, n=1797, hidden=64), floor={"worst_loss_ratio": at_most(0.5)}, primary="adam_final_loss")
def optimizers_from_scratch(cfg: OptConfig, run: Run) -> dict[str, float]:
    """Train the same 64-h-10 MLP on digits with every optimiser; plot full-batch loss per step."""
    from deepcourse.data import load_sklearn

    x, y = (t.numpy() for t in load_sklearn("digits"))
    idx = run.rng.permutation(len(x))[:cfg.n]
    x, y = (x[idx] / 16.0 - 0.3).astype(np.float64), y[idx]
    curves: dict[str, list[float]] = {}
    for name, make in optim.OPTIMIZERS.items():
        model = nn.MLP([64, cfg.hidden, 10], activation="tanh", seed=run.seed)
        opt = make(model.parameters(), lr=LRS[name])
        rng = np.random.default_rng(run.seed)
        curve = []
        batches = iter(())
        for step in range(cfg.steps):
            if name in FULL_BATCH:
                b = slice(None)
            else:
                b = next(batches, None)
                if b is None:
                    batches = nn.iterate_minibatches(len(x), cfg.batch, rng)
                    b = next(batches)
            opt.zero_grad()
            loss = nn.cross_entropy(model(x[b]), y[b])
            loss.backward()
            opt.step()
            if step % 10 == 0 or step == cfg.steps - 1:
                with no_grad():
                    curve.append(nn.cross_entropy(model(x), y).item())
        curves[name] = curve
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, c in curves.items():
        ax.semilogy(np.linspace(0, cfg.steps, len(c)), c, label=name, ls="--" if name in FULL_BATCH else "-")
    ax.set_xlabel("update")
    ax.set_ylabel("full-batch cross-entropy")
    ax.legend(ncol=2, fontsize=8)
    run.save_figure("optimizer_curves", fig)
    out = {f"{k}_final_loss": v[-1] for k, v in curves.items()}
    out["worst_loss_ratio"] = max(v[-1] / v[0] for v in curves.values())
    return out


# ---- hopfield-restore ----------------------------------------------------------------------------
@dataclass
class RestoreConfig:
    side: int = param(16, ge=4, help="images are side x side binary pixels")
    patterns: int = param(5, ge=1)
    noise: float = param(0.25, ge=0, le=0.5, help="fraction of pixels flipped")


@experiment(name="hopfield-restore", module="0.1", title="A Hopfield network restores noisy binary images",
            paper=Reference("Hopfield 1982", {}), quick=RestoreConfig(), full=RestoreConfig(side=32, patterns=20),
            floor={"mean_overlap_after": 0.98, "energy_increases": at_most(0)}, primary="mean_overlap_after")
def hopfield_restore(cfg: RestoreConfig, run: Run) -> dict[str, float]:
    """Store random binary images (Hebbian), corrupt them, recall asynchronously; energy is tracked."""
    n = cfg.side**2
    # random images, not digits: digit bitmaps share most background pixels, and such correlated
    # patterns merge into spurious attractors long before the 0.138 N capacity
    xi = run.rng.choice([-1.0, 1.0], size=(cfg.patterns, n))
    net = Hopfield(n).store(xi)
    noisy = flip_bits(xi, cfg.noise, run.rng)
    restored, increases, sync_overlaps, traces = [], 0, [], []
    for p, s in zip(xi, noisy):
        r, energies = net.update_async(s, run.rng, sweeps=20, trace=True)
        increases += int(np.sum(np.diff(energies) > 1e-9))
        restored.append(r)
        traces.append(energies)
        sync_overlaps.append(overlap(net.update_sync(s, steps=20), p)[0])
    restored = np.array(restored)
    before, after = overlap(noisy, xi), overlap(restored, xi)
    plt = _plt()
    k = min(cfg.patterns, 5)
    fig, axes = plt.subplots(3, k + 1, figsize=(2 * (k + 1), 6), squeeze=False)
    for j in range(k):
        for i, (img, lab) in enumerate(((xi[j], "stored"), (noisy[j], "noisy"), (restored[j], "restored"))):
            axes[i, j].imshow(img.reshape(cfg.side, cfg.side), cmap="gray", vmin=-1, vmax=1)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            if j == 0:
                axes[i, j].set_ylabel(lab)
    gs = axes[0, k].get_gridspec()
    for a in axes[:, k]:
        a.remove()
    ax = fig.add_subplot(gs[:, k])
    for e in traces:
        ax.plot(np.arange(len(e)) / n, e)
    ax.set_xlabel("sweeps")
    ax.set_title("energy (async)")
    run.save_figure("restore", fig)
    return {"mean_overlap_before": float(before.mean()), "mean_overlap_after": float(after.mean()),
            "frac_perfect": float(np.mean(after == 1.0)), "sync_mean_overlap": float(np.mean(sync_overlaps)),
            "energy_increases": float(increases)}


# ---- hopfield-capacity -----------------------------------------------------------------------------
@dataclass
class CapacityConfig:
    n: int = param(200, ge=20, help="units")
    trials: int = param(2, ge=1, help="independent pattern sets per load")
    max_load: float = param(0.3, gt=0, le=1)
    loads: int = param(15, ge=3, help="number of P/N values")


@experiment(name="hopfield-capacity", module="0.1", title="Hopfield capacity: recall breaks down near 0.138 N",
            paper=Reference("Amit, Gutfreund & Sompolinsky 1985", {"capacity_alpha": 0.138}),
            quick=CapacityConfig(), full=CapacityConfig(n=1000, trials=5, loads=30),
            floor={"capacity_alpha": at_least(0.08), "abs_dev_from_0138": at_most(0.06)}, primary="capacity_alpha")
def hopfield_capacity(cfg: CapacityConfig, run: Run) -> dict[str, float]:
    """Start at each stored pattern, run the dynamics, and measure the final overlap vs load P/N.

    Capacity is read off where the mean final overlap falls below 0.9 (the retrieval state of
    the theory keeps m ~ 0.97 up to alpha_c ~ 0.138 and then disappears).
    """
    alphas = np.linspace(cfg.max_load / cfg.loads, cfg.max_load, cfg.loads)
    m_mean, recalled = [], []
    for i, a in enumerate(alphas):
        p = max(1, int(round(a * cfg.n)))
        ms = []
        for _ in range(cfg.trials):
            xi = run.rng.choice([-1.0, 1.0], size=(p, cfg.n))
            net = Hopfield(cfg.n).store(xi)
            ms.append(overlap(net.recall_batch(xi, max_steps=40), xi))
        ms = np.concatenate(ms)
        m_mean.append(float(ms.mean()))
        recalled.append(float(np.mean(ms >= 0.95)))
        run.log(i, load=a, mean_overlap=m_mean[-1], frac_recalled=recalled[-1])
    m_mean = np.array(m_mean)
    below = np.nonzero(m_mean < 0.9)[0]
    if len(below) == 0:
        cap = float(alphas[-1])
    elif below[0] == 0:
        cap = float(alphas[0])
    else:
        j = below[0]  # interpolate between the last load above 0.9 and the first below
        cap = float(alphas[j - 1] + (m_mean[j - 1] - 0.9) / (m_mean[j - 1] - m_mean[j]) * (alphas[j] - alphas[j - 1]))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(alphas, m_mean, "o-", label="mean final overlap")
    ax.plot(alphas, recalled, "s-", label="fraction recalled (m >= 0.95)")
    ax.axvline(0.138, color="gray", ls="--", label="0.138 (Amit et al. 1985)")
    ax.axvline(cap, color="red", ls=":", label=f"measured {cap:.3f}")
    ax.set_xlabel("load P / N")
    ax.set_title(f"N = {cfg.n}")
    ax.legend()
    run.save_figure("capacity", fig)
    return {"capacity_alpha": cap, "abs_dev_from_0138": abs(cap - 0.138),
            "overlap_at_0.05": float(np.interp(0.05, alphas, m_mean)),
            "overlap_at_0.25": float(np.interp(0.25, alphas, m_mean))}
