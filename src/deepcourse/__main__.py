"""``python -m deepcourse`` (used by ``torchrun -m deepcourse run NAME``)."""

import sys

from deepcourse.cli import main

sys.exit(main())
