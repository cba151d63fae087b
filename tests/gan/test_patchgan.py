"""PatchGAN discriminator: receptive fields (analytic and measured), shapes, registry."""

from __future__ import annotations

import pytest
import torch

from deepcourse.gan.patchgan import PatchGAN, receptive_field


def measured_field(d: PatchGAN, size: int, channels: int) -> int:
    """Side of the input region that influences the centre output unit (via its gradient)."""
    d = d.eval()
    x = torch.randn(1, channels, size, size, requires_grad=True)
    out = d(x)  # (1, 1, H', W')
    h, w = out.shape[2:]
    out[0, 0, h // 2, w // 2].backward()
    touched = x.grad.abs().sum((0, 1)) > 0  # (size, size)
    rows = touched.any(1).nonzero().flatten()
    cols = touched.any(0).nonzero().flatten()
    assert (rows.max() - rows.min()) == (cols.max() - cols.min())
    return int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize("rf, want, size", [("pixel", 1, 8), ("16", 16, 48), ("70", 70, 160), (3, 3, 12), (5, 5, 12),
                                            (9, 9, 20)])
def test_receptive_field_analytic_and_measured(rf, want, size):
    torch.manual_seed(0)
    d = PatchGAN(in_channels=2, receptive_field=rf, width=4, norm="none")
    assert receptive_field(d) == want
    assert measured_field(d, size, 2) == want


def test_286_and_full_image():
    assert receptive_field(PatchGAN(6, "286", width=2)) == 286
    d = PatchGAN(in_channels=2, receptive_field="full", width=4, image_size=28, norm="none")
    assert d(torch.randn(3, 2, 28, 28)).shape == (3, 1, 1, 1)
    assert receptive_field(d) >= 28
    torch.manual_seed(0)
    assert measured_field(d, 28, 2) == 28  # the single logit sees every pixel
    with pytest.raises(ValueError, match="28x28"):
        d(torch.randn(1, 2, 32, 32))


def test_output_shapes():
    x = torch.randn(2, 6, 32, 32)
    assert PatchGAN(6, "pixel", width=4)(x).shape == (2, 1, 32, 32)
    assert PatchGAN(6, "16", width=4)(x).shape == (2, 1, 14, 14)
    assert PatchGAN(6, "70", width=4)(x).shape == (2, 1, 2, 2)
    assert PatchGAN(6, 5, width=4)(x).shape == (2, 1, 32, 32)
    assert PatchGAN(6, "full", width=4, image_size=8)(x[..., :8, :8]).shape == (2, 1, 1, 1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="receptive_field"):
        PatchGAN(6, 4)
    with pytest.raises(ValueError, match="image_size"):
        PatchGAN(6, "full")
    with pytest.raises(ValueError, match="norm"):
        PatchGAN(6, "70", norm="layer")
    with pytest.raises(ValueError, match=r"\(N, 6, H, W\)"):
        PatchGAN(6, "70")(torch.randn(1, 3, 32, 32))


def test_registered():
    from deepcourse.core.models import create_model, list_models

    assert "patchgan" in list_models()
    m = create_model("patchgan", small=True)
    out = m(torch.randn(2, 6, 32, 32))
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters())
