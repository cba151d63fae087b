"""Intermediate representation shared by the source-to-source stages: lines and programs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

Arg = Union[str, float]
PRIMITIVES = ("exp", "log", "sin", "cos", "tanh", "sigmoid")


class SourceTransformError(ValueError):
    """The function uses something the transformation does not support."""


def fmt_arg(a: Arg) -> str:
    if isinstance(a, str):
        return a
    a = float(a)
    return str(int(a)) if a.is_integer() and abs(a) < 1e15 else repr(a)


@dataclass
class Line:
    """``targets = op(args)``; ``lineno`` is the source line it came from."""

    targets: tuple[str, ...]
    op: str
    args: tuple[Arg, ...]
    lineno: int = 0

    def __str__(self) -> str:
        lhs = self.targets[0] if len(self.targets) == 1 else "(" + ", ".join(self.targets) + ")"
        args = [fmt_arg(a) for a in self.args]
        if self.op == "dup" and len(self.targets) > 2:
            args.append(str(len(self.targets)))
        return f"{lhs} = {self.op}({', '.join(args)})"


@dataclass
class Program:
    name: str
    inputs: list[str]
    lines: list[Line]
    outputs: list[Arg]
    source_lines: dict[int, str] = field(default_factory=dict)
    single_output: bool = True

    def __str__(self) -> str:
        outs = ", ".join(fmt_arg(o) for o in self.outputs)
        body = "\n".join(f"    {ln}" for ln in self.lines)
        return f"def {self.name}({', '.join(self.inputs)}):\n{body}\n    return {outs}"
