"""One torch thread for the point-cloud tests: the tiny models here gain nothing from two, and on a loaded
machine two spinning threads can slow a test a hundredfold."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
