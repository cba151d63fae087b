"""Experiments for module 10 (autodiff) and the mechanisms of module 0.1, on our NumPy engine.

Registered with ``deepcourse.core``; the registry imports this module itself (the
package ``__init__`` does not, so ``import deepcourse.autodiff`` stays torch-free).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from deepcourse.core import Reference, Run, at_most, experiment, param

from . import jacfwd, jacrev, nn, optim, source
from .examples import notes_example
from .jacobian import chain_costs
from .tensor import Tensor, no_grad


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


# ---- ad-notes-example ----------------------------------------------------------------------------
@dataclass
class NotesConfig:
    x: float = param(2.0, help="value of input x")
    y: float = param(3.0, help="value of input y (non-zero)")


@experiment(name="ad-notes-example", module="10", title="The notes' program through ANF, dup, forward and reverse AD",
            paper=Reference("Krawiec, module 10 notes (after T. Ellis's worked examples)", {"max_abs_err": 0.0}),
            quick=NotesConfig(), full=NotesConfig(), floor={"max_abs_err": at_most(1e-9), "stages_match_notes": 1.0},
            primary="max_abs_err")
def ad_notes_example(cfg: NotesConfig, run: Run) -> dict[str, float]:
    """Print the four stages for v = 2 p q + 3 r and check every mode against the closed form."""
    text = source.show(notes_example)
    (run.out / "stages.txt").write_text(text)
    if run.verbose:
        print(text)
    x, y = cfg.x, cfg.y
    exact = np.array([490 * x**3 + 3 / y, 1470 * x**2, -3 / y**2])  # v, dv/dx, dv/dy
    c = source.transform(notes_example)
    s2s_f = [c(x, y), c.jvp((x, y), (1.0, 0.0))[1], c.jvp((x, y), (0.0, 1.0))[1]]
    s2s_r = [c(x, y), *c.vjp((x, y), (1.0,))[1]]
    fwd = jacfwd(lambda z: notes_example(z[0], z[1]))(np.array([x, y]))
    rev = jacrev(lambda z: notes_example(z[0], z[1]))(np.array([x, y]))
    errs = [np.max(np.abs(np.asarray(s2s_f, float) - exact)), np.max(np.abs(np.asarray(s2s_r, float) - exact)),
            np.max(np.abs(fwd - exact[1:])), np.max(np.abs(rev - exact[1:]))]
    anf = source.to_anf(notes_example)
    expected_anf = ["p = mul(7, x)", "r = div(1, y)", "i1 = mul(p, x)", "q = mul(i1, 5)", "i2 = mul(2, p)",
                    "i3 = mul(i2, q)", "i4 = mul(3, r)", "v = add(i3, i4)"]
    dup = source.insert_dups(anf)
    match = [str(ln) for ln in anf.lines] == expected_anf and str(dup.lines[0]) == "(x1, x2) = dup(x)" and \
        source.forward_program(anf).pairs[1][1] == "dr = negate(div(dy, mul(y, y)))"
    return {"max_abs_err": float(max(errs) / max(1.0, np.abs(exact).max())), "stages_match_notes": float(match),
            "v": float(exact[0]), "dv_dx": float(s2s_r[1]), "dv_dy": float(s2s_r[2])}


# ---- ad-modes ------------------------------------------------------------------------------------
@dataclass
class ModesConfig:
    total: int = param(512, ge=16, help="n * m is held at this value while n / m sweeps")
    hidden: int = param(32, ge=1, help="width of the inner layer of f")
    repeats: int = param(3, ge=1, help="timing repeats (the minimum is kept)")


@experiment(name="ad-modes", module="10", title="Forward vs reverse mode: who wins depends on n/m",
            paper=Reference("Krawiec, module 10 notes; Griewank & Walther 2008", {"crossover_n_over_m": 1.0}),
            quick=ModesConfig(), full=ModesConfig(total=4096, hidden=128, repeats=5),
            floor={"forward_wins_at_small_n": 1.0, "reverse_wins_at_large_n": 1.0}, primary="crossover_n_over_m")
def ad_modes(cfg: ModesConfig, run: Run) -> dict[str, float]:
    """Time jacfwd (n JVPs) and jacrev (m VJPs) on f: R^n -> R^m, f(x) = sin(B tanh(A x))."""
    ratios, t_fwd, t_rev = [], [], []
    n = 2
    while n * 2 <= cfg.total:
        m = cfg.total // n
        A = run.rng.normal(size=(cfg.hidden, n)) / np.sqrt(n)
        B = run.rng.normal(size=(m, cfg.hidden)) / np.sqrt(cfg.hidden)

        def f(x, A=A, B=B):
            return np.sin(B @ np.tanh(A @ x))
        x = run.rng.normal(size=n)
        times = {}
        for name, jac in (("forward", jacfwd(f)), ("reverse", jacrev(f))):
            best = np.inf
            for _ in range(cfg.repeats):
                t0 = time.perf_counter()
                J = jac(x)
                best = min(best, time.perf_counter() - t0)
            times[name] = best
            assert J.shape == (m, n)
        ratios.append(n / m)
        t_fwd.append(times["forward"])
        t_rev.append(times["reverse"])
        run.log(len(ratios), n=n, m=m, forward_s=times["forward"], reverse_s=times["reverse"])
        n *= 2
    ratios, t_fwd, t_rev = np.array(ratios), np.array(t_fwd), np.array(t_rev)
    lr = np.log(t_fwd / t_rev)  # > 0 where reverse is faster
    cross = float("nan")
    for i in range(len(lr) - 1):
        if lr[i] <= 0 < lr[i + 1]:
            w = -lr[i] / (lr[i + 1] - lr[i])
            cross = float(np.exp(np.log(ratios[i]) + w * (np.log(ratios[i + 1]) - np.log(ratios[i]))))
            break
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(ratios, t_fwd * 1e3, "o-", label="forward (n JVPs)")
    ax.loglog(ratios, t_rev * 1e3, "s-", label="reverse (m VJPs)")
    if np.isfinite(cross):
        ax.axvline(cross, color="gray", ls="--", label=f"crossover n/m = {cross:.2g}")
    ax.set_xlabel("n / m (inputs / outputs)")
    ax.set_ylabel("time for the full Jacobian (ms)")
    ax.set_title(f"f: R^n -> R^m, n m = {cfg.total}")
    ax.legend()
    run.save_figure("modes_crossover", fig)
    costs = chain_costs([10, 300, 20, 1000])  # the notes' dy/dx = dh/db . dg/da . df/dx
    return {"crossover_n_over_m": cross, "forward_wins_at_small_n": float(t_fwd[0] < t_rev[0]),
            "reverse_wins_at_large_n": float(t_rev[-1] < t_fwd[-1]),
            "speedup_fwd_at_small_n": float(t_rev[0] / t_fwd[0]), "speedup_rev_at_large_n": float(t_fwd[-1] / t_rev[-1]),
            "chain_forward_mults": costs["forward"], "chain_reverse_mults": costs["reverse"],
            "chain_optimal_mults": costs["optimal"]}


# ---- delta-rule ----------------------------------------------------------------------------------
@dataclass
class DeltaConfig:
    n: int = param(200, ge=10, help="training examples")
    dim: int = param(5, ge=1, help="inputs per example")
    lr: float = param(0.002, gt=0)
    epochs: int = param(300, ge=1)


@experiment(name="delta-rule", module="0.1", title="Delta rule for a linear and a sigmoid unit",
            paper=Reference("Widrow & Hoff 1960", {}), quick=DeltaConfig(), full=DeltaConfig(n=2000, epochs=2000),
            floor={"linear_weight_err": at_most(1e-3), "sigmoid_acc": 0.95, "max_diff_vs_autodiff": at_most(1e-10)},
            primary="linear_weight_err")
def delta_rule(cfg: DeltaConfig, run: Run) -> dict[str, float]:
    """Batch delta rule: converges to least squares (linear unit) and separates two blobs (sigmoid unit)."""
    rng = run.rng
    X = np.c_[np.ones(cfg.n), rng.normal(size=(cfg.n, cfg.dim))]  # x_0 = 1 is the bias input
    w_true = rng.normal(size=cfg.dim + 1)
    t = X @ w_true + 0.1 * rng.normal(size=cfg.n)
    w_ls = np.linalg.lstsq(X, t, rcond=None)[0]
    w = np.zeros(cfg.dim + 1)
    lin_curve = []
    for _ in range(cfg.epochs):
        w, loss = nn.delta_rule_step(w, X, t, cfg.lr)
        lin_curve.append(loss / cfg.n)
    labels = (rng.random(cfg.n) < 0.5).astype(float)
    Xc = np.c_[np.ones(cfg.n), rng.normal(size=(cfg.n, cfg.dim)) + 2.0 * (2 * labels[:, None] - 1)]
    v = np.zeros(cfg.dim + 1)
    sig_curve = []
    for _ in range(cfg.epochs):
        v, loss = nn.delta_rule_step(v, Xc, labels, 10 * cfg.lr, "sigmoid")
        sig_curve.append(loss / cfg.n)
    acc = float(np.mean(((Xc @ v) > 0) == (labels > 0.5)))
    # the hand-written rule is gradient descent: compare one step with our reverse mode
    diffs = []
    for act in ("identity", "sigmoid"):
        w0 = rng.normal(size=cfg.dim + 1)
        w1, _ = nn.delta_rule_step(w0, X, t, cfg.lr, act)
        wt = Tensor(w0, requires_grad=True)
        nn.l2_loss(nn.ACTIVATIONS[act](Tensor(X) @ wt), t).backward()
        diffs.append(np.max(np.abs(w1 - (w0 - cfg.lr * wt.grad / 2))))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(lin_curve, label="linear unit (mean squared error)")
    ax.semilogy(sig_curve, label="sigmoid unit (mean squared error)")
    ax.set_xlabel("epoch")
    ax.legend()
    run.save_figure("delta_rule_loss", fig)
    for i in range(0, cfg.epochs, max(1, cfg.epochs // 10)):
        run.log(i, linear_mse=lin_curve[i], sigmoid_mse=sig_curve[i])
    return {"linear_weight_err": float(np.linalg.norm(w - w_ls)), "linear_mse": lin_curve[-1],
            "sigmoid_acc": acc, "max_diff_vs_autodiff": float(max(diffs))}


# ---- backprop-xor ----------------------------------------------------------------------------------
@dataclass
class XorConfig:
    hidden: int = param(4, ge=2, help="hidden tanh units")
    lr: float = param(0.5, gt=0)
    steps: int = param(1500, ge=1)


@experiment(name="backprop-xor", module="0.1", title="Backprop on our engine learns XOR",
            paper=Reference("Rumelhart, Hinton & Williams 1986", {"acc": 1.0}), quick=XorConfig(),
            full=XorConfig(steps=5000), floor={"acc": 1.0, "loss": at_most(0.05)}, primary="acc")
def backprop_xor(cfg: XorConfig, run: Run) -> dict[str, float]:
    """2-h-1 MLP (tanh hidden, sigmoid output), binary cross-entropy, full-batch momentum GD."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]) * 2 - 1
    y = np.array([0.0, 1.0, 1.0, 0.0])
    model = nn.MLP([2, cfg.hidden, 1], activation="tanh", seed=run.seed)
    opt = optim.Momentum(model.parameters(), lr=cfg.lr, momentum=0.9)
    curve = []
    for step in range(cfg.steps):
        opt.zero_grad()
        loss = nn.bce_with_logits(model(X).reshape(-1), y)
        loss.backward()
        opt.step()
        curve.append(loss.item())
        if step % 100 == 0:
            run.log(step, loss=curve[-1])
    with no_grad():
        logits = model(X).reshape(-1).numpy()
    acc = float(np.mean((logits > 0) == (y > 0.5)))
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    g = np.linspace(-1.5, 1.5, 121)
    gx, gy = np.meshgrid(g, g)
    with no_grad():
        z = model(np.c_[gx.ravel(), gy.ravel()]).numpy().reshape(gx.shape)
    axes[0].contourf(gx, gy, z > 0, alpha=0.3, cmap="coolwarm")
    axes[0].scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=80)
    axes[0].set_title("decision regions")
    axes[1].semilogy(curve)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("binary cross-entropy")
    run.save_figure("xor", fig)
    return {"acc": acc, "loss": curve[-1]}


# ---- backprop-digits --------------------------------------------------------------------------------
@dataclass
class DigitsConfig:
    dataset: str = param("digits", choices=("digits", "mnist"))
    hidden: tuple = param((128,), ge=1, help="hidden layer widths")
    lr: float = param(1e-3, gt=0)
    epochs: int = param(25, ge=1)
    batch: int = param(32, ge=1)


def _load_digits(cfg: DigitsConfig, run: Run):
    if cfg.dataset == "mnist":
        from deepcourse.data import load_tensors

        xtr, ytr = load_tensors("mnist", "train", root=run.data_root)
        xte, yte = load_tensors("mnist", "test", root=run.data_root)
        xtr = xtr.numpy().reshape(len(xtr), -1).astype(np.float32) / 255.0  # (60000, 784)
        xte = xte.numpy().reshape(len(xte), -1).astype(np.float32) / 255.0  # (10000, 784)
        return xtr, ytr.numpy(), xte, yte.numpy()
    from deepcourse.data import load_sklearn

    x, y = (t.numpy() for t in load_sklearn("digits"))
    perm = run.rng.permutation(len(x))
    cut = int(0.8 * len(x))
    x = x / 16.0  # pixel values 0..16
    return x[perm[:cut]], y[perm[:cut]], x[perm[cut:]], y[perm[cut:]]


@experiment(name="backprop-digits", module="0.1", title="Backprop MLP on our engine: digits (quick), MNIST (full)",
            paper=Reference("LeCun et al. 1998 (MLP baselines)", {"test_acc": 0.975}), quick=DigitsConfig(),
            full=DigitsConfig(dataset="mnist", hidden=(256, 256), epochs=12, batch=64),
            floor={"test_acc": 0.95}, primary="test_acc")
def backprop_digits(cfg: DigitsConfig, run: Run) -> dict[str, float]:
    """ReLU MLP, softmax cross-entropy, Adam; the test split is only touched once at the end."""
    xtr, ytr, xte, yte = _load_digits(cfg, run)
    mean = xtr.mean(0)
    xtr, xte = (xtr - mean).astype(np.float32), (xte - mean).astype(np.float32)
    model = nn.MLP([xtr.shape[1], *cfg.hidden, 10], activation="relu", seed=run.seed, dtype=np.float32)
    opt = optim.Adam(model.parameters(), lr=cfg.lr)
    curve = []
    for epoch in run.progress(range(cfg.epochs), desc="epochs"):
        total = 0.0
        for idx in nn.iterate_minibatches(len(xtr), cfg.batch, run.rng):
            opt.zero_grad()
            loss = nn.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        curve.append(total / len(xtr))
        run.log(epoch, train_loss=curve[-1])
    with no_grad():
        train_acc = 1 - nn.zero_one_loss(model(xtr[:5000]), ytr[:5000])
        test_acc = 1 - nn.zero_one_loss(model(xte), yte)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(curve)
    ax.set_xlabel("epoch")
    ax.set_ylabel("train cross-entropy")
    ax.set_title(f"{cfg.dataset}: test accuracy {test_acc:.4f}")
    run.save_figure("train_loss", fig)
    return {"test_acc": float(test_acc), "train_acc": float(train_acc), "train_loss": curve[-1]}


from .experiments_more import hopfield_capacity, hopfield_restore, optimizers_from_scratch  # noqa: E402,F401
