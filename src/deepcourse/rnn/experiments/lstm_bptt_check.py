"""``lstm-bptt-check``: the notes' backpropagation-through-time equations for the peephole LSTM (Greff et al. 2017,
Appendix), written out by hand in :func:`deepcourse.rnn.lstm_bptt`, against autograd, for the vanilla LSTM and
each of the eight Odyssey variants (and a few combinations), in float64.

Inputs are real piano rolls (JSB Chorales, the first ``steps`` quarter notes of ``batch`` chorales); the
gradient arriving from above, ``Δᵗ``, is random. The table gives the largest absolute difference per parameter
group (W, R, b, peepholes p, FGR's gate-to-gate R_gg, the input x) and the timings of the hand-written backward,
of autograd through the per-step graph, and of the fused path (one autograd node whose backward is the same
explicit BPTT, :class:`deepcourse.rnn.bptt.FusedLSTM`), whose gradients are compared too. The floor is on the
error relative to each gradient's largest entry (variants without tanh on the cell, or without a forget gate,
have cells and gradients in the thousands, where float64 rounding alone reaches 1e-11 in absolute terms). Weights are drawn
from N(0, ``weight_std``²), larger than the default initialisation, so that peepholes and gates matter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from deepcourse.core import Reference, Run, at_most, experiment, param
from deepcourse.data import load_jsb_chorales
from deepcourse.rnn import VARIANTS, LSTMCell, Recurrent, lstm_bptt

GROUPS = {"weight_ih": "W", "weight_hh": "R", "bias": "b", "peephole": "p", "weight_gg": "R_gg", "x": "x"}


@dataclass
class BPTTCheckConfig:
    variants: tuple[str, ...] = param(VARIANTS + ("NP+FGR", "CIFG+FGR", "NOG+NOAF"),
                                      help="names of rnn.VARIANTS, or several joined by '+'")
    hidden: int = param(64, ge=1)
    steps: int = param(100, ge=2, help="time steps (quarter notes) per chorale")
    batch: int = param(16, ge=1, help="chorales")
    weight_std: float = param(0.3, gt=0)


def _time(fn) -> tuple[object, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


@experiment(
    name="lstm-bptt-check", module="4.1", title="Explicit BPTT of the peephole LSTM against autograd, every variant",
    paper=Reference("Greff et al. 2017, Appendix (the notes' delta equations)"),
    quick=BPTTCheckConfig(hidden=16, steps=40, batch=4), full=BPTTCheckConfig(),
    floor={"max_rel_err": at_most(1e-10)},  # measured 1.4e-15 - 1.5e-14 (max_abs_err up to 4.6e-11), seeds 0-4
    primary="max_rel_err", threads=1,
)
def lstm_bptt_check(cfg: BPTTCheckConfig, run: Run) -> dict[str, float]:
    """Manual BPTT equals autograd to rounding error for every variant, peephole and gate-recurrence terms
    included."""
    rolls = [r for r in load_jsb_chorales(run.data_root)["train"] if len(r) >= cfg.steps][:cfg.batch]
    x = torch.stack([r[:cfg.steps] for r in rolls]).double()  # (B, T, 88)
    rows, metrics, max_rel = [], {}, 0.0
    for name in run.progress(cfg.variants, desc="variants"):
        run.manual_seed(f"weights-{name}")
        cell = LSTMCell(88, cfg.hidden, name).double()
        with torch.no_grad():
            for p in cell.parameters():
                p.normal_(0.0, cfg.weight_std)
        xg = x.clone().requires_grad_(True)
        delta = torch.randn(len(x), cfg.steps, cfg.hidden, dtype=torch.float64, generator=run.generator(f"delta-{name}"))
        names = [k for k, _ in cell.named_parameters()]
        params = [p for _, p in cell.named_parameters()]

        def autograd(fused: bool):
            cell.fused = fused
            out, _ = Recurrent(cell)(xg)
            return torch.autograd.grad((out * delta).sum(), params + [xg])

        auto, t_auto = _time(lambda: autograd(False))
        manual, t_manual = _time(lambda: lstm_bptt(cell, x, delta))
        errs = {GROUPS[k]: (manual[k] - g).abs().max().item() for k, g in zip(names + ["x"], auto)}
        rel = max((manual[k] - g).abs().max().item() / max(g.abs().max().item(), 1e-300)
                  for k, g in zip(names + ["x"], auto))
        row = {"variant": cell.variant.name, **{g: errs.get(g, float("nan")) for g in GROUPS.values()}}
        worst = max(errs.values())
        if not cell.variant.fgr:  # the fused path (FGR runs step by step)
            fused, t_fused = _time(lambda: autograd(True))
            fused_err = max((f - g).abs().max().item() for f, g in zip(fused, auto))
            worst = max(worst, fused_err)
            row.update({"fused vs autograd": fused_err, "fused s": t_fused})
        else:
            row.update({"fused vs autograd": float("nan"), "fused s": float("nan")})
        row.update({"manual s": t_manual, "autograd s": t_auto})
        rows.append(row)
        metrics[f"err_{cell.variant.name.replace('+', '_')}"] = worst
        max_rel = max(max_rel, rel)
        row["max rel err"] = rel
    run.table(rows, f"max |manual - autograd| per gradient, float64, JSB Chorales input "
                    f"(B={len(x)}, T={cfg.steps}, 88 -> {cfg.hidden})", floatfmt=".2g")
    metrics["max_abs_err"] = max(metrics.values())
    metrics["max_rel_err"] = max_rel  # largest error relative to the largest entry of that gradient
    return metrics
