"""Source-to-source AD: the notes' four stages, errors, and the property test that all AD modes agree."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import deepcourse.autodiff as ad
from deepcourse.autodiff import ops, source
from deepcourse.autodiff.examples import loop_example, notes_example

# torch.func warns (FutureWarning) about its own internal use of torch.jit.script on first use
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:FutureWarning")

NOTES_ANF = """\
p = mul(7, x)
r = div(1, y)
i1 = mul(p, x)
q = mul(i1, 5)
i2 = mul(2, p)
i3 = mul(i2, q)
i4 = mul(3, r)
v = add(i3, i4)"""

NOTES_DUP = """\
(x1, x2) = dup(x)
p = mul(7, x1)
(p1, p2) = dup(p)
r = div(1, y)
i1 = mul(p1, x2)
q = mul(i1, 5)
i2 = mul(2, p2)
i3 = mul(i2, q)
i4 = mul(3, r)
v = add(i3, i4)"""

NOTES_FORWARD = """\
dp = mul(7, dx)
dr = negate(div(dy, mul(y, y)))
di1 = add(mul(dp, x), mul(p, dx))
dq = mul(di1, 5)
di2 = mul(2, dp)
di3 = add(mul(di2, q), mul(i2, dq))
di4 = mul(3, dr)
dv = add(di3, di4)"""


def test_notes_example_stages_match_the_notes():
    anf = source.to_anf(notes_example)
    assert "\n".join(map(str, anf.lines)) == NOTES_ANF
    dup = source.insert_dups(anf)
    assert "\n".join(map(str, dup.lines)) == NOTES_DUP
    fwd = source.forward_program(anf)
    assert "\n".join(d for _, d in fwd.pairs) == NOTES_FORWARD
    rev = source.reverse_program(dup)
    adj = [a for _, a in rev.pairs]
    assert adj[0] == "d_dx = add(d_dx1, d_dx2)"
    assert adj[3] == "d_dy = negate(div(d_dr, mul(y, y)))"
    assert adj[-1] == "(d_di3, d_di4) = dup(d_dv)"


def test_every_variable_used_once_after_dup():
    dup = source.insert_dups(source.to_anf(loop_example))
    uses = [a for ln in dup.lines for a in ln.args if isinstance(a, str)] + [o for o in dup.outputs if isinstance(o, str)]
    assert len(uses) == len(set(uses))


def test_notes_example_values_and_derivatives():
    c = source.transform(notes_example)
    x, y = 2.0, 3.0
    assert c(x, y) == pytest.approx(490 * x**3 + 3 / y)
    _, (dv_dx) = c.jvp((x, y), (1.0, 0.0))
    assert dv_dx == pytest.approx(1470 * x**2)
    _, grads = c.vjp((x, y), (1.0,))
    assert grads == pytest.approx((1470 * x**2, -3 / y**2))


def test_loop_and_call_agree_with_reverse_mode():
    c = source.transform(loop_example)
    x, w = 0.3, 0.7
    ours = c.grad(x, w)
    ref = ad.grad(lambda a, b: loop_example(a, b), argnums=(0, 1))(x, w)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_show_prints_four_stages(tmp_path):
    text = source.show("deepcourse.autodiff.examples:notes_example")
    for title in ("1. source", "2. A-normal form", "3. forward mode", "4. reverse mode"):
        assert title in text
    assert "r = div(1, y)     | d_dy = negate(div(d_dr, mul(y, y)))" in text
    f = tmp_path / "prog.py"
    f.write_text("from numpy import sin\n\ndef g(a, b):\n    return sin(a) * b\n")
    assert "d_da" in source.show(f"{f}:g")
    with pytest.raises(ValueError, match="has no function"):
        source.show(f"{f}:nope")


@pytest.mark.parametrize("body, construct", [
    ("if x > 0:\n        x = x * 2", "If"),
    ("x = x[0]", "Subscript"),
    ("z = x ** y", "non-constant exponent"),
    ("while x:\n        pass", "While"),
    ("z = abs(x)", "call to 'abs'"),
    ("for i in range(int(y)):\n        x = x * 2", "range"),
    ("z = x < y", "Compare"),
])
def test_unsupported_constructs_name_construct_and_line(body, construct):
    src = f"def f(x, y):\n    {body}\n    return x\n"
    with pytest.raises(source.SourceTransformError, match=construct) as e:
        source.to_anf(src)
    assert "line 2" in str(e.value)


# ---- property test: forward, reverse, source-to-source and torch agree ------------------------
UNARY = ["neg", "exp", "log", "sin", "cos", "tanh", "sigmoid", "pow"]
BINARY = ["add", "sub", "mul", "div"]


@st.composite
def programs(draw):
    """A random straight-line program in x, y built from the whole supported op set."""
    names = ["x", "y"]
    lines = []
    for i in range(draw(st.integers(1, 5))):
        def term(depth):
            if depth == 0 or draw(st.booleans()):
                if draw(st.integers(0, 4)) == 0:
                    return repr(draw(st.sampled_from([0.5, 2.0, -1.5, 3.0])))
                return draw(st.sampled_from(names))
            if draw(st.booleans()):
                op, a = draw(st.sampled_from(UNARY)), term(depth - 1)
                return {"neg": f"-({a})", "exp": f"exp(sin({a}))", "log": f"log(1.5 + ({a}) * ({a}))",
                        "pow": f"(1.2 + ({a}) * ({a})) ** {draw(st.sampled_from(['2', '3', '0.5', '-1']))}"}.get(
                    op, f"{op}({a})")
            op, a, b = draw(st.sampled_from(BINARY)), term(depth - 1), term(depth - 1)
            return {"add": f"({a}) + ({b})", "sub": f"({a}) - ({b})", "mul": f"({a}) * ({b})",
                    "div": f"({a}) / (1.5 + ({b}) * ({b}))"}[op]
        lines.append(f"v{i} = {term(2)}")
        names.append(f"v{i}")
    if draw(st.booleans()):
        lines.append(f"for k in range({draw(st.integers(1, 3))}):\n        {names[-1]} = sin({names[-1]}) * 0.9 + x")
    lines.append(f"return {names[-1]} * y + x")
    return "def prog(x, y):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"


OUR_NS = {"exp": ops.exp, "log": ops.log, "sin": ops.sin, "cos": ops.cos, "tanh": ops.tanh, "sigmoid": ops.sigmoid}
TORCH_NS = {k: (lambda fn: lambda a: fn(torch.as_tensor(a, dtype=torch.float64)))(getattr(torch, k))
            for k in OUR_NS}  # torch functions reject Python floats; constants may reach them


def _load(src, ns):
    scope = dict(ns)
    exec(src, scope)
    return scope["prog"]


@settings(max_examples=30, deadline=None)
@given(programs(), st.integers(0, 2**31 - 1))
def test_random_programs_all_modes_agree(src, seed):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-1.0, 1.0, size=6)  # x = z[:3], y = z[3:]
    ours, theirs = _load(src, OUR_NS), _load(src, TORCH_NS)

    def f(z):
        return ours(z[:3], z[3:])
    ref = torch.func.jacrev(lambda t: theirs(t[:3], t[3:]))(torch.tensor(z)).numpy()  # (3, 6)
    tol = dict(rtol=1e-8, atol=1e-8 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(ad.jacfwd(f)(z), ref, **tol, err_msg=src)
    np.testing.assert_allclose(ad.jacrev(f)(z), ref, **tol, err_msg=src)
    c = source.transform(src)
    x, y = z[:3], z[3:]
    cols = []
    for j in range(6):
        e = np.zeros(6)
        e[j] = 1.0
        cols.append(np.broadcast_to(c.jvp((x, y), (e[:3], e[3:]))[1], (3,)))
    np.testing.assert_allclose(np.stack(cols, axis=1), ref, **tol, err_msg=src)
    rows = [np.concatenate(c.vjp((x, y), (np.eye(3)[i],))[1]) for i in range(3)]
    np.testing.assert_allclose(np.stack(rows), ref, **tol, err_msg=src)


# ---- hygiene: generated names never capture user names (issue 12, section 7) --------------------------
RUNTIME_NAMES = ["sub", "mul", "add", "div", "dup", "negate", "pow", "exp", "sigmoid", "_rt"]


def test_user_variable_named_like_a_primitive():
    c = source.transform("def f(x, y):\n    sub = x - y\n    return sub * x\n")  # was UnboundLocalError
    assert c(2.0, 3.0) == -2.0
    assert c.grad(2.0, 3.0) == pytest.approx((2 * 2.0 - 3.0, -2.0))
    c = source.transform("def f(div, y):\n    return div / y\n")  # was TypeError: 'float' is not callable
    assert c(3.0, 4.0) == 0.75
    assert c.grad(3.0, 4.0) == pytest.approx((0.25, -3.0 / 16))


@pytest.mark.parametrize("name", RUNTIME_NAMES)
def test_any_runtime_name_as_input_and_local(name):
    """Every runtime primitive's name used as an input and as a local agrees with reverse mode."""
    src = (f"def prog(x, {name}):\n    a = x * {name}\n    b = -a + x\n    {name}_t = b / {name}\n"
           f"    return {name}_t - a * a\n")
    c = source.transform(src)
    f = _load(src, OUR_NS)
    x = (0.7, 1.3)
    assert c(*x) == pytest.approx(f(*x), rel=1e-12)
    np.testing.assert_allclose(c.grad(*x), ad.grad(f, argnums=(0, 1))(*x), rtol=1e-12)
    src = f"def prog(x, y):\n    {name} = x * y\n    {name} = {name} + x\n    return {name} * {name}\n"
    c, f = source.transform(src), _load(src, OUR_NS)
    np.testing.assert_allclose(c.grad(*x), ad.grad(f, argnums=(0, 1))(*x), rtol=1e-12)


def test_generated_names_avoid_tangent_adjoint_and_seed_names():
    src = ("def prog(x, dx):\n    d_dx = x * dx\n    i1 = d_dx * x\n    x1 = i1 + dx\n    _ct1 = x1 * x1\n"
           "    return _ct1 - x, 2.0\n")
    c, f = source.transform(src), _load(src, OUR_NS)
    x = (0.7, 1.3)
    assert c(*x) == pytest.approx(f(*x))
    np.testing.assert_allclose(c.vjp(x, (1.0, 1.0))[1], ad.grad(lambda a, b: f(a, b)[0], argnums=(0, 1))(*x))


# ---- the unrolled size is capped (issue 12, section 6) ----------------------------------------------------
@pytest.mark.parametrize("loop, what", [
    ("for i in range(1000000000):\n        h = h * x", "1000000000 iterations"),
    ("for i in range(200):\n        for j in range(200):\n            h = h * x", "more than 10000 iterations"),
    ("for i in range(6000):\n        h = sin(h * x + 1.0)", "passes 10000 lines"),
])
def test_loop_unrolling_is_capped_with_a_clear_error(loop, what):
    src = f"def f(x):\n    h = x\n    {loop}\n    return h\n"
    with pytest.raises(source.SourceTransformError, match="loop too long to unroll") as e:
        source.to_anf(src)
    assert what in str(e.value) and "line 3" in str(e.value) and "for i in range(" in str(e.value)


def test_loop_within_the_cap_still_unrolls():
    c = source.transform("def f(x):\n    h = x\n    for i in range(2000):\n        h = h * 0.5 + x\n    return h\n")
    assert c(1.0) == pytest.approx(2.0)
    assert c.grad(1.0)[0] == pytest.approx(2.0)
