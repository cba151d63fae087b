"""Attention written from the notes' steps equals torch's: ``F.scaled_dot_product_attention`` and
``nn.MultiheadAttention`` with the same weights, in float64, for every mask (none, causal, boolean, additive
float, key padding, causal + padding), values and gradients (Vaswani et al. 2017, Sec. 3.2).

The largest absolute difference over outputs and input gradients must stay below 1e-10; it is ~1e-15 when
the code is right and O(0.1) when a step is wrong (e.g. the 1/sqrt(d) scaling dropped, checked by the
``scale_bug`` override).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from deepcourse.core import Reference, Run, at_most, experiment, param
from deepcourse.transformers import MultiHeadAttention, scaled_dot_product_attention


@dataclass
class AttentionCheckConfig:
    batch: int = param(3, ge=1)
    heads: int = param(4, ge=1)
    length: int = param(16, ge=2)
    head_dim: int = param(8, ge=1)
    trials: int = param(5, ge=1, help="random draws per mask")
    scale_bug: bool = param(False, help="drop the 1/sqrt(d) scaling (shows the check fails)")


def _diff(ours, ref, inputs) -> float:
    """Largest |ours - ref| over the output and the gradients of ``inputs`` (one random cotangent)."""
    a, b = ours(), ref()
    cot = torch.randn_like(b)
    ga = torch.autograd.grad(a, inputs, cot)
    gb = torch.autograd.grad(b, inputs, cot)
    return max([(a - b).abs().max().item()] + [(x - y).abs().max().item() for x, y in zip(ga, gb)])


@experiment(
    name="attention-check", module="8", title="Our attention against torch's, every mask, float64",
    paper=Reference("Vaswani et al. 2017, Sec. 3.2 (a correctness check: no paper numbers)", {}),
    quick=AttentionCheckConfig(), full=AttentionCheckConfig(batch=4, heads=8, length=128, head_dim=16, trials=20),
    # seed 0: max_abs_diff 3.0e-15; with scale_bug=true 8.95 (fails)
    floor={"max_abs_diff": at_most(1e-10)}, primary="max_abs_diff", threads=1,
)
def attention_check(cfg: AttentionCheckConfig, run: Run) -> dict[str, float]:
    """Compare values and gradients, mask by mask."""
    g = run.generator("inputs")
    B, H, L, d = cfg.batch, cfg.heads, cfg.length, cfg.head_dim
    E = H * d
    torch.manual_seed(run.seed_for("weights"))
    mha_ref = nn.MultiheadAttention(E, H, batch_first=True).double()
    mha = MultiHeadAttention(E, H, impl="scratch").double().load_from_torch(mha_ref)  # the from-scratch path
    scale = 1.0 if cfg.scale_bug else None
    rows, worst = [], 0.0
    for name in ("none", "causal", "boolean", "float (additive)", "key padding", "causal + key padding"):
        sdpa_d = mha_d = 0.0
        for _ in range(cfg.trials):
            q, k, v = (torch.randn(B, H, L, d, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(3))
            x = torch.randn(B, L, E, generator=g, dtype=torch.float64, requires_grad=True)
            lengths = torch.randint(1, L + 1, (B,), generator=g)
            pad = torch.arange(L)[None, :] >= lengths[:, None]         # True = padding (at least one real key)
            allowed = torch.rand(L, L, generator=g) > 0.3
            allowed[:, 0] = True
            bias = torch.randn(L, L, generator=g, dtype=torch.float64)
            tri = torch.ones(L, L, dtype=torch.bool).tril()
            ours_kw, sdpa_kw, mha_kw, ref_kw = {
                "none": ({}, {}, {}, {}),
                "causal": ({"causal": True}, {"is_causal": True}, {"causal": True}, {"attn_mask": ~tri}),
                "boolean": ({"attn_mask": allowed}, {"attn_mask": allowed}, {"attn_mask": allowed},
                            {"attn_mask": ~allowed}),
                "float (additive)": ({"attn_mask": bias}, {"attn_mask": bias}, {"attn_mask": bias},
                                     {"attn_mask": bias}),  # a float mask is added to the scores in both
                "key padding": ({"key_padding_mask": pad}, {"attn_mask": ~pad[:, None, None, :]},
                                {"key_padding_mask": pad}, {"key_padding_mask": pad}),
                "causal + key padding": ({"key_padding_mask": pad, "causal": True},
                                         {"attn_mask": tri & ~pad[:, None, None, :]},
                                         {"key_padding_mask": pad, "causal": True},
                                         {"key_padding_mask": pad, "attn_mask": ~tri}),
            }[name]
            sdpa_d = max(sdpa_d, _diff(lambda: scaled_dot_product_attention(q, k, v, scale=scale, **ours_kw),
                                       lambda: F.scaled_dot_product_attention(q, k, v, **sdpa_kw), (q, k, v)))
            if scale is not None:
                mha_d = max(mha_d, sdpa_d)
                continue
            mha_d = max(mha_d, _diff(lambda: mha(x, **mha_kw),
                                     lambda: mha_ref(x, x, x, need_weights=False, **ref_kw)[0], (x,)))
        rows.append({"mask": name, "ours vs F.scaled_dot_product_attention": sdpa_d,
                     "ours vs nn.MultiheadAttention": mha_d})
        worst = max(worst, sdpa_d, mha_d)
    run.table(rows, f"Largest |difference| of values and gradients, float64, {cfg.trials} draws per mask "
                    f"(B={B}, H={H}, L={L}, d={d})", floatfmt=".2e")
    return {"max_abs_diff": worst}
