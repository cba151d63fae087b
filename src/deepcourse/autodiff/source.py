"""Source-to-source AD: the program transformation of the module 10 notes.

A straight-line Python function goes through four printable stages:

1. ``to_anf``: prefix calls, no nested subexpressions (A-normal form; Flanagan
   et al. 1993, "The essence of compiling with continuations"), one assignment
   per variable (loops over constant ranges are unrolled, reassignments renamed);
2. ``insert_dups``: every variable is used exactly once, copies made by ``dup``
   (the linearity that turns uses into adjoint definitions; Elliott 2018, "The
   simple essence of automatic differentiation");
3. ``forward_program``: one derivative line per line (forward/tangent mode);
4. ``reverse_program``: one adjoint line per line, run in reverse order after
   the primal lines (reverse/adjoint mode; Griewank & Walther 2008, ch. 3-4).

``compile_program`` turns stages 3 and 4 into Python callables, and ``show``
prints everything side by side.  The worked example follows Tom Ellis's blog
post cited in the notes.  Anything outside the supported subset raises
``SourceTransformError`` naming the construct and its source line.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import textwrap
from pathlib import Path
from typing import Callable

import numpy as np

from .source_gen import Compiled, compile_program, forward_program, reverse_program
from .source_ir import PRIMITIVES, Arg, Line, Program, SourceTransformError

__all__ = ["SourceTransformError", "TargetError", "Line", "Program", "to_anf", "insert_dups", "forward_program",
           "reverse_program", "compile_program", "transform", "show", "Compiled", "PRIMITIVES", "MAX_UNROLLED"]

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}

# Loops are unrolled, so `for i in range(10**9)` would build a billion-line program (memory grows
# without bound). Cap the unrolled size: lines of the ANF program, and loop iterations in total.
MAX_UNROLLED = 10_000


class TargetError(ValueError):
    """A ``FILE:FUNC`` / ``module:FUNC`` target that cannot be loaded (missing, syntax error, import error)."""


# ---- stage 1: A-normal form -----------------------------------------------------------
def _load(fn_or_src: Callable | str, name: str | None, namespace: dict | None):
    if callable(fn_or_src):
        fn = inspect.unwrap(fn_or_src)
        try:
            src = inspect.getsource(fn)
        except (OSError, TypeError) as e:
            raise SourceTransformError(f"cannot read the source of {getattr(fn, '__name__', fn)!r}: {e}") from e
        src = textwrap.dedent(src)
        offset = fn.__code__.co_firstlineno - 1
        ns = dict(fn.__globals__)
        if fn.__closure__:
            ns.update(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__)))
        name = name or fn.__name__
    else:
        src, offset, ns = textwrap.dedent(fn_or_src), 0, dict(namespace or {})
    try:
        tree = ast.parse(src)
    except SyntaxError as e:
        raise SourceTransformError(f"syntax error at line {(e.lineno or 0) + offset}: {e.msg}") from None
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if name:
        defs = [d for d in defs if d.name == name]
    if not defs:
        raise SourceTransformError(f"no function definition {('named ' + repr(name)) if name else ''} in the source")
    return defs[0], src.splitlines(), offset, ns


class _ANF:
    def __init__(self, reserved: set[str]) -> None:
        self.reserved = set(reserved)  # every name in the source: generated names avoid them
        self.defined: set[str] = set()  # SSA names already assigned (inputs included)
        self.lines: list[Line] = []
        self.counter = 0
        self.suffix: dict[str, int] = {}  # hint -> last k used for hint_k
        self.depth = 0
        self.iterations = 0  # loop iterations unrolled so far (all loops)
        self.loops: list[tuple[ast.For, dict]] = []  # loops being unrolled, outermost first

    def fresh(self, hint: str | None = None) -> str:
        """``hint`` itself on its first definition, ``hint_k`` on redefinition, ``i<k>`` for temporaries."""
        if hint is not None and hint not in self.defined:
            self.defined.add(hint)
            return hint
        while True:  # counters persist, so an unrolled loop of n redefinitions costs O(n), not O(n^2)
            if hint is None:
                self.counter += 1
                cand = f"i{self.counter}"
            else:
                self.suffix[hint] = self.suffix.get(hint, 0) + 1
                cand = f"{hint}_{self.suffix[hint]}"
            if cand not in self.defined and cand not in self.reserved:
                self.defined.add(cand)
                return cand

    def error(self, node: ast.AST, what: str, ctx: dict, supported: bool = True) -> SourceTransformError:
        line = getattr(node, "lineno", 0)
        text = ctx["src"][line - 1].strip() if 0 < line <= len(ctx["src"]) else ""
        msg = f"{what} at line {line + ctx['offset']} of {ctx['fname']}: {text!r}"
        if supported:
            msg += (f"; supported: + - * / ** (constant exponent), unary -, {', '.join(PRIMITIVES)}, "
                    "calls to other straight-line functions, for-loops over range(constants)")
        return SourceTransformError(msg)

    def too_big(self, what: str) -> SourceTransformError:
        """The unrolled-size error, naming the outermost loop being unrolled and its line."""
        loop, ctx = self.loops[0]
        return self.error(loop, f"loop too long to unroll ({what}; the cap is {MAX_UNROLLED}, "
                                "source.MAX_UNROLLED, since every loop is unrolled)", ctx, supported=False)

    def emit(self, op: str, args: list[Arg], target: str | None, node: ast.AST, ctx: dict) -> Arg:
        if all(not isinstance(a, str) for a in args):  # constant folding
            return float(_FOLD[op](*[float(a) for a in args]))
        if len(self.lines) >= MAX_UNROLLED:
            if self.loops:
                raise self.too_big(f"the unrolled program passes {MAX_UNROLLED} lines")
            raise self.error(node, f"program too long (over {MAX_UNROLLED} lines in A-normal form, "
                                   "source.MAX_UNROLLED)", ctx, supported=False)
        name = self.fresh(target)
        self.lines.append(Line((name,), op, tuple(args), getattr(node, "lineno", 0) + ctx["offset"]))
        return name

    def expr(self, node: ast.AST, env: dict, ctx: dict, target: str | None = None) -> Arg:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            val = ctx["ns"].get(node.id)
            if isinstance(val, (int, float)) and not isinstance(val, bool):
                return float(val)
            raise self.error(node, f"unknown name {node.id!r}", ctx)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            op = _BINOPS[type(node.op)]
            left = self.expr(node.left, env, ctx)
            right = self.expr(node.right, env, ctx)
            if op == "pow" and isinstance(right, str):
                raise self.error(node, "unsupported construct '**' with a non-constant exponent", ctx)
            return self.emit(op, [left, right], target, node, ctx)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            a = self.expr(node.operand, env, ctx)
            return a if isinstance(node.op, ast.UAdd) else self.emit("negate", [a], target, node, ctx)
        if isinstance(node, ast.Call) and not node.keywords:
            fname = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if fname in PRIMITIVES and len(node.args) == 1:
                a = self.expr(node.args[0], env, ctx)
                return self.emit(fname, [a], target, node, ctx)
            callee = ctx["ns"].get(fname) if isinstance(node.func, ast.Name) else None
            if inspect.isfunction(callee):
                args = [self.expr(a, env, ctx) for a in node.args]
                return self.inline(callee, args, node, ctx)
            raise self.error(node, f"unsupported construct: call to {fname or ast.unparse(node.func)!r}", ctx)
        raise self.error(node, f"unsupported construct '{type(node).__name__}'", ctx)

    def inline(self, fn: Callable, args: list[Arg], node: ast.AST, ctx: dict) -> Arg:
        if self.depth > 20:
            raise self.error(node, f"unsupported construct: recursion through {fn.__name__!r}", ctx)
        fdef, src, offset, ns = _load(fn, None, None)
        params = [a.arg for a in fdef.args.args]
        if len(params) != len(args) or fdef.args.vararg or fdef.args.kwarg:
            raise self.error(node, f"unsupported construct: call to {fn.__name__!r} with {len(args)} args", ctx)
        self.depth += 1
        sub = {"src": src, "offset": offset, "ns": ns, "fname": fn.__name__}
        first = len(self.lines)
        outs = self.body(fdef.body, dict(zip(params, args)), sub)
        self.depth -= 1
        for ln in self.lines[first:]:  # show inlined lines at the call site
            ln.lineno = getattr(node, "lineno", 0) + ctx["offset"]
        if outs is None or len(outs) != 1:
            raise self.error(node, f"unsupported construct: {fn.__name__!r} must return exactly one value", ctx)
        return outs[0]

    def const_int(self, node: ast.AST, env: dict, ctx: dict) -> int:
        v = self.expr(node, env, ctx)
        if isinstance(v, str) or not float(v).is_integer():
            raise self.error(node, "unsupported construct: range() bound that is not a constant integer", ctx)
        return int(v)

    def body(self, stmts: list[ast.stmt], env: dict, ctx: dict) -> list[Arg] | None:
        for k, st in enumerate(stmts):
            if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant) and isinstance(st.value.value, str):
                continue  # docstring
            if isinstance(st, ast.Pass):
                continue
            if isinstance(st, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                tgt = st.targets[0] if isinstance(st, ast.Assign) else st.target
                if (isinstance(st, ast.Assign) and len(st.targets) != 1) or not isinstance(tgt, ast.Name):
                    raise self.error(st, "unsupported construct: assignment to something other than one name", ctx)
                value = st.value
                if isinstance(st, ast.AugAssign):
                    value = ast.copy_location(ast.BinOp(ast.Name(tgt.id, ast.Load()), st.op, st.value), st)
                if value is None:
                    raise self.error(st, "unsupported construct: annotation without a value", ctx)
                env[tgt.id] = self.expr(value, env, ctx, target=tgt.id)
                continue
            if isinstance(st, ast.For):
                it = st.iter
                ok = (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
                      and 1 <= len(it.args) <= 3 and not it.keywords and isinstance(st.target, ast.Name)
                      and not st.orelse)
                if not ok:
                    raise self.error(st, "unsupported construct: for-loop other than 'for i in range(constants)'", ctx)
                bounds = [self.const_int(a, env, ctx) for a in it.args]
                if bounds[-1:] == [0] and len(bounds) == 3:
                    raise self.error(st, "unsupported construct: range() with step 0", ctx)
                self.loops.append((st, ctx))
                n = len(range(*bounds))
                if self.iterations + n > MAX_UNROLLED:  # checked before unrolling anything
                    raise self.too_big(f"{n} iterations" if not self.iterations else
                                       f"with the loops inside it, more than {MAX_UNROLLED} iterations")
                self.iterations += n
                for i in range(*bounds):
                    env[st.target.id] = float(i)
                    if self.body(st.body, env, ctx) is not None:
                        raise self.error(st, "unsupported construct: return inside a loop", ctx)
                self.loops.pop()
                continue
            if isinstance(st, ast.Return):
                if k != len(stmts) - 1:
                    raise self.error(stmts[k + 1], "unsupported construct: code after return", ctx)
                if st.value is None:
                    raise self.error(st, "unsupported construct: return without a value", ctx)
                elts = st.value.elts if isinstance(st.value, ast.Tuple) else [st.value]
                ctx["tuple"] = isinstance(st.value, ast.Tuple)
                hint = [e.id if isinstance(e, ast.Name) else None for e in elts]
                return [self.expr(e, env, ctx, target=None if h else "out") for e, h in zip(elts, hint)]
            raise self.error(st, f"unsupported construct '{type(st).__name__}'", ctx)
        return None


_FOLD = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
         "div": lambda a, b: a / b, "pow": lambda a, b: a**b, "negate": lambda a: -a,
         "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
         "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a))}


def to_anf(fn: Callable | str, name: str | None = None, namespace: dict | None = None) -> Program:
    """Stage 1: rewrite ``fn`` (a function, or source text plus ``namespace``) into A-normal form."""
    fdef, src, offset, ns = _load(fn, name, namespace)
    if fdef.args.vararg or fdef.args.kwarg or fdef.args.kwonlyargs or fdef.args.defaults:
        raise SourceTransformError(f"{fdef.name}: only plain positional parameters are supported")
    inputs = [a.arg for a in fdef.args.args]
    taken = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)} | set(inputs)
    conv = _ANF(taken)
    conv.defined.update(inputs)
    ctx = {"src": src, "offset": offset, "ns": ns, "fname": fdef.name}
    outs = conv.body(fdef.body, {a: a for a in inputs}, ctx)
    if outs is None:
        raise SourceTransformError(f"{fdef.name}: the function must end with a return statement")
    srcmap = {i + 1 + offset: s for i, s in enumerate(src)}
    return Program(fdef.name, inputs, conv.lines, outs, srcmap, single_output=not ctx.get("tuple", False))


# ---- stage 2: dup insertion ---------------------------------------------------------------
def insert_dups(prog: Program) -> Program:
    """Stage 2: make every variable used exactly once by inserting ``(x1, x2) = dup(x)``."""
    uses: dict[str, int] = {}
    for ln in prog.lines:
        for a in ln.args:
            if isinstance(a, str):
                uses[a] = uses.get(a, 0) + 1
    for o in prog.outputs:
        if isinstance(o, str):
            uses[o] = uses.get(o, 0) + 1
    taken = set(prog.inputs) | {t for ln in prog.lines for t in ln.targets}
    copies: dict[str, list[str]] = {}
    for v, k in uses.items():
        if k < 2:
            continue
        names = []
        for j in range(1, k + 1):
            cand = f"{v}{j}" if not v[-1].isdigit() else f"{v}_{j}"
            while cand in taken:
                cand += "_"
            taken.add(cand)
            names.append(cand)
        copies[v] = names
    nxt = {v: iter(names) for v, names in copies.items()}

    def use(a: Arg) -> Arg:
        return next(nxt[a]) if isinstance(a, str) and a in nxt else a
    lines = [Line(tuple(copies[v]), "dup", (v,), 0) for v in prog.inputs if v in copies]
    for ln in prog.lines:
        lines.append(Line(ln.targets, ln.op, tuple(use(a) for a in ln.args), ln.lineno))
        for t in ln.targets:
            if t in copies:
                lines.append(Line(tuple(copies[t]), "dup", (t,), ln.lineno))
    outs = [use(o) for o in prog.outputs]
    return Program(prog.name, list(prog.inputs), lines, outs, prog.source_lines, prog.single_output)


# ---- the whole pipeline and the CLI view ---------------------------------------------------
def transform(fn: Callable | str, name: str | None = None, namespace: dict | None = None) -> Compiled:
    """All stages at once: returns the compiled primal, JVP and VJP programs."""
    anf = to_anf(fn, name, namespace)
    return compile_program(anf, insert_dups(anf))


def _resolve(target: str) -> Callable:
    if ":" not in target:
        raise TargetError(f"target {target!r}: expected 'path/to/file.py:func' or 'package.module:func'")
    where, func = target.rsplit(":", 1)
    try:
        if where.endswith(".py") or "/" in where:
            path = Path(where)
            if not path.is_file():
                raise TargetError(f"target {target!r}: file {where!r} does not exist")
            spec = importlib.util.spec_from_file_location(f"_ad_show_{path.stem}", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
        else:
            mod = importlib.import_module(where)
    except TargetError:
        raise
    except ModuleNotFoundError as e:
        if e.name and (where == e.name or where.startswith(e.name + ".")):
            raise TargetError(f"target {target!r}: no module named {e.name!r}") from None
        raise TargetError(f"target {target!r}: importing {where!r} raised ModuleNotFoundError: {e}") from None
    except SyntaxError as e:
        raise TargetError(f"target {target!r}: syntax error in {e.filename} line {e.lineno}: {e.msg}") from None
    except (Exception, SystemExit) as e:  # whatever the module raises at import, reported in one line
        msg = " ".join(str(e).split())
        raise TargetError(f"target {target!r}: importing {where!r} raised {type(e).__name__}: {msg}") from None
    fn = getattr(mod, func, None)
    if not callable(fn):
        raise TargetError(f"target {target!r}: {where!r} has no function {func!r}")
    return fn


def side_by_side(left: list[str], right: list[str], gap: str = " | ", max_width: int = 60) -> str:
    # padding stops at max_width: one long line (a dup with many copies) must not pad every other line
    width = min(max([len(s) for s in left] + [0]), max_width)
    n = max(len(left), len(right))
    left, right = left + [""] * (n - len(left)), right + [""] * (n - len(right))
    return "\n".join(f"{a:<{width}}{gap}{b}".rstrip() for a, b in zip(left, right))


def stages(fn: Callable | str, name: str | None = None, namespace: dict | None = None) -> dict[str, str]:
    """The four stages as text: keys "anf", "dup", "forward", "reverse" (two columns each)."""
    anf = to_anf(fn, name, namespace)
    dup = insert_dups(anf)
    fwd = forward_program(anf)
    rev = reverse_program(dup)
    src_left, anf_right = [], []
    for ln in sorted({ln.lineno for ln in anf.lines}):
        group = [str(x) for x in anf.lines if x.lineno == ln]
        src_left += [anf.source_lines.get(ln, "").strip()] + [""] * (len(group) - 1)
        anf_right += group
    return {
        "anf": side_by_side(src_left, anf_right),
        "dup": side_by_side([str(x) for x in anf.lines], [str(x) for x in dup.lines]),
        "forward": side_by_side([str(x) for x in anf.lines], [d or "" for _, d in fwd.pairs]),
        "reverse": side_by_side([str(x) for x in dup.lines], [a or "" for _, a in rev.pairs]),
    }


def show(target: str | Callable) -> str:
    """Text for ``deepcourse autodiff show FILE:FUNC``: the four stages, two columns each."""
    fn = _resolve(target) if isinstance(target, str) else target
    st = stages(fn)
    titles = {"anf": "1. source | A-normal form (prefix calls, no nested subexpressions)",
              "dup": "2. A-normal form | every variable used once (dup inserted)",
              "forward": "3. forward mode: line | derivative line (one rule per line)",
              "reverse": "4. reverse mode: line | adjoint line (adjoints run bottom-up, after the primal)"}
    return "\n\n".join(f"== {titles[k]} ==\n{v}" for k, v in st.items()) + "\n"
