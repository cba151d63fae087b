"""Run the ``deepcourse`` command in a child process with the test toys registered:
``python _cli_script.py run test-toy-fit --out DIR ...`` (for the signal and lock tests)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, so that `tests` imports

from tests.core import _toy  # noqa: E402,F401  registers the toys

from deepcourse.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
