"""Batched inference: ``predict`` and the ``eval_mode`` context.

Every experiment evaluates models the same way: switch to eval mode (dropout off, BatchNorm on its
running statistics), no autograd graph, batches small enough for memory, outputs gathered on the CPU,
and each model's previous mode restored afterwards so that training can go on.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import torch
from torch import Tensor, nn

__all__ = ["eval_mode", "predict"]


@contextlib.contextmanager
def eval_mode(*models: nn.Module, no_grad: bool = True) -> Iterator[None]:
    """``model.eval()`` for each model (and ``torch.no_grad()`` unless ``no_grad=False``) inside the
    block; each model's own training flag is restored on exit, also after an exception."""
    for m in models:
        if not isinstance(m, nn.Module):
            raise TypeError(f"eval_mode takes nn.Module objects, got {type(m).__name__}")
    modes = [m.training for m in models]
    for m in models:
        m.eval()
    try:
        with torch.no_grad() if no_grad else contextlib.nullcontext():
            yield
    finally:
        for m, mode in zip(models, modes):
            m.train(mode)


def predict(
    model: nn.Module | Callable[[Tensor], Tensor],
    x: Tensor,
    batch_size: int = 1024,
    *,
    device: torch.device | str | None = None,
    prep: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """``model(prep(x))`` in eval mode without gradients, ``batch_size`` rows at a time, concatenated
    on the CPU. ``device`` defaults to the model's (its first parameter's, else the CPU); ``prep``
    runs on each batch after it is moved there (e.g. scaling uint8 images, normalising).

    A plain callable works too (a lambda around several models): put those in ``eval_mode`` yourself.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"predict: x must be a torch.Tensor, got {type(x).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"predict: batch_size must be an int >= 1 (got {batch_size!r})")
    if device is None:
        param = next(iter(model.parameters()), None) if isinstance(model, nn.Module) else None
        device = param.device if param is not None else torch.device("cpu")
    device = torch.device(device)
    outs = []
    with eval_mode(model) if isinstance(model, nn.Module) else torch.no_grad():
        for i in range(0, max(len(x), 1), batch_size):  # an empty x still gives a (0, ...) output
            xb = x[i:i + batch_size].to(device)
            if prep is not None:
                xb = prep(xb)
            outs.append(model(xb).detach().cpu())
    return torch.cat(outs)
