r"""Liquid time-constant networks (Hasani, Lechner, Amini, Rus & Grosu 2021, "Liquid Time-constant Networks",
AAAI) and the continuous-time baselines of their Table 3: CT-RNN and ODE-RNN.

The LTC state obeys the notes' ODE (paper Eq. 1)

.. math:: \frac{dx}{dt} = -\Big[\frac{1}{\tau} + f(x, I, t, \theta)\Big] x + f(x, I, t, \theta)\, A,

so the effective time constant :math:`\tau / (1 + \tau f)` depends on the input ("liquid"). Following the
authors' reference code (``ltc_model.py``), each neuron :math:`i` is a leaky membrane with capacitance
:math:`c_m`, leak conductance :math:`g_l` and resting potential :math:`v_l`, and every presynaptic neuron or
input :math:`j` acts through a sigmoid synapse with weight :math:`W_{ij} > 0`, midpoint :math:`\mu_{ij}`,
steepness :math:`\sigma_{ij}` and reversal potential :math:`E_{ij}`:

.. math:: c_m \frac{dv_i}{dt} = g_l (v_l - v_i) + \sum_j f_{ij} (E_{ij} - v_i), \quad
          f_{ij} = W_{ij}\, \mathrm{sigmoid}(\sigma_{ij} (v_j - \mu_{ij})),

which is Eq. 1 with :math:`1/\tau = g_l / c_m`, :math:`f = \sum_j f_{ij} / c_m`, :math:`A = E` (one per
synapse) plus the leak's bias :math:`g_l v_l / c_m`. The paper's fused solver (Eq. 3) takes an explicit
Euler step for the :math:`f A` term and an implicit one for the decay, which gives

.. math:: v \leftarrow \frac{c_m v + g_l v_l + \sum_j f_{ij} E_{ij}}{c_m + g_l + \sum_j f_{ij}}

(the step size is absorbed into :math:`c_m`), repeated ``unfolds`` times per input (6 in the reference code).
The new state is a convex combination of the old state, :math:`v_l` and the :math:`E_{ij}`, so it stays within
their range whatever the input: the paper's bounded-state theorem. Inputs pass through a per-feature affine map
first, and positive parameters are clipped after every optimiser step (:meth:`LTCCell.constrain_`), as in the
reference code.

Baselines (the reference's ``ctrnn_model.py``): the CT-RNN :math:`dh/dt = -h/\tau + \tanh(W[x, h] + b)` with
:math:`\tau = 1`, 6 explicit Euler steps of 0.1 per input; the ODE-RNN (Rubanova et al. 2019; "Neural ODE" in the
table) :math:`dh/dt = \tanh(W[x, h] + b)`, 6 Runge-Kutta-4 steps of 0.1 per input.
"""

from __future__ import annotations

import torch
from torch import nn

from deepcourse.core import register_model

__all__ = ["LTCCell", "CTRNNCell", "ODERNNCell", "ContinuousRNN", "ODESequenceModel", "SOLVERS", "KINDS"]

SOLVERS = ("semi-implicit", "explicit", "rk4")
KINDS = ("lstm", "ctrnn", "node", "ltc")


def _check_step(x: torch.Tensor, h: torch.Tensor, inputs: int, hidden: int) -> None:
    if x.dim() != 2 or x.shape[1] != inputs:
        raise ValueError(f"input must have shape (B, {inputs}), got {tuple(x.shape)}")
    if h.shape != (x.shape[0], hidden):
        raise ValueError(f"state must have shape ({x.shape[0]}, {hidden}), got {tuple(h.shape)}")


class LTCCell(nn.Module):
    """One LTC layer of ``hidden`` neurons, fully connected, with the reference code's initialisation.

    solver: ``"semi-implicit"`` (the paper's fused step), ``"explicit"`` (Euler, step ``dt``) or ``"rk4"``
        (step ``dt``); ``unfolds`` steps per input.
    cm_init: the initial capacitance (the reference code's ``_cm_init_min = _cm_init_max = 0.5``). With it, and
        ``g_l = 1``, a fused unfold keeps only ``c_m / (c_m + g_l + sum_j f_ij)`` (about 0.09 on MNIST rows) of the
        old state, so after the 6 unfolds of one input d v_i / d v_i is about 5e-4 (every entry of the Jacobian
        below 0.01): at initialisation the state remembers the last one or two inputs only, and Adam moves
        ``c_m`` by at most about ``lr`` per step, so learning a longer memory takes thousands of steps (the
        reference trains 200 epochs of 3,375 steps). A larger ``cm_init`` (e.g. 100) starts with a long memory;
        it is not the reference's setting.
    """

    W_MIN, W_MAX = 1e-5, 1000.0
    GLEAK_MIN, GLEAK_MAX = 1e-5, 1000.0
    CM_MIN, CM_MAX = 1e-6, 1000.0

    def __init__(self, input_size: int, hidden_size: int, unfolds: int = 6, solver: str = "semi-implicit",
                 dt: float = 0.1, cm_init: float = 0.5):
        super().__init__()
        if solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
        if unfolds < 1 or input_size < 1 or hidden_size < 1:
            raise ValueError("input_size, hidden_size and unfolds must be >= 1")
        if not self.CM_MIN <= cm_init <= self.CM_MAX:
            raise ValueError(f"cm_init must lie in [{self.CM_MIN}, {self.CM_MAX}], got {cm_init}")
        self.input_size, self.hidden_size, self.unfolds, self.solver, self.dt = (input_size, hidden_size, unfolds,
                                                                                   solver, dt)
        i, n = input_size, hidden_size

        def uniform(*shape, lo, hi):
            return nn.Parameter(torch.empty(*shape).uniform_(lo, hi))

        def signs(*shape):
            return nn.Parameter(2.0 * torch.randint(0, 2, shape).float() - 1.0)

        self.input_w = nn.Parameter(torch.ones(i))   # the affine input mapping
        self.input_b = nn.Parameter(torch.zeros(i))
        self.sensory_mu = uniform(i, n, lo=0.3, hi=0.8)
        self.sensory_sigma = uniform(i, n, lo=3.0, hi=8.0)
        self.sensory_w = uniform(i, n, lo=0.01, hi=1.0)
        self.sensory_erev = signs(i, n)
        self.mu = uniform(n, n, lo=0.3, hi=0.8)
        self.sigma = uniform(n, n, lo=3.0, hi=8.0)
        self.w = uniform(n, n, lo=0.01, hi=1.0)
        self.erev = signs(n, n)
        self.vleak = uniform(n, lo=-0.2, hi=0.2)
        self.gleak = nn.Parameter(torch.ones(n))
        self.cm = nn.Parameter(torch.full((n,), float(cm_init)))

    @staticmethod
    def _synapse(v: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """sigmoid(sigma_ij (v_j - mu_ij)) as (B, pre, post)."""
        return torch.sigmoid(sigma * (v[:, :, None] - mu))

    def sensory(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The inputs' synaptic drive: sum_j f_ij E_ij and sum_j f_ij over the input synapses, each (B, N)."""
        x = x * self.input_w + self.input_b
        act = self.sensory_w * self._synapse(x, self.sensory_mu, self.sensory_sigma)
        return (act * self.sensory_erev).sum(1), act.sum(1)

    def rhs(self, v: torch.Tensor, s_num: torch.Tensor, s_den: torch.Tensor) -> torch.Tensor:
        """dv/dt = [g_l (v_l - v) + sum_j f_ij (E_ij - v)] / c_m, inputs' terms given."""
        act = self.w * self._synapse(v, self.mu, self.sigma)
        num = (act * self.erev).sum(1) + s_num
        den = act.sum(1) + s_den
        return (self.gleak * (self.vleak - v) + num - v * den) / self.cm

    def forward(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """One input step: ``x`` (B, I), state ``v`` (B, N) -> new state (B, N)."""
        _check_step(x, v, self.input_size, self.hidden_size)
        s_num, s_den = self.sensory(x)
        for _ in range(self.unfolds):
            if self.solver == "semi-implicit":
                act = self.w * self._synapse(v, self.mu, self.sigma)
                num = self.cm * v + self.gleak * self.vleak + (act * self.erev).sum(1) + s_num
                den = self.cm + self.gleak + act.sum(1) + s_den
                v = num / den
            elif self.solver == "explicit":
                v = v + self.dt * self.rhs(v, s_num, s_den)
            else:
                k1 = self.rhs(v, s_num, s_den)
                k2 = self.rhs(v + 0.5 * self.dt * k1, s_num, s_den)
                k3 = self.rhs(v + 0.5 * self.dt * k2, s_num, s_den)
                k4 = self.rhs(v + self.dt * k3, s_num, s_den)
                v = v + self.dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        return v

    @torch.no_grad()
    def constrain_(self) -> None:
        """Clip c_m, g_l and the synaptic weights into their positive ranges (call after each optimiser step)."""
        self.cm.clamp_(self.CM_MIN, self.CM_MAX)
        self.gleak.clamp_(self.GLEAK_MIN, self.GLEAK_MAX)
        self.w.clamp_(self.W_MIN, self.W_MAX)
        self.sensory_w.clamp_(self.W_MIN, self.W_MAX)


class _DenseODECell(nn.Module):
    """h' = g(h, tanh(W [x, h] + b)), integrated with ``unfolds`` steps of ``dt``."""

    def __init__(self, input_size: int, hidden_size: int, unfolds: int = 6, dt: float = 0.1):
        super().__init__()
        self.input_size, self.hidden_size, self.unfolds, self.dt = input_size, hidden_size, unfolds, dt
        self.lin = nn.Linear(input_size + hidden_size, hidden_size)
        nn.init.xavier_uniform_(self.lin.weight)  # TF's default (glorot uniform), zero bias
        nn.init.zeros_(self.lin.bias)

    def f(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.lin(torch.cat([x, h], -1)))


class CTRNNCell(_DenseODECell):
    """Continuous-time RNN (Funahashi & Nakamura 1993): dh/dt = -h / tau + tanh(W [x, h] + b), explicit Euler."""

    def __init__(self, input_size: int, hidden_size: int, unfolds: int = 6, dt: float = 0.1, tau: float = 1.0):
        super().__init__(input_size, hidden_size, unfolds, dt)
        self.tau = tau

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        _check_step(x, h, self.input_size, self.hidden_size)
        for _ in range(self.unfolds):
            h = h + self.dt * (-h / self.tau + self.f(x, h))
        return h


class ODERNNCell(_DenseODECell):
    """ODE-RNN / neural-ODE cell (Chen et al. 2018; Rubanova et al. 2019): dh/dt = tanh(W [x, h] + b), RK4."""

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        _check_step(x, h, self.input_size, self.hidden_size)
        dt = self.dt
        for _ in range(self.unfolds):
            k1 = self.f(x, h)
            k2 = self.f(x, h + 0.5 * dt * k1)
            k3 = self.f(x, h + 0.5 * dt * k2)
            k4 = self.f(x, h + dt * k3)
            h = h + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        return h


class ContinuousRNN(nn.Module):
    """Runs a cell ``(x_t (B, I), h (B, N)) -> h`` over ``x`` (B, T, I) from a zero state; returns the states
    (B, T, N)."""

    def __init__(self, cell: nn.Module):
        super().__init__()
        self.cell = cell

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != self.cell.input_size:
            raise ValueError(f"x must have shape (B, T, {self.cell.input_size}), got {tuple(x.shape)}")
        if h is None:
            h = x.new_zeros(x.shape[0], self.cell.hidden_size)
        out = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            out.append(h)
        return torch.stack(out, 1)


class ODESequenceModel(nn.Module):
    """A recurrent layer of ``kind`` (``lstm``, ``ctrnn``, ``node``, ``ltc``) and a linear read-out of the
    whole state, as in the reference code: ``per_step=True`` gives logits (B, T, C) (Occupancy: a label per
    step), otherwise logits of the last step (B, C) (sequential MNIST)."""

    def __init__(self, kind: str, input_size: int, hidden: int, classes: int, per_step: bool = False,
                 unfolds: int = 6, solver: str = "semi-implicit", cm_init: float = 0.5):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind, self.per_step = kind, per_step
        if kind == "lstm":
            self.rnn = nn.LSTM(input_size, hidden, batch_first=True)
            with torch.no_grad():  # TF's LSTMCell adds 1 to the forget gate's bias
                self.rnn.bias_ih_l0[hidden:2 * hidden].add_(1.0)
        else:
            cell = {"ctrnn": lambda: CTRNNCell(input_size, hidden, unfolds),
                    "node": lambda: ODERNNCell(input_size, hidden, unfolds),
                    "ltc": lambda: LTCCell(input_size, hidden, unfolds, solver, cm_init=cm_init)}[kind]()
            self.rnn = ContinuousRNN(cell)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.rnn(x)[0] if self.kind == "lstm" else self.rnn(x)
        return self.head(h if self.per_step else h[:, -1])

    def constrain_(self) -> None:
        if self.kind == "ltc":
            self.rnn.cell.constrain_()


register_model("ltc-classifier", example_input=lambda: torch.randn(2, 5, 3),
               small={"kind": "ltc", "input_size": 3, "hidden": 4, "classes": 2, "unfolds": 2})(ODESequenceModel)
