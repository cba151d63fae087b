"""Tests for deepcourse.rnn.ltc: the LTC cell's solvers against closed forms, bounded state, the baselines."""

from __future__ import annotations

import math

import pytest
import torch

from deepcourse.rnn.ltc import CTRNNCell, ContinuousRNN, LTCCell, ODERNNCell, ODESequenceModel


def ltc(solver="semi-implicit", unfolds=6, n=4, i=3, seed=0, **kw) -> LTCCell:
    torch.manual_seed(seed)
    return LTCCell(i, n, unfolds, solver, **kw).double()


def no_recurrent_synapses(cell: LTCCell) -> LTCCell:
    with torch.no_grad():
        cell.w.zero_()  # only the leak and the (constant) input synapses remain: a linear ODE
    return cell


def linear_ode_parameters(cell: LTCCell, x: torch.Tensor):
    """For constant input and no recurrent synapses: dv/dt = -(g_l + S) / c_m v + (g_l v_l + S_E) / c_m."""
    s_num, s_den = cell.sensory(x)
    rate = (cell.gleak + s_den) / cell.cm
    v_star = (cell.gleak * cell.vleak + s_num) / (cell.gleak + s_den)
    return rate, v_star


def test_fused_solver_is_implicit_euler_in_closed_form():
    cell = no_recurrent_synapses(ltc(unfolds=5))
    x, v0 = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    _, v_star = linear_ode_parameters(cell, x)
    with torch.no_grad():
        s_num, s_den = cell.sensory(x)
        ratio = cell.cm / (cell.cm + cell.gleak + s_den)  # implicit Euler with step 1 (absorbed into c_m)
        expected = v_star + (v0 - v_star) * ratio ** 5
        torch.testing.assert_close(cell(x, v0), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("solver,unfolds,tol", [("explicit", 4000, 1e-3), ("rk4", 400, 1e-9)])
def test_explicit_solvers_converge_to_the_exponential_solution(solver, unfolds, tol):
    t = 2.0
    cell = no_recurrent_synapses(ltc(solver, unfolds=unfolds, dt=t / unfolds))
    x, v0 = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    with torch.no_grad():
        rate, v_star = linear_ode_parameters(cell, x)
        exact = v_star + (v0 - v_star) * torch.exp(-rate * t)
        torch.testing.assert_close(cell(x, v0), exact, rtol=0, atol=tol)


def test_fused_step_converges_to_the_fixed_point_of_the_full_ode():
    cell = ltc(unfolds=400)
    x, v0 = torch.randn(3, 3, dtype=torch.float64), torch.zeros(3, 4, dtype=torch.float64)
    with torch.no_grad():
        v = cell(x, v0)
        s_num, s_den = cell.sensory(x)
        assert cell.rhs(v, s_num, s_den).abs().max() < 1e-9  # dv/dt = 0 at the end


def test_notes_form_of_the_ode_matches_rhs():
    """dv/dt = -[1/tau + f] v + f A with 1/tau = g_l/c_m, f = sum_j f_ij / c_m, f A = (sum_j f_ij E_ij + g_l v_l)/c_m."""
    cell = ltc()
    x, v = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    with torch.no_grad():
        s_num, s_den = cell.sensory(x)
        act = cell.w * torch.sigmoid(cell.sigma * (v[:, :, None] - cell.mu))
        f = (act.sum(1) + s_den) / cell.cm
        f_a = ((act * cell.erev).sum(1) + s_num + cell.gleak * cell.vleak) / cell.cm
        torch.testing.assert_close(cell.rhs(v, s_num, s_den), -(cell.gleak / cell.cm + f) * v + f_a)


def test_state_stays_bounded_for_any_input():
    cell = ltc(n=8, i=3)
    rnn = ContinuousRNN(cell)
    x = 1e3 * torch.randn(4, 200, 3, dtype=torch.float64)
    with torch.no_grad():
        h = rnn(x)
        lo = min(float(cell.erev.min()), float(cell.vleak.min()), float(cell.sensory_erev.min()), 0.0)
        hi = max(float(cell.erev.max()), float(cell.vleak.max()), float(cell.sensory_erev.max()), 0.0)
    assert torch.isfinite(h).all()
    assert h.min() >= lo - 1e-12 and h.max() <= hi + 1e-12


def test_constrain_clips_positive_parameters():
    cell = ltc()
    with torch.no_grad():
        cell.cm.fill_(-1.0)
        cell.w.fill_(-3.0)
        cell.gleak.fill_(5e4)
    cell.constrain_()
    assert cell.cm.min() > 0 and cell.w.min() > 0 and cell.gleak.max() <= LTCCell.GLEAK_MAX


def test_ctrnn_and_odernn_match_their_update_rules():
    torch.manual_seed(0)
    x, h = torch.randn(2, 3), torch.randn(2, 5)
    ct = CTRNNCell(3, 5, unfolds=1)
    with torch.no_grad():
        f = torch.tanh(ct.lin(torch.cat([x, h], -1)))
        torch.testing.assert_close(ct(x, h), h + 0.1 * (-h + f))
    node = ODERNNCell(3, 5, unfolds=3, dt=0.01).double()
    x, h = x.double(), h.double()
    with torch.no_grad():
        # RK4 on dh/dt = tanh(...) agrees with many tiny Euler steps of the same field
        h_euler = h.clone()
        for _ in range(3000):
            h_euler = h_euler + 1e-5 * node.f(x, h_euler)
        torch.testing.assert_close(node(x, h), h_euler, atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", ["lstm", "ctrnn", "node", "ltc"])
@pytest.mark.parametrize("per_step", [False, True])
def test_sequence_model_shapes_and_gradients(kind, per_step):
    torch.manual_seed(0)
    m = ODESequenceModel(kind, 5, 6, 3, per_step=per_step, unfolds=2)
    x = torch.randn(4, 7, 5)
    out = m(x)
    assert out.shape == ((4, 7, 3) if per_step else (4, 3))
    out.square().mean().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert any(p.grad.abs().sum() > 0 for p in m.parameters())


@pytest.mark.parametrize("solver", ["semi-implicit", "explicit", "rk4"])
def test_gradients_match_finite_differences(solver):
    cell = ltc(solver, unfolds=3, n=3, i=2)
    x = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: cell(a, b), (x, v))


def test_bad_inputs():
    cell = LTCCell(3, 4)
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        cell(torch.randn(2, 5), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        cell(torch.randn(2, 3), torch.zeros(2, 5))
    with pytest.raises(ValueError, match="solver"):
        LTCCell(3, 4, solver="euler")
    with pytest.raises(ValueError, match=r"\(B, T, 3\)"):
        ContinuousRNN(cell)(torch.randn(2, 3))
    with pytest.raises(ValueError, match="kind"):
        ODESequenceModel("gru", 3, 4, 2)


def test_ltc_learns_a_simple_sequence_task():
    """Sign of the running sum of a 1-D input after 6 steps: an LTC trained for 60 steps beats chance."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 6, 1, generator=g)
    y = (x.sum((1, 2)) > 0).long()
    torch.manual_seed(0)
    m = ODESequenceModel("ltc", 1, 8, 2, unfolds=2)
    opt = torch.optim.Adam(m.parameters(), lr=0.02)
    for _ in range(60):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
        m.constrain_()
    acc = float((m(x).argmax(1) == y).float().mean())
    assert acc > 0.8, acc
    assert math.isfinite(acc)


def test_initialisation_matches_the_reference_code():
    """ltc_model.py (raminmh/liquid_time_constant_networks), _get_variables and __init__: the ranges below."""
    cell = LTCCell(28, 32)
    for name, lo, hi in [("sensory_mu", 0.3, 0.8), ("mu", 0.3, 0.8), ("sensory_sigma", 3.0, 8.0),
                         ("sigma", 3.0, 8.0), ("sensory_w", 0.01, 1.0), ("w", 0.01, 1.0), ("vleak", -0.2, 0.2)]:
        p = getattr(cell, name)
        assert lo <= p.min() and p.max() <= hi, name
    assert set(cell.erev.unique().tolist()) == {-1.0, 1.0} and set(cell.sensory_erev.unique().tolist()) == {-1.0, 1.0}
    assert (cell.cm == 0.5).all() and (cell.gleak == 1.0).all()
    assert (cell.input_w == 1).all() and (cell.input_b == 0).all()


def _memory(cell: LTCCell, x: torch.Tensor) -> tuple[float, float]:
    """Largest |d v_1 / d v_0| over one input step (all unfolds) from v_0 = 0, any sample, any pair of units."""
    v0 = torch.zeros(x.shape[0], cell.hidden_size, dtype=x.dtype)
    jac = torch.autograd.functional.jacobian(lambda v: cell(x, v), v0)  # (B, N, B, N)
    per_sample = jac.diagonal(dim1=0, dim2=2)  # (N, N, B)
    return float(per_sample.abs().max()), float(per_sample.diagonal().abs().mean())


def test_reference_capacitance_forgets_within_one_input_and_cm_init_lengthens_memory():
    """Why the LTC plateaus on sequential MNIST in short runs: with the reference's c_m = 0.5 one input step (6
    fused unfolds) keeps ~5e-4 of each unit's state; a large cm_init keeps most of it."""
    x = torch.rand(16, 28, dtype=torch.float64) * (torch.rand(16, 28, dtype=torch.float64) < 0.2)  # sparse, in [0, 1]
    torch.manual_seed(0)
    short = LTCCell(28, 32).double()
    torch.manual_seed(0)
    long = LTCCell(28, 32, cm_init=100.0).double()
    biggest, own = _memory(short, x)
    assert biggest < 0.05 and own < 2e-3  # measured ~0.006 and ~5e-4: two inputs back, nothing is left
    assert _memory(long, x)[1] > 0.5  # measured ~0.79: each unit keeps most of its own past
    m = ODESequenceModel("ltc", 28, 32, 10, cm_init=7.0)
    assert (m.rnn.cell.cm == 7.0).all()
    with pytest.raises(ValueError, match="cm_init"):
        LTCCell(3, 4, cm_init=0.0)
