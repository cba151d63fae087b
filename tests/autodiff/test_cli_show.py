"""``deepcourse autodiff show``: bad targets print one line and exit 2 (issue 12, section 6)."""
from __future__ import annotations

import pytest

from deepcourse.cli import main


def show(capsys, target):
    code = main(["autodiff", "show", str(target)])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_prints_the_stages(capsys):
    code, out, err = show(capsys, "deepcourse.autodiff.examples:notes_example")
    assert code == 0 and "4. reverse mode" in out and not err


@pytest.mark.parametrize("body, expected", [
    ("def f(x):\n    return x +\n", "syntax error in"),
    ("raise RuntimeError('boom\\nsecond line')\ndef f(x):\n    return x\n", "raised RuntimeError: boom second line"),
    ("import sys\nsys.exit(3)\n", "raised SystemExit: 3"),
    ("import no_such_module_for_the_test\n", "ModuleNotFoundError"),
    ("def f(x):\n    h = x\n    for i in range(1000000000):\n        h = h * x\n    return h\n",
     "loop too long to unroll (1000000000 iterations"),
    ("def f(x):\n    if x:\n        return x\n    return x\n", "unsupported construct 'If'"),
    ("def g(x):\n    return x\n", "has no function 'f'"),
])
def test_bad_file_targets_print_one_line_and_exit_2(capsys, tmp_path, body, expected):
    path = tmp_path / "prog.py"
    path.write_text(body)
    code, out, err = show(capsys, f"{path}:f")
    assert code == 2 and not out
    assert err.count("\n") == 1 and err.startswith("deepcourse: error:") and expected in err, err


@pytest.mark.parametrize("target, expected", [
    ("no_such_module_xyz:f", "no module named 'no_such_module_xyz'"),
    ("deepcourse.no_such_module:f", "no module named 'deepcourse.no_such_module'"),
    ("missing_file.py:f", "does not exist"),
    ("deepcourse.autodiff.examples", "expected 'path/to/file.py:func'"),
])
def test_bad_module_targets_print_one_line_and_exit_2(capsys, target, expected):
    code, out, err = show(capsys, target)
    assert code == 2 and not out and err.count("\n") == 1 and expected in err, err
