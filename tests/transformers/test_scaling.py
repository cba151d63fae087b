"""Cost-scaling helpers: fitted exponents and memory saved for backward."""

from __future__ import annotations

import torch

from deepcourse.transformers import nystrom_attention, scaled_dot_product_attention
from deepcourse.transformers.scaling import fit_exponent, saved_bytes, time_fwd_bwd


def test_fit_exponent():
    ns = [10, 100, 1000]
    assert abs(fit_exponent(ns, [3 * n ** 2 for n in ns]) - 2.0) < 1e-9
    assert fit_exponent([1, 2], [float("nan"), 1.0]) != fit_exponent([1, 2], [float("nan"), 1.0])  # nan


def test_exact_attention_memory_grows_quadratically_nystrom_linearly():
    def mem(fn, n):
        q = torch.randn(1, 1, n, 8, requires_grad=True)
        return saved_bytes(fn, q, q, q)

    ns = [128, 256, 512]
    exact = [mem(scaled_dot_product_attention, n) for n in ns]
    nys = [mem(lambda a, b, c: nystrom_attention(a, b, c, 16), n) for n in ns]
    assert fit_exponent(ns, exact) > 1.6
    assert fit_exponent(ns, nys) < 1.2
    q = torch.randn(1, 1, 64, 8, requires_grad=True)
    assert time_fwd_bwd(scaled_dot_product_attention, q, q, q, repeats=1) > 0
