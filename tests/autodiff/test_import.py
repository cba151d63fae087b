"""deepcourse.autodiff is NumPy-only: importing it (and every module but experiments) pulls in no torch."""
from __future__ import annotations

import subprocess
import sys


def test_import_does_not_pull_torch():
    code = ("import deepcourse.autodiff, sys; "
            "import deepcourse.autodiff.source, deepcourse.autodiff.nn, deepcourse.autodiff.optim, "
            "deepcourse.autodiff.hopfield, deepcourse.autodiff.jacobian, deepcourse.autodiff.examples; "
            "assert 'torch' not in sys.modules, 'torch was imported'; "
            "assert 'deepcourse.autodiff.experiments' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
