"""Markdown tables for ``Run.table`` (and anything else that prints rows of results)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["markdown_table", "jsonable"]


def _cell(v: Any, floatfmt: str) -> str:
    if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:  # 0-d tensor or NumPy scalar
        v = v.item()
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, float):
        return format(v, floatfmt) if math.isfinite(v) else str(v)
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: list[dict], *, floatfmt: str = ".4g") -> str:
    """``rows`` as a GitHub Markdown table. Columns: the first row's keys, then any new keys of later rows
    in order of appearance; a row that lacks a column gets an empty cell. Floats use ``floatfmt``."""
    if not isinstance(rows, (list, tuple)) or not rows:
        raise ValueError("a table needs a non-empty list of rows (dicts)")
    bad = [i for i, r in enumerate(rows) if not isinstance(r, dict)]
    if bad:
        raise TypeError(f"table rows must be dicts; row {bad[0]} is {type(rows[bad[0]]).__name__}")
    cols: list[str] = []
    for r in rows:
        cols += [str(k) for k in r if str(k) not in cols]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        by_name = {str(k): v for k, v in r.items()}
        lines.append("| " + " | ".join(_cell(by_name.get(c), floatfmt) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def jsonable(v: Any) -> Any:
    """Plain JSON values: tensors and arrays to lists, NumPy scalars to numbers, non-finite floats to the
    strings "nan", "inf", "-inf" (strict JSON has no NaN token)."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if hasattr(v, "detach"):
        v = v.detach().cpu().tolist()
        return jsonable(v)
    if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
        return jsonable(v.tolist())
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)
