"""Stages 3-5 of source-to-source AD: derivative lines, adjoint lines, compilation.

Forward rules (tangent ``dz`` of ``z = op(a, b)``) and reverse rules (adjoints
``d_da, d_db`` given ``d_dz``) are the elementary-function table of Griewank &
Walther (2008), Table 2.3, written in the notes' prefix style, e.g.
``r = div(1, y) | dr = negate(div(dy, mul(y, y)))``.
"""
from __future__ import annotations

import functools
import operator
import re
import types
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .source_ir import Line, Program, SourceTransformError, fmt_arg

__all__ = ["Derived", "forward_program", "reverse_program", "compile_program", "Compiled", "RUNTIME"]


# ---- tiny expression builders; None stands for an exact zero -------------------------------
def _call(op: str, *xs: str) -> str:
    return f"{op}({', '.join(xs)})"


def MUL(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return None
    if a == "1":
        return b
    if b == "1":
        return a
    return _call("mul", a, b)


def ADD(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return _call("add", a, b)


def NEG(a: str | None) -> str | None:
    return None if a is None else _call("negate", a)


def SUB(a: str | None, b: str | None) -> str | None:
    if b is None:
        return a
    if a is None:
        return NEG(b)
    return _call("sub", a, b)


def DIV(a: str | None, b: str) -> str | None:
    return None if a is None else _call("div", a, b)


def _dpow(A: str, c: str) -> str | None:
    """d/da a^c = c a^(c-1) as text; None (an exact zero) for c = 0, where the formula would
    evaluate 0 * 0^-1 at a = 0 (a ZeroDivisionError on Python floats; torch also gives 0)."""
    if float(c) == 0.0:
        return None
    cm1 = fmt_arg(float(c) - 1.0)
    p = A if cm1 == "1" else ("1" if cm1 == "0" else _call("pow", A, cm1))
    return MUL(c, p) if p != "1" else c


# forward: (z, [A, B], [dA, dB]) -> tangent expression of z (or None)
_FWD: dict[str, Callable] = {
    "add": lambda z, A, d: ADD(d[0], d[1]),
    "sub": lambda z, A, d: SUB(d[0], d[1]),
    "mul": lambda z, A, d: ADD(MUL(d[0], A[1]), MUL(A[0], d[1])),
    "div": lambda z, A, d: SUB(DIV(d[0], A[1]), DIV(MUL(A[0], d[1]), _call("mul", A[1], A[1]))),
    "pow": lambda z, A, d: MUL(_dpow(A[0], A[1]), d[0]),
    "negate": lambda z, A, d: NEG(d[0]),
    "exp": lambda z, A, d: MUL(z, d[0]),
    "log": lambda z, A, d: DIV(d[0], A[0]),
    "sin": lambda z, A, d: MUL(_call("cos", A[0]), d[0]),
    "cos": lambda z, A, d: NEG(MUL(_call("sin", A[0]), d[0])),
    "tanh": lambda z, A, d: MUL(_call("sub", "1", _call("mul", z, z)), d[0]),
    "sigmoid": lambda z, A, d: MUL(_call("mul", z, _call("sub", "1", z)), d[0]),
}

# reverse: (z, [A, B], G) -> adjoint expression for each argument
_REV: dict[str, Callable] = {
    "add": lambda z, A, G: [G, G],
    "sub": lambda z, A, G: [G, NEG(G)],
    "mul": lambda z, A, G: [MUL(G, A[1]), MUL(G, A[0])],
    "div": lambda z, A, G: [DIV(G, A[1]), NEG(DIV(MUL(G, A[0]), _call("mul", A[1], A[1])))],
    "pow": lambda z, A, G: [MUL(G, _dpow(A[0], A[1])), None],
    "negate": lambda z, A, G: [NEG(G)],
    "exp": lambda z, A, G: [MUL(G, z)],
    "log": lambda z, A, G: [DIV(G, A[0])],
    "sin": lambda z, A, G: [MUL(G, _call("cos", A[0]))],
    "cos": lambda z, A, G: [NEG(MUL(G, _call("sin", A[0])))],
    "tanh": lambda z, A, G: [MUL(G, _call("sub", "1", _call("mul", z, z)))],
    "sigmoid": lambda z, A, G: [MUL(G, _call("mul", z, _call("sub", "1", z)))],
}


@dataclass
class Derived:
    """A program with one derivative (or adjoint) line per primal line."""

    program: Program
    pairs: list[tuple[Line, str | None]]
    names: dict[str, str]  # variable -> its tangent / adjoint variable
    zero_init: list[str]  # adjoints of variables nobody uses (reverse only)

    def __str__(self) -> str:
        return "\n".join(f"{ln} | {d or ''}" for ln, d in self.pairs)


def _namer(prog: Program, prefix: str) -> Callable[[str], str]:
    taken = set(prog.inputs) | {t for ln in prog.lines for t in ln.targets}

    def name(v: str) -> str:
        cand = prefix + v
        while cand in taken:
            cand = "_" + cand
        taken.add(cand)
        return cand
    return name


def forward_program(anf: Program) -> Derived:
    """Stage 3: pair each line with its tangent line (forward mode, one rule per line)."""
    dname = _namer(anf, "d")
    tang = {v: dname(v) for v in anf.inputs}
    pairs: list[tuple[Line, str | None]] = []
    for ln in anf.lines:
        ds = [tang.get(a) if isinstance(a, str) else None for a in ln.args]
        if ln.op == "dup":
            if ds[0] is None:
                pairs.append((ln, None))
                continue
            for t in ln.targets:
                tang[t] = dname(t)
            lhs = "(" + ", ".join(tang[t] for t in ln.targets) + ")"
            pairs.append((ln, f"{lhs} = {_call('dup', ds[0], *([str(len(ln.targets))] if len(ln.targets) > 2 else []))}"))
            continue
        if ln.op not in _FWD:
            raise SourceTransformError(f"forward_program: no derivative rule for {ln.op!r} (line {ln.lineno})")
        z = ln.targets[0]
        expr = _FWD[ln.op](z, [fmt_arg(a) for a in ln.args] + [""], ds + [None])
        if expr is None:
            pairs.append((ln, None))
            continue
        tang[z] = dname(z)
        pairs.append((ln, f"{tang[z]} = {expr}"))
    return Derived(anf, pairs, tang, [])


def reverse_program(dup: Program) -> Derived:
    """Stage 4: pair each line of the dup-inserted program with its adjoint line.

    The adjoint lines run in reverse order after all primal lines; ``d_dv`` for
    each output arrives from outside (the seed of the vector-Jacobian product).
    """
    aname = _namer(dup, "d_d")
    active = set(dup.inputs)
    used: set[str] = {o for o in dup.outputs if isinstance(o, str)}
    for ln in dup.lines:
        if any(isinstance(a, str) and a in active for a in ln.args):
            active.update(ln.targets)
        used.update(a for a in ln.args if isinstance(a, str))
    adj = {v: aname(v) for v in sorted(active, key=lambda v: (v not in dup.inputs, v))}
    pairs: list[tuple[Line, str | None]] = []
    for ln in dup.lines:
        act = [isinstance(a, str) and a in active for a in ln.args]
        if not any(act):
            pairs.append((ln, None))
            continue
        if ln.op == "dup":
            pairs.append((ln, f"{adj[ln.args[0]]} = {_call('add', *[adj[t] for t in ln.targets])}"))
            continue
        if ln.op not in _REV:
            raise SourceTransformError(f"reverse_program: no adjoint rule for {ln.op!r} (line {ln.lineno})")
        z = ln.targets[0]
        exprs = _REV[ln.op](z, [fmt_arg(a) for a in ln.args], adj[z])
        lhs = [adj[a] for a, ok in zip(ln.args, act) if ok]
        rhs = [e or "0.0" for e, ok in zip(exprs, act) if ok]  # None: the adjoint is an exact zero
        if ln.op == "add" and len(lhs) == 2:
            text = f"({lhs[0]}, {lhs[1]}) = dup({adj[z]})"  # the notes' form: add's adjoint copies
        elif len(lhs) == 1:
            text = f"{lhs[0]} = {rhs[0]}"
        else:
            text = f"({', '.join(lhs)}) = ({', '.join(rhs)})"
        pairs.append((ln, text))
    zero = [adj[v] for v in adj if v not in used]
    return Derived(dup, pairs, adj, zero)


def _add(*xs: Any) -> Any:
    return functools.reduce(operator.add, xs)


RUNTIME: dict[str, Any] = {
    "add": _add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": operator.pow, "negate": operator.neg, "exp": np.exp, "log": np.log, "sin": np.sin,
    "cos": np.cos, "tanh": np.tanh, "sigmoid": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),
    "dup": lambda x, n=2: (x,) * n,
}


_CALL = re.compile(r"(?<![\w.])([^\W\d]\w*)\(")  # a bare name followed by "(": a call
_IDENT = re.compile(r"[^\W\d]\w*")


def _build(src: str, fname: str) -> Callable:
    """Compile one generated function, calling every primitive as ``<runtime>.op(...)``.

    Hygiene: the printed programs call ``mul``, ``sub``, ``dup`` ... by bare names, but a user
    variable may carry any of those names (``sub = x - y`` would compile to ``sub = sub(x, y)``).
    Generated code calls nothing but runtime primitives, so routing every call through one name
    that no identifier of the program uses means a generated name never captures a user name.
    """
    runtime = "_rt"
    taken = set(_IDENT.findall(src))
    while runtime in taken:
        runtime = "_" + runtime
    head, body = src.split("\n", 1)  # "def name(args):" stays as it is
    code = head + "\n" + _CALL.sub(rf"{runtime}.\1(", body)
    ns: dict[str, Any] = {runtime: types.SimpleNamespace(**RUNTIME)}
    exec(compile(code, f"<autodiff.source:{fname}>", "exec"), ns)  # generated from our own IR only
    return ns[fname]


@dataclass
class Compiled:
    """Callables built from the generated programs, plus their source text."""

    anf: Program
    dup: Program
    forward: Derived
    reverse: Derived
    primal_source: str
    jvp_source: str
    vjp_source: str

    def __post_init__(self) -> None:
        n = self.anf.name
        self._f = _build(self.primal_source, n)
        self._jvp = _build(self.jvp_source, f"{n}_jvp")
        self._vjp = _build(self.vjp_source, f"{n}_vjp")

    def _outs(self, outs: tuple) -> Any:
        return outs[0] if self.anf.single_output else outs

    def __call__(self, *xs: Any) -> Any:
        return self._outs(self._f(*xs))

    def jvp(self, primals: tuple, tangents: tuple) -> tuple[Any, Any]:
        """``(f(x), J v)``; outputs and tangents are unpacked like ``f``'s own return."""
        outs, touts = self._jvp(*primals, *tangents)
        touts = tuple(np.zeros_like(np.asarray(o, dtype=float)) if isinstance(t, float) and t == 0.0 and not
                      isinstance(o, float) else t for o, t in zip(outs, touts))
        return self._outs(outs), self._outs(touts)

    def vjp(self, primals: tuple, cotangents: tuple) -> tuple[Any, tuple]:
        """``(f(x), u^T J)``: one cotangent per output, one adjoint per input."""
        outs, grads = self._vjp(*primals, *cotangents)
        grads = tuple(g if not (isinstance(g, float) and g == 0.0) else np.zeros_like(np.asarray(x, dtype=float))
                      for x, g in zip(primals, grads))
        return self._outs(outs), grads

    def grad(self, *xs: Any) -> tuple:
        """Gradient of a single scalar output with respect to every input."""
        if len(self.anf.outputs) != 1:
            raise ValueError(f"grad: {self.anf.name} returns {len(self.anf.outputs)} values; use vjp")
        out = self(*xs)
        return self.vjp(xs, (np.ones_like(np.asarray(out, dtype=float)),))[1]


def compile_program(anf: Program, dup: Program) -> Compiled:
    """Stage 5: emit Python source for the primal, JVP and VJP programs and compile it."""
    fwd, rev = forward_program(anf), reverse_program(dup)
    ins = list(anf.inputs)
    outs = [fmt_arg(o) for o in anf.outputs]
    ind = "    "
    primal = [f"def {anf.name}({', '.join(ins)}):"] + [ind + str(ln) for ln in anf.lines]
    primal.append(f"{ind}return ({', '.join(outs)},)")
    tins = [fwd.names[v] for v in ins]
    jvp = [f"def {anf.name}_jvp({', '.join(ins + tins)}):"]
    for ln, d in fwd.pairs:
        jvp.append(ind + str(ln))
        if d:
            jvp.append(ind + d)
    touts = [fwd.names.get(o, "0.0") if isinstance(o, str) else "0.0" for o in anf.outputs]
    jvp.append(f"{ind}return ({', '.join(outs)},), ({', '.join(touts)},)")
    taken = set(ins) | {t for ln in dup.lines for t in ln.targets} | set(rev.names.values())
    seeds = []
    for k, o in enumerate(dup.outputs):
        seed = rev.names.get(o) if isinstance(o, str) else None
        if seed is None:  # an output that depends on no input: its cotangent is unused, named apart
            seed = f"_ct{k}"
            while seed in taken:
                seed = "_" + seed
        taken.add(seed)
        seeds.append(seed)
    vjp = [f"def {anf.name}_vjp({', '.join(ins + seeds)}):"] + [ind + str(ln) for ln in dup.lines]
    vjp += [f"{ind}{z} = 0.0" for z in rev.zero_init]
    vjp += [ind + a for _, a in reversed(rev.pairs) if a]
    vjp.append(f"{ind}return ({', '.join(fmt_arg(o) for o in dup.outputs)},), ({', '.join(rev.names[v] for v in ins)},)")
    return Compiled(anf, dup, fwd, rev, "\n".join(primal) + "\n", "\n".join(jvp) + "\n", "\n".join(vjp) + "\n")
