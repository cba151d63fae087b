"""Backpropagation through time for the peephole LSTM, written out by hand from the course notes' delta
equations (Greff et al. 2017, Appendix / Section II-B), for every Odyssey variant.

One step, going backwards from ``t = T-1`` (``Δᵗ`` is the gradient arriving from above, deltas of the
pre-activations ``z̄, ī, f̄, ō``; quantities at ``T`` are 0)::

    δyᵗ = Δᵗ + R_zᵀ δz̄ᵗ⁺¹ + R_iᵀ δīᵗ⁺¹ + R_fᵀ δf̄ᵗ⁺¹ + R_oᵀ δōᵗ⁺¹
    δōᵗ = δyᵗ ⊙ h(cᵗ) ⊙ σ'(ōᵗ)
    δcᵗ = δyᵗ ⊙ oᵗ ⊙ h'(cᵗ) + p_o ⊙ δōᵗ + p_i ⊙ δīᵗ⁺¹ + p_f ⊙ δf̄ᵗ⁺¹ + δcᵗ⁺¹ ⊙ fᵗ⁺¹
    δf̄ᵗ = δcᵗ ⊙ cᵗ⁻¹ ⊙ σ'(f̄ᵗ)
    δīᵗ = δcᵗ ⊙ zᵗ ⊙ σ'(īᵗ)
    δz̄ᵗ = δcᵗ ⊙ iᵗ ⊙ g'(z̄ᵗ)
    δxᵗ = W_zᵀ δz̄ᵗ + W_iᵀ δīᵗ + W_fᵀ δf̄ᵗ + W_oᵀ δōᵗ

then the aggregation over the horizon (``⟨·,·⟩`` an outer product, summed over the batch)::

    δW⋆ = Σ_t ⟨δ⋆ᵗ, xᵗ⟩      δR⋆ = Σ_t ⟨δ⋆ᵗ⁺¹, yᵗ⟩      δb⋆ = Σ_t δ⋆ᵗ
    δp_i = Σ_t cᵗ ⊙ δīᵗ⁺¹    δp_f = Σ_t cᵗ ⊙ δf̄ᵗ⁺¹      δp_o = Σ_t cᵗ ⊙ δōᵗ

The variants change single terms: a gate fixed to 1 has no delta (NIG, NFG, NOG); NIAF / NOAF make
``g' = 1`` / ``h' = 1`` and ``h(c) = c``; CIFG (``f = 1 - i``) routes the forget-gate gradient
``δcᵗ ⊙ cᵗ⁻¹`` into ``ī`` with a minus sign; NP drops every ``p`` term; FGR adds the gate-to-gate recurrence
``ḡᵗ += R_gg aᵗ⁻¹`` with ``a = (i, f, o)``, whose backward term is ``δaᵗ = R_ggᵀ δḡᵗ⁺¹`` (through σ' into
each gate) and ``δR_gg = Σ_t ⟨δḡᵗ⁺¹, aᵗ⟩``.

:func:`lstm_bptt` returns the gradients with the names of :class:`~deepcourse.rnn.lstm.LSTMCell`'s parameters,
so they can be compared with autograd one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .lstm import LSTMCell, check_sequence

__all__ = ["LSTMTrace", "lstm_forward_trace", "lstm_bptt", "FusedLSTM"]


@dataclass
class LSTMTrace:
    """Every forward quantity of every step, each ``(T, B, N)`` (``y``/``c`` include the initial state at
    index 0, so ``y[t]`` is ``yᵗ⁻¹``; ``a`` likewise for FGR)."""

    x: Tensor
    z_bar: Tensor
    i_bar: Tensor
    f_bar: Tensor
    o_bar: Tensor
    z: Tensor
    i: Tensor
    f: Tensor
    o: Tensor
    y: Tensor  # (T+1, B, N)
    c: Tensor  # (T+1, B, N)
    a: Tensor | None  # (T+1, B, 3N), FGR only


def _sig_prime(s: Tensor) -> Tensor:
    return s * (1 - s)


@torch.no_grad()
def lstm_forward_trace(cell: LSTMCell, x: Tensor, y0: Tensor | None = None, c0: Tensor | None = None) -> LSTMTrace:
    """The forward equations once more, keeping every intermediate quantity (``x`` is ``(B, T, M)``)."""
    check_sequence(x, cell.input_size, "lstm_forward_trace")
    v, n = cell.variant, cell.hidden_size
    b, steps = x.shape[:2]
    xs = x.transpose(0, 1)
    zeros = x.new_zeros(b, n)
    y_prev = zeros if y0 is None else y0
    c_prev = zeros if c0 is None else c0
    a_prev = x.new_zeros(b, 3 * n) if v.fgr else None
    wi, wf, wz, wo = cell.weight_ih.split(n, 0)
    ri, rf, rz, ro = cell.weight_hh.split(n, 0)
    bi, bf, bz, bo = cell.bias.split(n)
    p_i, p_f, p_o = cell.peephole.split(n) if cell.peephole is not None else (0.0, 0.0, 0.0)
    if v.fgr:
        g_i, g_f, g_o = cell.weight_gg.split(n, 0)
    keep = {k: [] for k in ("z_bar", "i_bar", "f_bar", "o_bar", "z", "i", "f", "o")}
    ys, cs, as_ = [y_prev], [c_prev], [a_prev]
    for t in range(steps):
        xt = xs[t]
        z_bar = xt @ wz.T + y_prev @ rz.T + bz
        i_bar = xt @ wi.T + y_prev @ ri.T + p_i * c_prev + bi
        f_bar = xt @ wf.T + y_prev @ rf.T + p_f * c_prev + bf
        if v.fgr:
            i_bar, f_bar = i_bar + a_prev @ g_i.T, f_bar + a_prev @ g_f.T
        z = z_bar if v.niaf else torch.tanh(z_bar)
        i = torch.ones_like(z) if v.nig else torch.sigmoid(i_bar)
        f = 1 - i if v.cifg else torch.ones_like(z) if v.nfg else torch.sigmoid(f_bar)
        c = z * i + c_prev * f
        o_bar = xt @ wo.T + y_prev @ ro.T + p_o * c + bo
        if v.fgr:
            o_bar = o_bar + a_prev @ g_o.T
        o = torch.ones_like(z) if v.nog else torch.sigmoid(o_bar)
        y = (c if v.noaf else torch.tanh(c)) * o
        for k, val in (("z_bar", z_bar), ("i_bar", i_bar), ("f_bar", f_bar), ("o_bar", o_bar),
                       ("z", z), ("i", i), ("f", f), ("o", o)):
            keep[k].append(val)
        y_prev, c_prev = y, c
        ys.append(y)
        cs.append(c)
        if v.fgr:
            a_prev = torch.cat([i, f, o], 1)
            as_.append(a_prev)
    st = {k: torch.stack(val) for k, val in keep.items()}
    return LSTMTrace(x=xs, y=torch.stack(ys), c=torch.stack(cs), a=torch.stack(as_) if v.fgr else None, **st)


@torch.no_grad()
def lstm_bptt(cell: LSTMCell, x: Tensor, delta: Tensor, y0: Tensor | None = None,
              c0: Tensor | None = None) -> dict[str, Tensor]:
    """Gradients of ``L = Σ_t ⟨Δᵗ, yᵗ⟩`` (``delta`` = Δ, ``(B, T, N)``: what the layer above sends down) with
    respect to the cell's parameters, the input and the initial state, by explicit BPTT.

    Returns ``{"weight_ih", "weight_hh", "bias", "peephole" (unless NP), "weight_gg" (FGR), "x", "y0", "c0"}``.
    """
    v, n = cell.variant, cell.hidden_size
    b, steps = x.shape[:2]
    if delta.shape != (b, steps, n):
        raise ValueError(f"lstm_bptt: delta must be (B, T, N) = ({b}, {steps}, {n}), got {tuple(delta.shape)}")
    tr = lstm_forward_trace(cell, x, y0, c0)
    dl = delta.transpose(0, 1)
    wi, wf, wz, wo = cell.weight_ih.split(n, 0)
    ri, rf, rz, ro = cell.weight_hh.split(n, 0)
    p_i, p_f, p_o = cell.peephole.split(n) if cell.peephole is not None else (0.0, 0.0, 0.0)
    if v.fgr:
        g_i, g_f, g_o = cell.weight_gg.split(n, 0)
    zeros = x.new_zeros(b, n)
    # deltas of step t+1 (zero beyond the horizon)
    dz_n, di_n, df_n, do_n, dc_n, f_n = zeros, zeros, zeros, zeros, zeros, zeros
    d_z, d_i, d_f, d_o = (x.new_zeros(steps, b, n) for _ in range(4))
    for t in reversed(range(steps)):
        c, c_prev = tr.c[t + 1], tr.c[t]
        z, i, o = tr.z[t], tr.i[t], tr.o[t]
        dy = dl[t] + dz_n @ rz + di_n @ ri + df_n @ rf + do_n @ ro
        hc = c if v.noaf else torch.tanh(c)
        h_prime = torch.ones_like(c) if v.noaf else 1 - hc * hc
        if v.fgr:  # δaᵗ = R_ggᵀ δḡᵗ⁺¹: the gate activations of step t feed the gates of step t+1
            da_i = di_n @ g_i[:, :n] + df_n @ g_f[:, :n] + do_n @ g_o[:, :n]
            da_f = di_n @ g_i[:, n:2 * n] + df_n @ g_f[:, n:2 * n] + do_n @ g_o[:, n:2 * n]
            da_o = di_n @ g_i[:, 2 * n:] + df_n @ g_f[:, 2 * n:] + do_n @ g_o[:, 2 * n:]
        else:
            da_i = da_f = da_o = 0.0
        do = zeros if v.nog else (dy * hc + da_o) * _sig_prime(o)
        dc = dy * o * h_prime + p_o * do + p_i * di_n + p_f * df_n + dc_n * f_n
        g_f_total = dc * c_prev + da_f  # ∂L/∂fᵗ
        g_i_total = dc * z + da_i  # ∂L/∂iᵗ
        if v.cifg:  # f = 1 - i: the forget-gate gradient reaches ī with a minus sign
            g_i_total = g_i_total - g_f_total
        df = zeros if (v.nfg or v.cifg) else g_f_total * _sig_prime(tr.f[t])
        di = zeros if v.nig else g_i_total * _sig_prime(i)
        dz = dc * i * (torch.ones_like(z) if v.niaf else 1 - z * z)
        d_z[t], d_i[t], d_f[t], d_o[t] = dz, di, df, do
        dz_n, di_n, df_n, do_n, dc_n, f_n = dz, di, df, do, dc, tr.f[t]
    # aggregation over the horizon, in the cell's block order (i, f, z, o)
    dg = torch.cat([d_i, d_f, d_z, d_o], -1)  # (T, B, 4N)
    flat = dg.reshape(-1, 4 * n)
    grads = {
        "weight_ih": flat.T @ tr.x.reshape(-1, x.shape[-1]),  # Σ_t ⟨δ⋆ᵗ, xᵗ⟩
        "weight_hh": flat.T @ tr.y[:-1].reshape(-1, n),  # Σ_t ⟨δ⋆ᵗ, yᵗ⁻¹⟩
        "bias": flat.sum(0),  # Σ_t δ⋆ᵗ
    }
    if cell.peephole is not None:
        grads["peephole"] = torch.cat([(tr.c[:-1] * d_i).sum((0, 1)),  # Σ cᵗ⁻¹ ⊙ δīᵗ
                                       (tr.c[:-1] * d_f).sum((0, 1)),  # Σ cᵗ⁻¹ ⊙ δf̄ᵗ
                                       (tr.c[1:] * d_o).sum((0, 1))])  # Σ cᵗ ⊙ δōᵗ
    if v.fgr:
        dgate = torch.cat([d_i, d_f, d_o], -1).reshape(-1, 3 * n)
        grads["weight_gg"] = dgate.T @ tr.a[:-1].reshape(-1, 3 * n)  # Σ_t ⟨δḡᵗ, aᵗ⁻¹⟩
    grads["x"] = (dg @ cell.weight_ih).transpose(0, 1)  # δxᵗ = Σ_⋆ W⋆ᵀ δ⋆ᵗ
    grads["y0"] = dz_n @ rz + di_n @ ri + df_n @ rf + do_n @ ro
    grads["c0"] = p_i * di_n + p_f * df_n + dc_n * f_n + zeros
    return grads


class FusedLSTM(torch.autograd.Function):
    """The LSTM over a whole sequence as one autograd node whose backward is the explicit BPTT above.

    ``apply(xp, weight_hh, peephole, y0, c0, variant)``: ``xp`` ``(T, B, 4N)`` is the input projection
    ``W x + b`` (its own gradient, ``δW = Σ⟨δ⋆, x⟩``, is left to autograd through that one matmul);
    returns ``(y (T, B, N), c_T)``. The forward runs without building a graph (one ``addmm`` and a few
    element-wise ops per step, saving the gate activations); the backward applies the delta equations step by
    step (one matmul per step for ``Rᵀ δ⋆ᵗ⁺¹``) and aggregates ``δR`` and ``δp`` over the horizon in single
    matmuls / reductions. This is how :class:`~deepcourse.rnn.layers.Recurrent` runs every LSTM variant except
    FGR when no lengths are given. ``peephole`` may be None (NP).
    """

    @staticmethod
    def forward(ctx, xp, weight_hh, peephole, y0, c0, variant):
        v = variant
        steps, b, g = xp.shape
        n = g // 4
        ys = xp.new_empty(steps + 1, b, n)
        cs = xp.new_empty(steps + 1, b, n)
        acts = xp.new_empty(steps, b, 4 * n)  # (i, f, z, o) after their nonlinearities
        ys[0], cs[0] = y0, c0
        p_i, p_f, p_o = peephole.split(n) if peephole is not None else (None, None, None)
        rt = weight_hh.t()
        for t in range(steps):
            pre = torch.addmm(xp[t], ys[t], rt)
            a = acts[t]
            i, f, z, o = a.split(n, 1)
            c_prev = cs[t]
            if p_i is not None:
                pre[:, :n].addcmul_(p_i, c_prev)
                pre[:, n:2 * n].addcmul_(p_f, c_prev)
            if not (v.nig or v.nfg or v.cifg):
                torch.sigmoid(pre[:, :2 * n], out=a[:, :2 * n])  # i and f in one call
            else:
                i.fill_(1.0) if v.nig else torch.sigmoid(pre[:, :n], out=i)
                if v.cifg:
                    f.copy_(1 - i)
                elif v.nfg:
                    f.fill_(1.0)
                else:
                    torch.sigmoid(pre[:, n:2 * n], out=f)
            if v.niaf:
                z.copy_(pre[:, 2 * n:3 * n])
            else:
                torch.tanh(pre[:, 2 * n:3 * n], out=z)
            c = cs[t + 1]
            torch.addcmul(z * i, c_prev, f, out=c)
            o_bar = pre[:, 3 * n:]
            if p_o is not None:
                o_bar.addcmul_(p_o, c)
            if v.nog:
                o.fill_(1.0)
            else:
                torch.sigmoid(o_bar, out=o)
            torch.mul(c if v.noaf else torch.tanh(c), o, out=ys[t + 1])
        ctx.variant = v
        ctx.save_for_backward(weight_hh, peephole, ys, cs, acts)
        return ys[1:].clone(), cs[-1].clone()

    @staticmethod
    def backward(ctx, d_ys, d_c_last):
        v = ctx.variant
        weight_hh, peephole, ys, cs, acts = ctx.saved_tensors
        steps, b, n = d_ys.shape
        dg = acts.new_zeros(steps, b, 4 * n)  # δ of the pre-activations (ī, f̄, z̄, ō)
        p_i, p_f, p_o = peephole.split(n) if peephole is not None else (None, None, None)
        dc_next = d_c_last.clone() if d_c_last is not None else acts.new_zeros(b, n)
        f_next = acts.new_ones(b, n)  # multiplies δc_T, the gradient of the returned final cell
        dg_next = acts.new_zeros(b, 4 * n)
        d_ys = d_ys if d_ys is not None else acts.new_zeros(steps, b, n)
        for t in reversed(range(steps)):
            i, f, z, o = acts[t].split(n, 1)
            c, c_prev = cs[t + 1], cs[t]
            dy = torch.addmm(d_ys[t], dg_next, weight_hh)  # Δᵗ + Rᵀ δ⋆ᵗ⁺¹
            hc = c if v.noaf else torch.tanh(c)
            d = dg[t]
            di, df, dz, do = d.split(n, 1)
            if not v.nog:
                torch.mul(dy * hc, o * (1 - o), out=do)
            dc = dy * o if v.noaf else dy * o * (1 - hc * hc)
            dc.addcmul_(dc_next, f_next)
            if p_i is not None:
                dc.addcmul_(p_o, do).addcmul_(p_i, dg_next[:, :n]).addcmul_(p_f, dg_next[:, n:2 * n])
            gi = dc * z
            if v.cifg:
                gi.sub_(dc * c_prev)
            elif not v.nfg:
                torch.mul(dc * c_prev, f * (1 - f), out=df)
            if not v.nig:
                torch.mul(gi, i * (1 - i), out=di)
            torch.mul(dc * i, 1 if v.niaf else 1 - z * z, out=dz)
            dg_next, dc_next, f_next = d, dc, f
        flat = dg.reshape(-1, 4 * n)
        d_r = flat.t() @ ys[:-1].reshape(-1, n)  # Σ_t ⟨δ⋆ᵗ, yᵗ⁻¹⟩
        d_p = None
        if peephole is not None:
            d_p = torch.cat([(cs[:-1] * dg[..., :n]).sum((0, 1)), (cs[:-1] * dg[..., n:2 * n]).sum((0, 1)),
                             (cs[1:] * dg[..., 3 * n:]).sum((0, 1))])
        d_y0 = dg_next @ weight_hh
        d_c0 = dc_next * f_next
        if p_i is not None:
            d_c0 = d_c0 + p_i * dg_next[:, :n] + p_f * dg_next[:, n:2 * n]
        return dg, d_r, d_p, d_y0, d_c0, None
