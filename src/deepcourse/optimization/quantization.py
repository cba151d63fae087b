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

Eager mode needs the model to be a stack of modules (no functional ``F.relu``) so that :func:`fusion_groups`
can find Conv/BN/ReLU and Linear/ReLU groups among ``nn.Sequential`` children: the project's shared
``foundations.MLP`` (its ``net``) and ``cnn.ConvNet`` (itself a flat ``nn.Sequential``) both are.
The ``torch.ao.quantization`` eager API is deprecated in torch 2.14 in favour of ``torchao``; it still
works, and we silence its deprecation warnings here (``torchao`` is not a dependency).
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import statistics
import time
import warnings
from typing import Callable, Iterable, Mapping

import torch
from torch import Tensor, nn

from deepcourse.core import predict
from deepcourse.core.utils import num_threads
from deepcourse.metrics import accuracy

__all__ = ["model_size_bytes", "measure_latency", "quantization_engine", "quantize_dynamic", "fusion_groups",
           "quantize_static", "prepare_qat", "convert_qat", "cast_model", "quiet_quantization", "CASTS",
           "int8_variants", "compare_variants", "variant_figure"]


@contextlib.contextmanager
def quiet_quantization():
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
    with quiet_quantization():
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
    with num_threads(threads), quiet_quantization():
        for _ in range(warmup):
            model(x)
        for _ in range(repeats):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def quantize_dynamic(model: nn.Module, modules: Iterable[type] = (nn.Linear, nn.LSTM, nn.GRU),
                     dtype: torch.dtype = torch.qint8) -> nn.Module:
    """Dynamic post-training quantisation of a copy of ``model``: int8 weights for the given layer types,
    activations quantised per batch at run time (no calibration)."""
    quantization_engine()
    with quiet_quantization():
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
    with quiet_quantization():
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
    with quiet_quantization():
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
    with quiet_quantization():
        return torch.ao.quantization.convert(copy.deepcopy(model).eval())


def cast_model(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """A copy with every floating parameter and buffer in ``dtype`` (float16 or bfloat16); inputs must be
    cast too. Halves the size; on CPUs without native half arithmetic it is usually *slower*."""
    if dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(f"dtype must be float16, bfloat16 or float32 (got {dtype})")
    return copy.deepcopy(model).eval().to(dtype)


# ------------------------------------------------------------------------------ the comparison
CASTS = {"fp16": torch.float16, "bf16": torch.bfloat16}


def int8_variants(model: nn.Module, calibration: Iterable[Tensor], qat_train: Callable[[nn.Module], object], *,
                  casts: Iterable[str] = ("fp16", "bf16")) -> dict[str, tuple[nn.Module, torch.dtype | None]]:
    """A trained fp32 ``model`` and its compressed copies, ``{name: (model, input dtype or None)}``: "fp32",
    "dynamic" and "static" int8, "qat" (``qat_train(m)`` fine-tunes the fake-quantised copy in place, then
    it is converted) and each of ``casts`` ("fp16", "bf16")."""
    variants: dict[str, tuple[nn.Module, torch.dtype | None]] = {
        "fp32": (model, None), "dynamic": (quantize_dynamic(model), None),
        "static": (quantize_static(model, calibration), None)}
    qat = prepare_qat(model)
    qat_train(qat)
    variants["qat"] = (convert_qat(qat), None)
    for name in casts:
        if name not in CASTS:
            raise ValueError(f"casts must be among {', '.join(CASTS)} (got {name!r})")
        variants[name] = (cast_model(model, CASTS[name]), CASTS[name])
    return variants


def compare_variants(variants: Mapping[str, tuple[nn.Module, torch.dtype | None]], test: tuple[Tensor, Tensor], *,
                     latency_batch: int = 128, repeats: int = 10) -> list[dict]:
    """One row per variant: test accuracy, MB on disk, median ms per batch of ``latency_batch`` at one thread;
    every row after the first (the fp32 reference) also gets its size ratio, speed-up and accuracy drop.
    A variant this CPU cannot run (an op without a half kernel) gets NaN and the error in "note"."""
    x, y = test
    rows, notes = [], []
    for name, (model, dtype) in variants.items():
        cast = (lambda t, dtype=dtype: t.to(dtype)) if dtype is not None else None
        try:
            with quiet_quantization():
                acc = accuracy(predict(model, x, prep=cast), y)
            ms = 1e3 * measure_latency(model, cast(x[:latency_batch]) if cast else x[:latency_batch], repeats=repeats)
            note = ""
        except (RuntimeError, NotImplementedError) as e:
            acc, ms, note = math.nan, math.nan, str(e).splitlines()[0][:60]
        rows.append({"variant": name, "test acc": acc, "MB": model_size_bytes(model) / 1e6, "ms / batch": ms})
        notes.append(note)
    ref = rows[0]
    for r, note in zip(rows, notes):
        if r is not ref:
            r.update({"size ratio": ref["MB"] / r["MB"], "speedup": ref["ms / batch"] / r["ms / batch"],
                      "acc drop": ref["test acc"] - r["test acc"]})
        r["note"] = note
    return rows


def variant_figure(rows: list[dict]):
    """Three panels (MB, ms per batch, test accuracy), one bar per variant and model (rows with a "model")."""
    from deepcourse.viz import new_figure, style

    kinds = list(dict.fromkeys(r["model"] for r in rows))
    with style():
        fig = new_figure((12, 3.5))
        axes = fig.subplots(1, 3)
        for ax, col in zip(axes, ("MB", "ms / batch", "test acc")):
            for i, kind in enumerate(kinds):
                sel = [r for r in rows if r["model"] == kind]
                off = (i - (len(kinds) - 1) / 2) * 0.8 / len(kinds)
                ax.bar([j + off for j in range(len(sel))], [r[col] for r in sel], width=0.8 / len(kinds), label=kind)
                ax.set_xticks(range(len(sel)), [r["variant"] for r in sel], rotation=30)
            ax.set_ylabel(col)
        axes[0].legend(frameon=False)
    return fig

