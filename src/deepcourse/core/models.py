"""A timm-style model registry, with parameter and FLOP counters.

Every topic registers its ``nn.Module`` classes (or factories) here, with a small
configuration and an example input, so that one parametrised test can build each
model, run forward and backward, and check that no output is NaN and that every
parameter receives a gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

__all__ = ["register_model", "create_model", "list_models", "get_model_entry", "count_parameters", "count_flops", "ModelEntry"]


@dataclass
class ModelEntry:
    name: str
    factory: Callable[..., nn.Module]
    example_input: Callable[[], Any]
    small: dict[str, Any] = field(default_factory=dict)
    loss: Callable[[Any], torch.Tensor] | None = None  # output -> scalar for the backward test
    module: str = ""


_MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, *, example_input: Callable[[], Any], small: dict | None = None,
                   loss: Callable[[Any], torch.Tensor] | None = None) -> Callable:
    """Decorator for an ``nn.Module`` class or a factory function.

    ``example_input()`` returns the input of ``model(x)`` at the ``small`` size (a tensor,
    or a tuple passed as positional arguments); ``loss(output)`` reduces the output to a
    scalar (default: sum of every floating tensor in it).
    """

    def deco(factory):
        if name in _MODELS and _MODELS[name].factory is not factory:
            raise ValueError(f"model {name!r} is registered twice")
        _MODELS[name] = ModelEntry(name, factory, example_input, dict(small or {}), loss, getattr(factory, "__module__", ""))
        return factory

    return deco


_TOPICS_IMPORTED = False


def _discover() -> None:
    """Import every topic package (``deepcourse.gan``, ...): each registers its models where they are
    defined, in the modules its ``__init__`` imports. Experiments are not imported for this."""
    global _TOPICS_IMPORTED
    if _TOPICS_IMPORTED:
        return
    import importlib
    import pkgutil
    import warnings

    import deepcourse

    for info in pkgutil.iter_modules(deepcourse.__path__):
        if info.ispkg and info.name not in ("core", "data", "metrics", "viz"):
            try:
                importlib.import_module(f"deepcourse.{info.name}")
            except Exception as e:  # one broken topic must not hide the others' models
                warnings.warn(f"could not import deepcourse.{info.name}: {type(e).__name__}: {e}", RuntimeWarning,
                              stacklevel=3)
    _TOPICS_IMPORTED = True


def list_models(pattern: str | None = None) -> list[str]:
    import fnmatch

    _discover()
    names = sorted(_MODELS)
    return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]


def get_model_entry(name: str) -> ModelEntry:
    _discover()
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(_MODELS))}")
    return _MODELS[name]


def create_model(name: str, small: bool = False, **kwargs: Any) -> nn.Module:
    entry = get_model_entry(name)
    args = {**(entry.small if small else {}), **kwargs}
    return entry.factory(**args)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_flops(model: nn.Module, *inputs: Any) -> int:
    """Floating-point operations of one forward pass (a multiply-add counts as 2),
    measured with ``torch.utils.flop_counter``."""
    from torch.utils.flop_counter import FlopCounterMode

    was = model.training
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*inputs)
    model.train(was)
    return int(counter.get_total_flops())
