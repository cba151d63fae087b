"""``rnn-gradient-flow``: why recurrent gradients vanish or explode, and two remedies from the course notes.

1. **Gradient norm through 100 steps.** ``‖∂L/∂h_t‖`` for ``L = ⟨v, h_T⟩`` as it flows back from ``t = T`` to 0,
   for a linear RNN ``h_t = R h_{t-1}`` (the notes' argument, which ignores the activation) and a tanh Elman RNN
   driven by random inputs, with the recurrent matrix orthogonal (Saxe et al. 2014) or i.i.d. Gaussian
   ``N(0, gain²/N)`` (spectral radius about ``gain``). Orthogonal keeps the norm of the linear case exactly; the
   Gaussian matrices shrink it or blow it up geometrically.
2. **The notes' Fibonacci demonstration** (after Merity 2016): ``F = [[0, 1], [1, 1]] = Q Λ Q⁻¹`` with
   ``Λ = diag(-0.618, 1.618)``, so ``Fⁿ = Q Λⁿ Q⁻¹`` is dominated by the largest eigenvalue (``Λ¹⁰ =
   diag(0.0081, 122.99)``); eigenvalues > 1 explode, < 1 vanish, = 1 keep the norm.
3. **Clipping against normalisation on a task that explodes** (the notes' remedies; Pascanu et al. 2013): the
   adding problem (Hochreiter & Schmidhuber 1997) learnt by a tanh Elman RNN whose recurrent weights start with
   gain ``explode_gain`` (the chaotic regime) with plain SGD. Arms: nothing; clipping each gradient entry to
   ``[-c, c]`` (the notes' ``tf.clip_by_value``); rescaling to norm at most ``max_norm`` (``core.GradClip``);
   normalising to unit norm (``core.GradNormalize``). Without a remedy training mostly ends in a non-finite loss
   (otherwise far above the MSE of predicting the mean, 1/6).
   The cosine between the raw and the processed gradient shows the notes' point that clipping by value changes
   the gradient's direction while norm-based rescaling does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from deepcourse.core import Callback, GradClip, GradClipValue, GradNormalize, NonFiniteError, Reference, Run, at_most, experiment, \
    fit, param
from deepcourse.rnn import ElmanCell, SequenceClassifier, init_recurrent_
from deepcourse.viz import line_plot

METHODS = ("none", "clip-value", "clip-norm", "normalise")


@dataclass
class GradientFlowConfig:
    hidden: int = param(128, ge=2, help="units of the RNNs of part 1")
    steps: int = param(100, ge=2, help="time steps the gradient flows through (part 1)")
    gains: tuple[float, ...] = param((0.8, 1.0, 1.2), gt=0, help="gains of the Gaussian recurrent matrices")
    input_scale: float = param(0.1, ge=0, help="std of the tanh RNN's random inputs (small: tanh near identity)")
    task_length: int = param(20, ge=4, help="adding problem: sequence length")
    task_hidden: int = param(32, ge=2)
    train_steps: int = param(100, ge=1, help="SGD steps per arm")
    batch: int = param(64, ge=1)
    lr: float = param(0.05, gt=0)
    explode_gain: float = param(2.5, gt=0, help="gain of the Gaussian recurrent init of the task's RNN")
    clip_value: float = param(1.0, gt=0)
    max_norm: float = param(1.0, gt=0)
    seeds: int = param(2, ge=1, help="seeds per arm (part 3)")


def gradient_norms(rec: torch.Tensor, steps: int, act: str, run: Run, tag: str, input_scale: float = 0.1) -> np.ndarray:
    """``‖∂⟨v, h_T⟩/∂h_t‖`` for t = 0..T, through ``h_t = φ(R h_{t-1} + W x_t + b)`` (φ = identity, no input,
    for ``act="linear"``)."""
    n = rec.shape[0]
    g = run.generator(tag)
    if act == "linear":
        grad = torch.randn(n, generator=g, dtype=torch.float64)
        norms = [grad.norm()]
        for _ in range(steps):
            grad = rec.T @ grad  # ∂L/∂h_{t-1} = Rᵀ ∂L/∂h_t
            norms.append(grad.norm())
        return torch.stack(norms[::-1]).numpy()
    cell = ElmanCell(n, n).double()
    with torch.no_grad():
        cell.weight_hh.copy_(rec)
    h = torch.zeros(1, n, dtype=torch.float64)
    hs = []
    x = input_scale * torch.randn(steps, 1, n, generator=g, dtype=torch.float64)
    for t in range(steps + 1):
        h = h.detach().requires_grad_(True) if t == 0 else h
        h.retain_grad()
        hs.append(h)
        if t < steps:
            h = cell(x[t], h)
    (hs[-1] * torch.randn(1, n, generator=g, dtype=torch.float64)).sum().backward()
    return np.array([float(h.grad.norm()) for h in hs])


def recurrent_matrix(scheme: str, gain: float, n: int) -> torch.Tensor:
    cell = init_recurrent_(ElmanCell(1, n).double(), scheme, gain)
    return cell.weight_hh.detach().clone()


def fibonacci() -> tuple[list[dict], dict[str, float]]:
    f = torch.tensor([[0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    lam, q = torch.linalg.eigh(f)  # symmetric: Q orthogonal, Q⁻¹ = Qᵀ
    rows, worst = [], 0.0
    for n in (1, 2, 3, 4, 5, 10, 20, 30):
        direct = torch.linalg.matrix_power(f, n)
        via_eig = q @ torch.diag(lam ** n) @ q.T
        worst = max(worst, float(((via_eig - direct).abs() / direct.abs().clamp_min(1)).max()))
        rows.append({"n": n, "Fⁿ (F(n-1), F(n), F(n+1))": f"{int(direct[0, 0])}, {int(direct[0, 1])}, {int(direct[1, 1])}",
                     "Λⁿ": f"{lam[0].item() ** n:.4g}, {lam[1].item() ** n:.5g}",
                     "F(n+1)/F(n)": float(direct[1, 1] / direct[0, 1])})
    return rows, {"fib_lambda_max": float(lam.max()), "fib_lambda10_max": float(lam.max() ** 10),
                  "fib_eig_rel_err": worst}


def adding_problem(n: int, length: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences of (value ~ U(0, 1), marker) pairs; the target is the sum of the two marked values."""
    v = torch.rand(n, length, generator=g)
    m = torch.zeros(n, length)
    rows = torch.arange(n)
    m[rows, torch.randint(0, length // 2, (n,), generator=g)] = 1
    m[rows, torch.randint(length // 2, length, (n,), generator=g)] = 1
    return torch.stack([v, m], -1), (v * m).sum(1, keepdim=True)


class Direction(Callback):
    """Cosine between the raw gradient (``first``, before the remedy) and the one the optimiser will use."""

    def __init__(self):
        self.raw, self.cos = None, []

    def _flat(self, state):
        return torch.cat([p.grad.flatten() for m in state.models.values() for p in m.parameters() if p.grad is not None])

    def first(self):
        outer = self

        class Record(Callback):
            def on_after_backward(self, state):
                outer.raw = outer._flat(state).clone()
        return Record()

    def on_after_backward(self, state):
        self.cos.append(float(torch.nn.functional.cosine_similarity(self.raw, self._flat(state), dim=0)))


def train_adding(cfg: GradientFlowConfig, method: str, seed: int, run: Run, x_te, y_te) -> dict[str, float]:
    run.manual_seed(f"init{seed}")
    model = SequenceClassifier(2, cfg.task_hidden, 1, cell="elman")
    init_recurrent_(model.rnn.layers[0].cell, "gaussian", cfg.explode_gain)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    g = run.generator(f"data{seed}")
    batches = [adding_problem(cfg.batch, cfg.task_length, g) for _ in range(cfg.train_steps)]
    remedy = {"none": [], "clip-value": [GradClipValue(cfg.clip_value)], "clip-norm": [GradClip(cfg.max_norm)],
              "normalise": [GradNormalize()]}[method]
    direction = Direction()
    tag = f"{method}-s{seed}"
    try:
        fit(lambda b: {"loss": torch.nn.functional.mse_loss(model(b[0]), b[1])}, batches, epochs=1, model=model,
            optimizer=opt, callbacks=[direction.first(), *remedy, direction], run=run, desc=tag, log_prefix=f"{tag}/",
            checkpoint_path=run.out / "checkpoints" / f"{tag}.pt")
        with torch.no_grad():
            mse = float(torch.nn.functional.mse_loss(model(x_te), y_te))
    except NonFiniteError:
        mse = float("nan")
    diverged = not math.isfinite(mse) or mse > 1e3
    failed = diverged or mse > 2 / 6  # worse than twice the constant predictor's MSE (Var = 2/12)
    return {"mse": mse, "diverged": float(diverged), "failed": float(failed), "cos": min(direction.cos) if direction.cos else float("nan")}


@experiment(
    name="rnn-gradient-flow", module="4.2", title="Vanishing and exploding gradients: initialisation, clipping, normalisation",
    paper=Reference("Pascanu et al. 2013; Saxe et al. 2014; the notes' Fibonacci example (Merity 2016)",
                    values={"fib_lambda_max": 1.6180, "fib_lambda10_max": 122.9919}),
    quick=GradientFlowConfig(), full=GradientFlowConfig(task_length=50, task_hidden=64, train_steps=1000, seeds=5),
    floor={"linear_orthogonal_drift": at_most(1e-6),  # |log10 ‖g_0‖/‖g_T‖|; measured 2e-16 - 3e-15
           "linear_gaussian_explode": 3.0,  # log10 growth at the largest gain (1.2); measured 6.8-10.1
           "tanh_orthogonal_vs_gaussian": 1.0,  # decades kept by orthogonal over Gaussian gain 0.8; measured 6.3-7.8
           "none_failed": 1.0,  # every seed of the unclipped arm diverges (most) or ends above MSE 1/3
           "clip_norm_mse": at_most(0.5), "normalise_mse": at_most(0.5),  # measured 0.16-0.20
           "clip_value_cos": at_most(0.99),  # min cosine: clipping by value turns the gradient; measured 0.59-0.77
           "clip_norm_cos": 0.999},  # rescaling keeps its direction (1 up to rounding)
    primary="none_failed", threads=1, showcase=("gradient_flow",),
)
def rnn_gradient_flow(cfg: GradientFlowConfig, run: Run) -> dict[str, float]:
    """Orthogonal recurrent matrices carry the gradient through 100 steps; Gaussian ones make it vanish or
    explode; clipping or normalising the gradient rescues training on an exploding task."""
    metrics: dict[str, float] = {}
    curves, rows = {}, []
    t = np.arange(cfg.steps + 1)
    inits = [("orthogonal", 1.0)] + [("gaussian", g) for g in cfg.gains]
    for act in ("linear", "tanh"):
        for scheme, gain in inits:
            rec = recurrent_matrix(scheme, gain, cfg.hidden)
            norms = gradient_norms(rec, cfg.steps, act, run, f"{act}-{scheme}-{gain}", cfg.input_scale)
            ratio = float(np.log10(norms[0] / norms[-1]))
            label = f"{act}, {scheme}" + (f" gain {gain:g}" if scheme == "gaussian" else "")
            curves[label] = np.log10(norms)
            rows.append({"RNN": act, "recurrent init": scheme, "gain": gain,
                         "spectral radius": float(torch.linalg.eigvals(rec).abs().max()),
                         "log10 ‖∂L/∂h_0‖/‖∂L/∂h_T‖": ratio})
            metrics[f"log10_ratio_{act}_{scheme}_{gain:g}"] = ratio
    run.table(rows, f"Gradient norm through {cfg.steps} steps ({cfg.hidden} units)")
    run.save_figure("gradient_flow", line_plot(t, curves, "time step t", "log10 ‖∂L/∂h_t‖", marker=None,
                                               title=f"Gradient flowing back from step {cfg.steps}"))
    metrics["linear_orthogonal_drift"] = abs(metrics["log10_ratio_linear_orthogonal_1"])
    metrics["linear_gaussian_explode"] = metrics[f"log10_ratio_linear_gaussian_{max(cfg.gains):g}"]
    metrics["tanh_orthogonal_vs_gaussian"] = metrics["log10_ratio_tanh_orthogonal_1"] - \
        metrics[f"log10_ratio_tanh_gaussian_{min(cfg.gains):g}"]

    fib_rows, fib = fibonacci()
    run.table(fib_rows, "Fibonacci: Fⁿ = Q Λⁿ Q⁻¹, the largest eigenvalue (golden ratio) dominates")
    metrics.update(fib)

    x_te, y_te = adding_problem(1000, cfg.task_length, run.generator("test"))
    rows = []
    for method in METHODS:
        res = [train_adding(cfg, method, s, run, x_te, y_te) for s in range(cfg.seeds)]
        mses = [r["mse"] for r in res if not r["diverged"]]
        key = method.replace("-", "_")
        metrics[f"{key}_mse"] = float(np.mean(mses)) if mses else float("nan")
        metrics[f"{key}_diverged"] = float(np.mean([r["diverged"] for r in res]))
        metrics[f"{key}_failed"] = float(np.mean([r["failed"] for r in res]))
        metrics[f"{key}_cos"] = float(np.nanmin([r["cos"] for r in res]))
        rows.append({"remedy": method, "diverged (share of seeds)": metrics[f"{key}_diverged"],
                     "failed: diverged or MSE > 1/3": metrics[f"{key}_failed"],
                     "test MSE (finished seeds)": metrics[f"{key}_mse"],
                     "min cos(raw, used gradient)": metrics[f"{key}_cos"]})
    run.table(rows, f"Adding problem, T={cfg.task_length}, tanh RNN with Gaussian recurrent gain {cfg.explode_gain:g}, "
                    f"SGD lr {cfg.lr:g}, {cfg.train_steps} steps, {cfg.seeds} seeds (predicting 1.0 scores MSE 0.167)")
    return metrics
