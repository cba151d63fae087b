"""Registry-wide check (timm's test_models habit): every registered model, built at its
small size, runs forward and backward with no NaN, and every parameter gets a gradient."""

from __future__ import annotations

import pytest
import torch

from deepcourse.core.models import count_flops, count_parameters, create_model, get_model_entry, list_models

MODELS = list_models()


def test_some_models_are_registered():
    assert len(MODELS) >= 1


@pytest.mark.parametrize("name", MODELS)
def test_forward_backward(name):
    torch.manual_seed(0)
    entry = get_model_entry(name)
    model = create_model(name, small=True)
    model.train()
    inputs = entry.example_input()
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    out = model(*inputs)
    outs = out if isinstance(out, (tuple, list)) else [out.values()] if isinstance(out, dict) else [out]
    flat = [t for o in outs for t in (o if isinstance(o, (tuple, list, type({}.values()))) else [o]) if isinstance(t, torch.Tensor)]
    assert flat, f"{name}: forward returned no tensor"
    for t in flat:
        assert torch.isfinite(t).all(), f"{name}: non-finite output"
    loss = entry.loss(out) if entry.loss else sum(t.float().sum() for t in flat if t.is_floating_point())
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not torch.isfinite(p.grad).all())]
    assert not missing, f"{name}: no (finite) gradient for {missing}"
    assert count_parameters(model) > 0
    assert count_flops(model, *inputs) >= 0


def test_models_are_found_without_importing_experiments():
    """Models register where they are defined: the topic packages alone register all of them."""
    import subprocess
    import sys

    code = ("import sys; from deepcourse.core.models import list_models; n = len(list_models()); "
            "bad = [m for m in sys.modules if '.experiments' in m]; "
            "from deepcourse.core.registry import discover; discover(); "
            "print(n, len(list_models()), bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(None, 2)
    assert out[2].strip() == "[]", f"list_models imported experiments: {out[2]}"
    assert out[0] == out[1], f"{int(out[1]) - int(out[0])} model(s) register only when experiments are imported"
