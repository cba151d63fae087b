"""Throughput helpers: positive numbers, and the caller's model left untouched."""

from __future__ import annotations

import pytest
import torch

from deepcourse.cnn import resnet18
from deepcourse.cnn.throughput import inference_throughput, matmul_peak_flops, train_throughput


def test_train_throughput_leaves_weights_alone():
    model = resnet18(width=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ips = train_throughput(model, (3, 8, 8), 10, batch_size=4, steps=1, warmup=0)
    assert ips > 0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_inference_throughput_and_mode_restored():
    model = resnet18(width=4).train()
    assert inference_throughput(model, (3, 8, 8), batch_size=4, steps=1, warmup=0, channels_last=True) > 0
    assert model.training


def test_matmul_peak():
    assert matmul_peak_flops(128, repeats=2) > 1e6


def test_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        train_throughput(resnet18(width=4), (3, 8, 8), 10, steps=0)
