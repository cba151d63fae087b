"""Quantisation with ``torch.ao.quantization`` (eager mode), fp16/bf16 casting, and the three measurements
that matter: size on disk, CPU latency, accuracy.

Affine quantisation (Jacob et al. 2018, "Quantization and Training of Neural Networks for Efficient
Integer-Arithmetic-Only Inference", eq. 1): a real value r is stored as an 8-bit integer q with
r = S (q - Z), scale S > 0 and zero point Z chosen so that 0.0 is exact. A layer then multiplies int8
matrices, accumulates in int32 and rescales by S_1 S_2 / S_3 (eq. 5).

* **Dynamic post-training quantisation**: weights are quantised once; activation scales are computed on
  the fly per batch. Only Linear/LSTM layers; no data needed.
* **Static post-training quantisation**: observers record activation ranges on a few calibration batches;
  conv/linear + ReLU (+ BatchNorm) are fused first so each fused block is a single int8 kernel.
* **Quantisation-aware training** (Jacob et al. 2018, sec. 3): the forward pass rounds weights and
  activations with "fake quantisation" and the backward pass uses the straight-through estimator, so the
  weights learn to live on the int8 grid.

Our models: eager mode needs the model to be a stack of modules (no functional ``F.relu``) so that
:func:`fusion_groups` can find Conv/BN/ReLU and Linear/ReLU groups among ``nn.Sequential`` children.
The ``torch.ao.quantization`` eager API is deprecated in torch 2.14 in favour of ``torchao``; it still
works, and we silence its deprecation warnings here (``torchao`` is not a dependency).
"""

from __future__ import annotations

import contextlib
import copy
import io
import statistics
import time
import warnings
from typing import Callable, Iterable

import torch
from deepcourse.core.utils import num_threads
from torch import Tensor, nn

__all__ = ["model_size_bytes", "measure_latency", "quantization_engine", "quantize_dynamic", "fusion_groups",
           "quantize_static", "prepare_qat", "convert_qat", "cast_model", "QuantMLP", "QuantCNN",
           "accuracy", "num_threads"]


@contextlib.contextmanager
def _quiet():
    """torch 2.14 warns that torch.ao.quantization is deprecated, and about ``reduce_range``, on every
    call; the API still works."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*reduce_range.*")
        warnings.filterwarnings("ignore", message=".*quantiz.*", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*TypedStorage.*")
        yield




def quantization_engine(preferred: tuple[str, ...] = ("x86", "fbgemm", "qnnpack")) -> str:
    """Select and return the first supported int8 backend (x86 on Intel/AMD CPUs)."""
    supported = torch.backends.quantized.supported_engines
    for e in preferred:
        if e in supported:
            torch.backends.quantized.engine = e
            return e
    raise RuntimeError(f"no quantisation engine among {preferred}; this torch supports {supported}")


def model_size_bytes(model: nn.Module) -> int:
    """Bytes of ``torch.save(model.state_dict())``: what the model costs on disk (packed int8 weights,
    scales and zero points included)."""
    buf = io.BytesIO()
    with _quiet():
        torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes


@torch.no_grad()
def measure_latency(model: nn.Module | Callable[[Tensor], Tensor], x: Tensor, *, repeats: int = 20, warmup: int = 3,
                    threads: int = 1) -> float:
    """Median wall time in seconds of ``model(x)`` over ``repeats`` calls after ``warmup`` calls, with
    ``threads`` intra-op threads (one by default: on a shared machine several threads measure the other
    jobs as much as the model). The median resists the outliers a busy machine produces."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0 (got {repeats}, {warmup})")
    if isinstance(model, nn.Module):
        model.eval()
    times = []
    with num_threads(threads), _quiet():
        for _ in range(warmup):
            model(x)
        for _ in range(repeats):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


@torch.no_grad()
def accuracy(model: nn.Module, x: Tensor, y: Tensor, batch: int = 1024, dtype: torch.dtype | None = None) -> float:
    """Top-1 accuracy; ``dtype`` casts the inputs (for fp16/bf16 models)."""
    model.eval()
    correct = 0
    with _quiet():
        for i in range(0, len(x), batch):
            xb = x[i:i + batch]
            out = model(xb.to(dtype) if dtype is not None else xb)
            correct += int((out.float().argmax(1) == y[i:i + batch]).sum())
    return correct / len(x)


def quantize_dynamic(model: nn.Module, modules: Iterable[type] = (nn.Linear, nn.LSTM, nn.GRU),
                     dtype: torch.dtype = torch.qint8) -> nn.Module:
    """Dynamic post-training quantisation of a copy of ``model``: int8 weights for the given layer types,
    activations quantised per batch at run time (no calibration)."""
    quantization_engine()
    with _quiet():
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), set(modules), dtype=dtype)


def fusion_groups(model: nn.Module) -> list[list[str]]:
    """Module-name groups that eager mode can fuse: Conv2d[+BatchNorm2d][+ReLU] and Linear[+BatchNorm1d]
    [+ReLU] among consecutive children of every ``nn.Sequential``."""
    groups = []
    for prefix, mod in model.named_modules():
        if not isinstance(mod, nn.Sequential):
            continue
        names = list(mod._modules)
        i = 0
        while i < len(names):
            m = mod._modules[names[i]]
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                group = [names[i]]
                j = i + 1
                norm = nn.BatchNorm2d if isinstance(m, nn.Conv2d) else nn.BatchNorm1d
                if j < len(names) and isinstance(mod._modules[names[j]], norm):
                    group.append(names[j])
                    j += 1
                if j < len(names) and isinstance(mod._modules[names[j]], nn.ReLU):
                    group.append(names[j])
                    j += 1
                if len(group) > 1:
                    groups.append([f"{prefix}.{n}" if prefix else n for n in group])
                i = j
            else:
                i += 1
    return groups


def _wrap(model: nn.Module) -> nn.Module:
    if any(isinstance(m, torch.ao.quantization.QuantStub) for m in model.modules()):
        return model
    return torch.ao.quantization.QuantWrapper(model)  # quant -> model -> dequant


@torch.no_grad()
def quantize_static(model: nn.Module, calibration: Iterable[Tensor], *, per_channel: bool = True) -> nn.Module:
    """Static int8 post-training quantisation of a copy of ``model``: fuse, insert observers, run the
    ``calibration`` batches to record activation ranges (histogram observer), convert. The model must be
    built from modules (see :func:`fusion_groups`); a QuantStub/DeQuantStub pair is added if absent."""
    engine = quantization_engine()
    q = torch.ao.quantization
    with _quiet():
        m = copy.deepcopy(model).eval()
        groups = fusion_groups(m)
        if groups:
            m = q.fuse_modules(m, groups)
        m = _wrap(m)
        m.qconfig = q.get_default_qconfig(engine) if per_channel else q.default_qconfig
        q.prepare(m, inplace=True)
        n = 0
        for xb in calibration:
            m(xb)
            n += 1
        if n == 0:
            raise ValueError("calibration must yield at least one batch")
        q.convert(m, inplace=True)
    return m


def prepare_qat(model: nn.Module) -> nn.Module:
    """A copy of ``model`` ready for quantisation-aware training: fused (QAT fusion keeps BatchNorm
    trainable), wrapped, with fake-quantisation of weights and activations. Train it as usual, then call
    :func:`convert_qat`."""
    engine = quantization_engine()
    q = torch.ao.quantization
    with _quiet():
        m = copy.deepcopy(model).train()
        groups = fusion_groups(m)
        if groups:
            m = q.fuse_modules_qat(m, groups)
        m = _wrap(m)
        m.qconfig = q.get_default_qat_qconfig(engine)
        q.prepare_qat(m, inplace=True)
    return m


def convert_qat(model: nn.Module) -> nn.Module:
    """The int8 model from a QAT-trained one (a copy)."""
    with _quiet():
        return torch.ao.quantization.convert(copy.deepcopy(model).eval())


def cast_model(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """A copy with every floating parameter and buffer in ``dtype`` (float16 or bfloat16); inputs must be
    cast too. Halves the size; on CPUs without native half arithmetic it is usually *slower*."""
    if dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(f"dtype must be float16, bfloat16 or float32 (got {dtype})")
    return copy.deepcopy(model).eval().to(dtype)


class QuantMLP(nn.Sequential):
    """An MLP built from modules only (Linear, ReLU, Dropout), so eager-mode quantisation can fuse it."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], out_features: int, dropout: float = 0.0):
        if in_features < 1 or out_features < 1 or any(h < 1 for h in hidden):
            raise ValueError(f"QuantMLP: sizes must be positive (got {in_features}, {hidden}, {out_features})")
        layers: list[nn.Module] = [nn.Flatten()]
        d = in_features
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            d = h
        layers.append(nn.Linear(d, out_features))
        super().__init__(*layers)


class QuantCNN(nn.Sequential):
    """Conv-BN-ReLU blocks with 2x2 max-pooling after each, then a Linear classifier; modules only.

    Args: in_channels, image_size (square), widths (channels per block), num_classes, hidden (0: none).
    """

    def __init__(self, in_channels: int = 1, image_size: int = 28, widths: tuple[int, ...] = (32, 64),
                 num_classes: int = 10, hidden: int = 128):
        if image_size % (2 ** len(widths)):
            raise ValueError(f"QuantCNN: image_size {image_size} must be divisible by 2**len(widths)={2 ** len(widths)}")
        layers: list[nn.Module] = []
        c, s = in_channels, image_size
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
            c, s = w, s // 2
        layers.append(nn.Flatten())
        if hidden:
            layers += [nn.Linear(c * s * s, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)]
        else:
            layers.append(nn.Linear(c * s * s, num_classes))
        super().__init__(*layers)
