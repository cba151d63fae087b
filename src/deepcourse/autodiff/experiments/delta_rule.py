"""The delta rule (Widrow & Hoff 1960) for a linear and a sigmoid unit, and that it is gradient descent."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepcourse.core import Reference, Run, at_least, at_most, experiment, param

from .. import nn
from ..tensor import Tensor


@dataclass
class DeltaConfig:
    n: int = param(200, ge=10, help="training examples")
    dim: int = param(5, ge=1, help="inputs per example")
    lr: float = param(0.002, gt=0, help="eta of the linear unit (the sigmoid unit uses 10 eta)")
    epochs: int = param(300, ge=1)


@experiment(name="delta-rule", module="0.1", title="Delta rule for a linear and a sigmoid unit",
            paper=Reference("Widrow & Hoff 1960", {}), quick=DeltaConfig(),
            # the batch rule sums over n examples, so eta scales as 1/n: 0.002 with n = 2000 diverges
            full=DeltaConfig(n=2000, lr=0.0002, epochs=2000),
            # seeds 0-4, threads 1 and 2: linear_weight_err <= 2.6e-15, sigmoid_acc 1.0, max_diff <= 3.4e-16
            # (measured); with the sign of the update flipped (w + eta delta x) the weights diverge and all fail
            floor={"linear_weight_err": at_most(1e-3), "sigmoid_acc": at_least(0.95),
                   "max_diff_vs_autodiff": at_most(1e-10)}, primary="linear_weight_err", threads=1)
def delta_rule(cfg: DeltaConfig, run: Run) -> dict[str, float]:
    """Batch delta rule: converges to least squares (linear unit) and separates two blobs (sigmoid unit)."""
    from deepcourse.viz import loss_curves

    rng = np.random.default_rng(run.seed_for("data"))
    X = np.c_[np.ones(cfg.n), rng.normal(size=(cfg.n, cfg.dim))]  # (n, dim + 1): x_0 = 1 is the bias input
    t = X @ rng.normal(size=cfg.dim + 1) + 0.1 * rng.normal(size=cfg.n)
    w_ls = np.linalg.lstsq(X, t, rcond=None)[0]
    labels = (rng.random(cfg.n) < 0.5).astype(float)
    Xc = np.c_[np.ones(cfg.n), rng.normal(size=(cfg.n, cfg.dim)) + 2.0 * (2 * labels[:, None] - 1)]  # two blobs
    w, v = np.zeros(cfg.dim + 1), np.zeros(cfg.dim + 1)
    curves: dict[str, list[float]] = {"linear unit": [], "sigmoid unit": []}
    for _ in range(cfg.epochs):
        w, loss = nn.delta_rule_step(w, X, t, cfg.lr)
        curves["linear unit"].append(loss / cfg.n)
        v, loss = nn.delta_rule_step(v, Xc, labels, 10 * cfg.lr, "sigmoid")
        curves["sigmoid unit"].append(loss / cfg.n)
    acc = float(np.mean(((Xc @ v) > 0) == (labels > 0.5)))
    # the hand-written rule is gradient descent on the squared error: compare one step with our reverse mode
    diffs = []
    for act in ("identity", "sigmoid"):
        w0 = rng.normal(size=cfg.dim + 1)
        w1, _ = nn.delta_rule_step(w0, X, t, cfg.lr, act)
        wt = Tensor(w0, requires_grad=True)
        nn.l2_loss(nn.ACTIVATIONS[act](Tensor(X) @ wt), t).backward()
        diffs.append(np.max(np.abs(w1 - (w0 - cfg.lr * wt.grad / 2))))  # eta absorbs the 2 of d(e^2)/de
    run.save_figure("delta_rule_loss", loss_curves(curves, logy=True, xlabel="epoch", ylabel="mean squared error"))
    for i in range(0, cfg.epochs, max(1, cfg.epochs // 10)):
        run.log(i, linear_mse=curves["linear unit"][i], sigmoid_mse=curves["sigmoid unit"][i])
    return {"linear_weight_err": float(np.linalg.norm(w - w_ls)), "linear_mse": curves["linear unit"][-1],
            "sigmoid_acc": acc, "max_diff_vs_autodiff": float(max(diffs))}
