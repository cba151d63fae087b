"""Our attention against torch's SDPA and nn.MultiheadAttention, in float64 to 1e-10, with every mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deepcourse.transformers import MultiHeadAttention, attention, combine_masks, scaled_dot_product_attention
from tests.helpers import assert_matches_reference

TOL = dict(rtol=1e-10, atol=1e-10)


def _qkv(B=2, H=3, L=5, S=7, d=4, seed=0):
    g = np.random.default_rng(seed)
    return [g.normal(size=(B, H, L, d)), g.normal(size=(B, H, S, d)), g.normal(size=(B, H, S, d))]


def _padding(B=2, S=7):
    pad = np.zeros((B, S), dtype=bool)
    pad[0, -2:] = True
    pad[1, -4:] = True
    return pad


def test_sdpa_no_mask():
    assert_matches_reference(lambda q, k, v: scaled_dot_product_attention(q, k, v),
                             lambda q, k, v: F.scaled_dot_product_attention(q, k, v), _qkv(), **TOL)


def test_sdpa_causal():
    assert_matches_reference(lambda q, k, v: scaled_dot_product_attention(q, k, v, causal=True),
                             lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                             _qkv(L=6, S=6), **TOL)


def test_sdpa_bool_and_float_mask():
    g = np.random.default_rng(1)
    allowed = g.random((5, 7)) > 0.4
    allowed[:, 0] = True  # every query sees at least one key
    assert_matches_reference(lambda q, k, v, m: scaled_dot_product_attention(q, k, v, m),
                             lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                             [*_qkv(), allowed], **TOL)
    bias = g.normal(size=(5, 7))
    assert_matches_reference(lambda q, k, v, m: scaled_dot_product_attention(q, k, v, m),
                             lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                             [*_qkv(), bias], grad=[0, 1, 2], **TOL)


def test_sdpa_padding_and_causal():
    def ref(q, k, v, pad):
        mask = torch.ones(6, 6, dtype=torch.bool).tril() & ~pad[:, None, None, :]
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    assert_matches_reference(lambda q, k, v, pad: scaled_dot_product_attention(q, k, v, key_padding_mask=pad,
                                                                                causal=True),
                             ref, [*_qkv(L=6, S=6), _padding(S=6)], **TOL)


def test_fully_masked_query_gives_zeros_like_sdpa():
    q, k, v = (torch.tensor(a) for a in _qkv())
    allowed = torch.ones(5, 7, dtype=torch.bool)
    allowed[2] = False
    ours = scaled_dot_product_attention(q, k, v, allowed)
    assert torch.equal(ours[..., 2, :], torch.zeros_like(ours[..., 2, :]))
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), **TOL)


@pytest.mark.parametrize("impl", ["scratch", "sdpa"])
def test_dispatch_agrees(impl):
    q, k, v = (torch.tensor(a) for a in _qkv(L=7, S=7))
    pad = torch.tensor(_padding())
    want = scaled_dot_product_attention(q, k, v, key_padding_mask=pad, causal=True)
    torch.testing.assert_close(attention(q, k, v, key_padding_mask=pad, causal=True, impl=impl), want, **TOL)


def test_weights_are_a_distribution_and_causal():
    q, k, v = (torch.tensor(a) for a in _qkv(L=6, S=6))
    _, w = scaled_dot_product_attention(q, k, v, causal=True, return_weights=True)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 6, dtype=torch.float64))
    assert (w.triu(1) == 0).all()


def test_bad_shapes_name_the_expected_shape():
    q = torch.randn(2, 5, 4)
    with pytest.raises(ValueError, match="share the last dim"):
        scaled_dot_product_attention(q, torch.randn(2, 5, 3), torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match=r"\(L, S\)"):
        combine_masks(5, 7, attn_mask=torch.ones(5, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"\(B, S\)"):
        combine_masks(5, 7, key_padding_mask=torch.ones(2, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"\(B, L, 8\)"):
        MultiHeadAttention(8, 2)(torch.randn(2, 5, 6))
    with pytest.raises(ValueError, match="multiple"):
        MultiHeadAttention(8, 3)


def _mha_pair(E=8, H=2, bias=True):
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(E, H, bias=bias, batch_first=True).double()
    ours = MultiHeadAttention(E, H, bias=bias).double().load_from_torch(ref)
    return ours, ref


@pytest.mark.parametrize("impl", ["scratch", "sdpa"])
@pytest.mark.parametrize("bias", [True, False])
def test_mha_matches_torch_self_attention_with_padding(impl, bias):
    ours, ref = _mha_pair(bias=bias)
    ours.impl = impl
    g = np.random.default_rng(2)
    x = g.normal(size=(2, 7, 8))
    assert_matches_reference(lambda x, pad: ours(x, key_padding_mask=pad),
                             lambda x, pad: ref(x, x, x, key_padding_mask=pad, need_weights=False)[0],
                             [x, _padding()], **TOL)


def test_mha_matches_torch_causal_cross_and_weights():
    ours, ref = _mha_pair()
    g = np.random.default_rng(3)
    x = g.normal(size=(2, 7, 8))
    causal_blocked = torch.ones(7, 7, dtype=torch.bool).triu(1)  # torch's MHA: True = NOT allowed
    assert_matches_reference(lambda x: ours(x, causal=True),
                             lambda x: ref(x, x, x, attn_mask=causal_blocked, need_weights=False)[0], [x], **TOL)
    mem = g.normal(size=(2, 4, 8))
    assert_matches_reference(lambda x, m: ours(x, m, m), lambda x, m: ref(x, m, m, need_weights=False)[0],
                             [x, mem], **TOL)
    xt = torch.tensor(x)
    _, w = ours(xt, need_weights=True)
    _, w_ref = ref(xt, xt, xt, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(w, w_ref, **TOL)


def test_mha_parameter_gradients_match_torch():
    """Parameters as inputs (functional call), so their gradients are compared too."""
    ours, ref = _mha_pair()
    g = np.random.default_rng(4)
    x = g.normal(size=(2, 5, 8))
    w_in = torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight]).detach().numpy()
    w_out = ours.out_proj.weight.detach().numpy()

    def run_ours(x, w_in, w_out):
        wq, wk, wv = w_in.chunk(3)
        p = {"q_proj.weight": wq, "k_proj.weight": wk, "v_proj.weight": wv, "out_proj.weight": w_out}
        return torch.func.functional_call(ours, p, (x,), {"causal": True})

    def run_ref(x, w_in, w_out):
        p = {"in_proj_weight": w_in, "out_proj.weight": w_out}
        mask = torch.ones(5, 5, dtype=torch.bool).triu(1)
        return torch.func.functional_call(ref, p, (x, x, x), {"attn_mask": mask, "need_weights": False})[0]

    assert_matches_reference(run_ours, run_ref, [x, w_in, w_out], **TOL)


def test_mha_dropout_only_in_training():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2, dropout=0.5)
    x = torch.randn(2, 5, 8)
    mha.eval()
    torch.testing.assert_close(mha(x), mha(x))
    mha.train()
    assert not torch.allclose(mha(x), mha(x))
