"""CUDA code paths (AMP, device moves). CI has no GPU: these skip there."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepcourse.core import Run, TensorLoader, fit, resolve_device

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_cuda_request_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="CUDA is not available; use --device cpu or auto"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("tpu")


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("amp", ["fp16", "bf16"])
def test_fit_with_amp_on_cuda(tmp_path, amp):
    x = torch.randn(256, 8)
    y = x.sum(1, keepdim=True)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 1)).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    run = Run(tmp_path, device="cuda", progress=False)
    state = fit(lambda b: {"loss": nn.functional.mse_loss(model(b[0]).float(), b[1])}, TensorLoader(x, y, batch_size=32),
                epochs=20, model=model, optimizer=opt, run=run, amp=amp)
    assert state.history[-1]["train_loss"] < 0.1
