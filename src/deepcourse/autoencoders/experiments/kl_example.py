"""The notes' KL divergence example (notes 3, "KLD Example"): KL is asymmetric."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deepcourse.core import Reference, Run, at_most, experiment, param


@dataclass
class KLConfig:
    n: int = param(2, ge=1, help="binomial trials (the notes: 2)")
    p: float = param(0.4, gt=0, lt=1, help="binomial success probability (the notes: 0.4)")


@experiment(
    name="kl-example", module="3", title="KL divergence is asymmetric: Binomial(2, 0.4) vs uniform",
    paper=Reference("Course notes 3, 'KLD Example' (values rounded to 3 decimals)", {"kl_pq": 0.085, "kl_qp": 0.097}),
    quick=KLConfig(), full=KLConfig(),
    # exact arithmetic: kl_pq 0.0853, kl_qp 0.0975 (errors 3e-4, 5e-4); swapping P and Q fails both floors
    floor={"abs_err_pq": at_most(1e-3), "abs_err_qp": at_most(1e-3), "cross_entropy_identity_err": at_most(1e-12)},
    primary="kl_pq", threads=1,
)
def kl_example(cfg: KLConfig, run: Run) -> dict[str, float]:
    """KL(P||Q) and KL(Q||P) for the notes' binomial P and uniform Q on {0, ..., n}, with the identity
    H(P, Q) = KL(P||Q) + H(P) checked (``deepcourse.foundations``' KL divergence, entropy, cross-entropy)."""
    from deepcourse.foundations import cross_entropy, entropy, kl_divergence
    from deepcourse.viz import new_figure, style

    xs = torch.arange(cfg.n + 1, dtype=torch.float64)
    p = torch.distributions.Binomial(cfg.n, probs=torch.tensor(cfg.p, dtype=torch.float64)).log_prob(xs).exp()
    q = torch.full_like(p, 1.0 / (cfg.n + 1))  # (n + 1,)
    kl_pq, kl_qp = kl_divergence(p, q).item(), kl_divergence(q, p).item()
    h_p, h_pq = entropy(p).item(), cross_entropy(q, p).item()  # H(P), H(P, Q) = -sum p log q
    with style():
        fig = new_figure((5, 3))
        ax = fig.add_subplot()
        ax.bar((xs - 0.2).tolist(), p.tolist(), width=0.4, label=f"P = Binomial({cfg.n}, {cfg.p:g})")
        ax.bar((xs + 0.2).tolist(), q.tolist(), width=0.4, label="Q = uniform")
        ax.set_xticks(xs.tolist())
        ax.set_xlabel("x")
        ax.set_ylabel("probability")
        ax.set_title(f"KL(P||Q) = {kl_pq:.4f}, KL(Q||P) = {kl_qp:.4f} nats")
        ax.legend(frameon=False)
    run.save_figure("distributions", fig)
    notes = cfg.n == 2 and abs(cfg.p - 0.4) < 1e-12
    return {"kl_pq": kl_pq, "kl_qp": kl_qp, "asymmetry": kl_qp - kl_pq,
            # the notes' values only apply to their (n, p); elsewhere the error is reported as 0
            "abs_err_pq": abs(kl_pq - 0.085) if notes else 0.0, "abs_err_qp": abs(kl_qp - 0.097) if notes else 0.0,
            "cross_entropy_identity_err": abs(h_pq - (kl_pq + h_p)), "entropy_p": h_p}
