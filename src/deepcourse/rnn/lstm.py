"""Recurrent cells written from their equations: the peephole LSTM of Greff et al. 2017 with the eight
"Odyssey" variants, the GRU (Cho et al. 2014; Chung et al. 2014) and the Elman RNN (Elman 1990).

Every cell has the same small interface, used by :class:`deepcourse.rnn.layers.Recurrent`:

* ``input_projection(x)``: the part of the pre-activations that depends on the input only,
  ``W x + b`` for every step at once (one large matmul instead of ``T`` small ones);
* ``step(xp, state) -> state``: one time step from the projected input ``xp`` ``(B, G)``;
* ``output(state)``: the block output ``y`` ``(B, N)``; ``init_state(batch)``: zeros.

``cell(x_t, state)`` does one step from a raw input ``(B, M)``, like ``torch.nn.LSTMCell``.

**LSTM** (Greff et al. 2017, Section II; the course notes' forward equations, M inputs, N cells)::

    z̄ = W_z x + R_z y⁻ + b_z                z = g(z̄)                  block input
    ī = W_i x + R_i y⁻ + p_i ⊙ c⁻ + b_i      i = σ(ī)                  input gate
    f̄ = W_f x + R_f y⁻ + p_f ⊙ c⁻ + b_f      f = σ(f̄)                  forget gate
    c = z ⊙ i + c⁻ ⊙ f                                                 cell
    ō = W_o x + R_o y⁻ + p_o ⊙ c + b_o       o = σ(ō)                  output gate
    y = h(c) ⊙ o                                                       block output

with g = h = tanh. The four weight blocks are stacked in torch's gate order ``(i, f, z, o)`` in
``weight_ih`` ``(4N, M)``, ``weight_hh`` ``(4N, N)`` and ``bias`` ``(4N,)``, so that the NP cell takes
``torch.nn.LSTM``'s weights unchanged (``bias = bias_ih + bias_hh``). ``peephole`` ``(3N,)`` holds
``(p_i, p_f, p_o)``. The variants (Greff et al. 2017, Section III) are flags of :class:`LSTMVariant`:
NIG ``i = 1``, NFG ``f = 1``, NOG ``o = 1``, NIAF ``g(x) = x``, NOAF ``h(x) = x``, CIFG ``f = 1 - i``,
NP no peepholes, FGR full gate recurrence: the previous gate activations ``(i⁻, f⁻, o⁻)`` feed every gate
through ``weight_gg`` ``(3N, 3N)`` (the paper's nine extra recurrent matrices).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor, nn

__all__ = ["LSTMVariant", "VARIANTS", "LSTMCell", "GRUCell", "ElmanCell", "check_sequence"]

VARIANTS = ("vanilla", "NIG", "NFG", "NOG", "NIAF", "NOAF", "CIFG", "NP", "FGR")


@dataclass(frozen=True)
class LSTMVariant:
    """Which parts of the vanilla LSTM are removed or changed (Greff et al. 2017, Section III)."""

    nig: bool = False  # no input gate: i = 1
    nfg: bool = False  # no forget gate: f = 1
    nog: bool = False  # no output gate: o = 1
    niaf: bool = False  # no input activation function: g(x) = x
    noaf: bool = False  # no output activation function: h(x) = x
    cifg: bool = False  # coupled input and forget gate: f = 1 - i
    np: bool = False  # no peepholes
    fgr: bool = False  # full gate recurrence

    def __post_init__(self):
        if self.cifg and (self.nig or self.nfg):
            raise ValueError("LSTMVariant: CIFG couples f to i, so it cannot be combined with NIG or NFG")

    @classmethod
    def parse(cls, name: str | LSTMVariant) -> LSTMVariant:
        """``"vanilla"``, one of the eight names, or several joined by ``+`` (``"NP+FGR"``)."""
        if isinstance(name, LSTMVariant):
            return name
        if not isinstance(name, str):
            raise TypeError(f"LSTM variant must be a name or an LSTMVariant (got {type(name).__name__})")
        flags = {}
        for part in name.split("+"):
            key = part.strip()
            if key.lower() == "vanilla":
                continue
            if key.upper() not in VARIANTS[1:]:
                raise ValueError(f"unknown LSTM variant {key!r}; allowed: {', '.join(VARIANTS)} (or joined by '+')")
            flags[key.lower()] = True
        return cls(**flags)

    @property
    def name(self) -> str:
        on = [f.name.upper() for f in fields(self) if getattr(self, f.name)]
        return "+".join(on) or "vanilla"


def check_sequence(x: Tensor, size: int, who: str, batch_first: bool = True) -> None:
    """Raise a ValueError naming the expected shape when ``x`` is not ``(B, T, size)``."""
    if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != size:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        order = "(B, T, C)" if batch_first else "(T, B, C)"
        raise ValueError(f"{who}: expected a sequence {order} with C = {size}, got {shape}")


def _check_step(x: Tensor, size: int, who: str) -> None:
    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[-1] != size:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{who}: expected one step (B, {size}), got {shape}")


class _Cell(nn.Module):
    gates = 1

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        for k, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{type(self).__name__}: {k} must be an int >= 1 (got {v!r})")
        self.input_size, self.hidden_size = input_size, hidden_size
        g = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(g, input_size))
        self.weight_hh = nn.Parameter(torch.empty(g, hidden_size))

    def reset_parameters(self) -> None:
        """torch's default: every weight U(-1/sqrt(N), 1/sqrt(N))."""
        bound = self.hidden_size ** -0.5
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def forward(self, x: Tensor, state=None):
        """One step from a raw input ``x`` ``(B, M)``; returns the new state."""
        _check_step(x, self.input_size, type(self).__name__)
        if state is None:
            state = self.init_state(x.shape[0], x)
        return self.step(self.input_projection(x), state)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class LSTMCell(_Cell):
    """The peephole LSTM block layer of Greff et al. 2017 (state ``(y, c)``, or ``(y, c, a)`` with FGR where
    ``a = (i, f, o)`` are the previous gate activations). ``variant``: a name of :data:`VARIANTS`, names joined
    by ``+``, or an :class:`LSTMVariant`."""

    gates = 4

    def __init__(self, input_size: int, hidden_size: int, variant: str | LSTMVariant = "vanilla"):
        super().__init__(input_size, hidden_size)
        self.variant = LSTMVariant.parse(variant)
        n = hidden_size
        self.bias = nn.Parameter(torch.empty(4 * n))
        self.peephole = None if self.variant.np else nn.Parameter(torch.empty(3 * n))
        self.weight_gg = nn.Parameter(torch.empty(3 * n, 3 * n)) if self.variant.fgr else None
        self.fused = True  # layers may run whole sequences through rnn.bptt.FusedLSTM (False: step by step)
        self.reset_parameters()

    def init_state(self, batch: int, like: Tensor | None = None) -> tuple[Tensor, ...]:
        kw = {"dtype": self.weight_hh.dtype, "device": self.weight_hh.device} if like is None else \
            {"dtype": like.dtype, "device": like.device}
        zeros = torch.zeros(batch, self.hidden_size, **kw)
        if self.variant.fgr:
            return zeros, zeros, torch.zeros(batch, 3 * self.hidden_size, **kw)
        return zeros, zeros

    def output(self, state) -> Tensor:
        return state[0]

    def input_projection(self, x: Tensor) -> Tensor:
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight_ih.t()).reshape(*x.shape[:-1], -1)

    def step(self, xp: Tensor, state):
        v, n = self.variant, self.hidden_size
        y_prev, c_prev = state[0], state[1]
        pre = torch.addmm(xp, y_prev, self.weight_hh.t())  # (B, 4N): W x + R y⁻ + b, gates (i, f, z, o)
        if v.fgr:
            pre = pre + self._gate_recurrence(state[2], n)
        i_bar, f_bar, z_bar, o_bar = pre.split(n, 1)
        if self.peephole is not None:
            p_i, p_f, p_o = self.peephole.split(n)
            i_bar = i_bar + p_i * c_prev
            f_bar = f_bar + p_f * c_prev
        z = z_bar if v.niaf else torch.tanh(z_bar)
        i = torch.ones_like(c_prev) if v.nig else torch.sigmoid(i_bar)
        if v.cifg:
            f = 1 - i
        else:
            f = torch.ones_like(c_prev) if v.nfg else torch.sigmoid(f_bar)
        c = z * i + c_prev * f
        if self.peephole is not None:
            o_bar = o_bar + p_o * c
        o = torch.ones_like(c) if v.nog else torch.sigmoid(o_bar)
        y = (c if v.noaf else torch.tanh(c)) * o
        if v.fgr:
            return y, c, torch.cat([i, f, o], 1)
        return y, c

    def _gate_recurrence(self, a_prev: Tensor, n: int) -> Tensor:
        """FGR: ``R_gg (i⁻, f⁻, o⁻)`` placed on the (i, f, o) rows of the (i, f, z, o) pre-activation."""
        r = a_prev @ self.weight_gg.t()  # (B, 3N) in the order (i, f, o)
        return torch.cat([r[:, :2 * n], r.new_zeros(len(r), n), r[:, 2 * n:]], 1)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, variant={self.variant.name}"


class GRUCell(_Cell):
    """Gated recurrent unit (Cho et al. 2014), in torch's convention so that it takes ``torch.nn.GRU``'s weights::

        r = σ(W_r x + b_ir + R_r h⁻ + b_hr)        reset gate
        u = σ(W_u x + b_iu + R_u h⁻ + b_hu)        update gate
        n = tanh(W_n x + b_in + r ⊙ (R_n h⁻ + b_hn))
        h = (1 - u) ⊙ n + u ⊙ h⁻

    Blocks are stacked ``(r, u, n)``. Compared with the LSTM (the notes): no peepholes, no output activation,
    the input and forget gates coupled into the update gate ``u``.
    """

    gates = 3

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size)
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        self.reset_parameters()

    def init_state(self, batch: int, like: Tensor | None = None) -> Tensor:
        ref = self.weight_hh if like is None else like
        return torch.zeros(batch, self.hidden_size, dtype=ref.dtype, device=ref.device)

    def output(self, state: Tensor) -> Tensor:
        return state

    def input_projection(self, x: Tensor) -> Tensor:
        return torch.addmm(self.bias_ih, x.reshape(-1, x.shape[-1]), self.weight_ih.t()).reshape(*x.shape[:-1], -1)

    def step(self, xp: Tensor, h_prev: Tensor) -> Tensor:
        n = self.hidden_size
        hp = torch.addmm(self.bias_hh, h_prev, self.weight_hh.t())
        x_r, x_u, x_n = xp.split(n, 1)
        h_r, h_u, h_n = hp.split(n, 1)
        r = torch.sigmoid(x_r + h_r)
        u = torch.sigmoid(x_u + h_u)
        cand = torch.tanh(x_n + r * h_n)
        return (1 - u) * cand + u * h_prev


class ElmanCell(_Cell):
    """The simple recurrent network (Elman 1990): ``h = φ(W x + b_ih + R h⁻ + b_hh)``, φ = tanh or ReLU (as
    ``torch.nn.RNN``'s ``nonlinearity``)."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__(input_size, hidden_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"ElmanCell: nonlinearity must be 'tanh' or 'relu' (got {nonlinearity!r})")
        self.nonlinearity = nonlinearity
        self.bias_ih = nn.Parameter(torch.empty(hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    init_state = GRUCell.init_state
    output = GRUCell.output
    input_projection = GRUCell.input_projection

    def step(self, xp: Tensor, h_prev: Tensor) -> Tensor:
        pre = xp + torch.addmm(self.bias_hh, h_prev, self.weight_hh.t())
        return torch.tanh(pre) if self.nonlinearity == "tanh" else torch.relu(pre)

