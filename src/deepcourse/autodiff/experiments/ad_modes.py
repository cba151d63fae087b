"""Forward vs reverse mode: which is cheaper depends on the ratio of inputs to outputs (module 10 notes)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from deepcourse.core import Reference, Run, at_least, experiment, param

from .. import jacfwd, jacrev
from ..jacobian import chain_costs


@dataclass
class ModesConfig:
    total: int = param(512, ge=16, help="n * m is held at this value while n / m sweeps")
    hidden: int = param(32, ge=1, help="width of the inner layer of f")
    repeats: int = param(3, ge=1, help="timing repeats (the minimum is kept)")


def _best_time(fn, x, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x)
        best = min(best, time.perf_counter() - t0)
    return best


@experiment(name="ad-modes", module="10", title="Forward vs reverse mode: who wins depends on n/m",
            paper=Reference("Krawiec, module 10 notes; Griewank & Walther 2008", {"crossover_n_over_m": 1.0}),
            quick=ModesConfig(), full=ModesConfig(total=4096, hidden=128, repeats=5),
            # seeds 0-4, threads 1 and 2 on a loaded 2-core machine: speedup_fwd_at_small_n 92-398 and
            # speedup_rev_at_large_n 207-328 (measured; 2 JVPs vs 256 VJPs at the ends); 10 leaves room for
            # timing noise, and with jacfwd and jacrev swapped both are 0.005: the floor fails
            floor={"speedup_fwd_at_small_n": at_least(10.0), "speedup_rev_at_large_n": at_least(10.0)},
            primary="crossover_n_over_m", threads=1)
def ad_modes(cfg: ModesConfig, run: Run) -> dict[str, float]:
    """Time jacfwd (n JVPs) and jacrev (m VJPs) on f: R^n -> R^m, f(x) = sin(B tanh(A x)), n m fixed."""
    from deepcourse.viz import line_plot

    rng = np.random.default_rng(run.seed_for("weights"))
    rows = []
    n = 2
    while n * 2 <= cfg.total:
        m = cfg.total // n
        A = rng.normal(size=(cfg.hidden, n)) / np.sqrt(n)  # (hidden, n)
        B = rng.normal(size=(m, cfg.hidden)) / np.sqrt(cfg.hidden)  # (m, hidden)

        def f(x, A=A, B=B):
            return np.sin(B @ np.tanh(A @ x))
        x = rng.normal(size=n)
        assert jacfwd(f)(x).shape == (m, n)
        rows.append({"n": n, "m": m, "n_over_m": n / m, "forward_ms": 1e3 * _best_time(jacfwd(f), x, cfg.repeats),
                     "reverse_ms": 1e3 * _best_time(jacrev(f), x, cfg.repeats)})
        run.log(len(rows), n=n, m=m, forward_s=rows[-1]["forward_ms"] / 1e3, reverse_s=rows[-1]["reverse_ms"] / 1e3)
        n *= 2
    run.table(rows, f"Full Jacobian of f: R^n -> R^m with n m = {cfg.total}: best of {cfg.repeats} (ms)")
    ratios = np.array([r["n_over_m"] for r in rows])
    t_fwd, t_rev = np.array([r["forward_ms"] for r in rows]), np.array([r["reverse_ms"] for r in rows])
    lr = np.log(t_fwd / t_rev)  # > 0 where reverse is faster
    cross = float("nan")
    for i in range(len(lr) - 1):
        if lr[i] <= 0 < lr[i + 1]:  # interpolate log(time ratio) in log(n/m)
            w = -lr[i] / (lr[i + 1] - lr[i])
            cross = float(np.exp(np.log(ratios[i]) + w * (np.log(ratios[i + 1]) - np.log(ratios[i]))))
            break
    fig = line_plot(ratios, {"forward (n JVPs)": t_fwd, "reverse (m VJPs)": t_rev}, logx=True, logy=True,
                    xlabel="n / m (inputs / outputs)", ylabel="time for the full Jacobian (ms)",
                    title=f"f: R^n -> R^m, n m = {cfg.total}")
    if np.isfinite(cross):
        fig.axes[0].axvline(cross, color="gray", ls="--", label=f"crossover n/m = {cross:.2g}")
        fig.axes[0].legend()
    run.save_figure("modes_crossover", fig)
    costs = chain_costs([10, 300, 20, 1000])  # the notes' dy/dx = dh/db . dg/da . df/dx
    return {"crossover_n_over_m": cross, "speedup_fwd_at_small_n": float(t_rev[0] / t_fwd[0]),
            "speedup_rev_at_large_n": float(t_fwd[-1] / t_rev[-1]), "chain_forward_mults": costs["forward"],
            "chain_reverse_mults": costs["reverse"], "chain_optimal_mults": costs["optimal"]}
