r"""PatchGAN: a discriminator that classifies every N x N patch of an image as real or fake.

Isola et al. 2017 ("Image-to-image translation with conditional adversarial networks", sec. 3.2.2)
argue that the L1 term already gets the low frequencies right, so the discriminator only needs to
judge local structure: it is run convolutionally and outputs one real/fake logit per patch, and the
loss averages over patches. The patch size is the receptive field of one output unit. The paper's
study (sec. 4.4, Table 3) compares

* 1x1 "PixelGAN" (1x1 convolutions only: judges colour statistics, not structure),
* 16x16 and 70x70 PatchGANs (``n_layers`` = 1 and 3 of the reference ``NLayerDiscriminator``),
* 286x286 "ImageGAN" (the whole 256x256 image).

Our images are 8x8 to 32x32, so "70x70-equivalent" patches must be built at small sizes too: an
integer ``receptive_field`` r (odd) gives (r - 1) / 2 stacked 3x3 stride-1 convolutions followed by
1x1 layers, so every output unit sees exactly an r x r window. ``"full"`` builds an image-level
discriminator: stride-2 4x4 convolutions down to at most 4x4, then one convolution over the whole
remaining map, one logit per image.

:func:`receptive_field` computes the receptive field from the convolution stack
(:math:`r \leftarrow (r - 1) s + d (k - 1) + 1`, walked from the output back to the input).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepcourse.cnn.unet import make_norm
from deepcourse.core.models import register_model

__all__ = ["PatchGAN", "receptive_field", "NAMED_FIELDS"]

# pix2pix names -> number of stride-2 layers of the reference NLayerDiscriminator (kernel 4)
NAMED_FIELDS = {"16": 1, "34": 2, "70": 3, "142": 4, "286": 5}


def _lrelu() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=True)  # slope 0.2 as in DCGAN and pix2pix's discriminators


class PatchGAN(nn.Module):
    """Patch discriminator with a selectable receptive field.

    Args:
        in_channels: image channels; for a conditional D (pix2pix) the input and output images are
            concatenated, so pass their channel sum.
        receptive_field: ``"pixel"`` (or 1), ``"16"``, ``"70"``, ``"286"`` (pix2pix's layouts, 4x4
            kernels), an odd int r or its string (an r x r window, for small images), or ``"full"`` (one
            logit per image; needs ``image_size``).
        width: channels of the first layer (paper: 64); doubled per stride-2 layer up to 8x.
        norm: ``"batch"`` (pix2pix), ``"instance"`` (CycleGAN) or ``"none"``. The first layer has none.
        image_size: side of the (square) input, needed for ``"full"`` only.

    Output: logits ``(N, 1, H', W')``, one per patch (``(N, 1, 1, 1)`` for ``"full"``).
    """

    def __init__(self, in_channels: int = 6, receptive_field: str | int = "70", width: int = 64, norm: str = "batch",
                 image_size: int | None = None) -> None:
        super().__init__()
        for arg, v in (("in_channels", in_channels), ("width", width)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"PatchGAN: {arg} must be a positive int, got {v!r}")
        make_norm(norm, 1)  # validates norm
        self.in_channels = in_channels
        rf = receptive_field
        if isinstance(rf, str) and rf.isdigit() and rf not in NAMED_FIELDS:
            rf = int(rf)  # "9" from a config: a 9 x 9 window
        if rf == "pixel" or rf == 1 or rf == "1":
            layers = self._pixel(in_channels, width, norm)
        elif isinstance(rf, str) and rf in NAMED_FIELDS:
            layers = self._nlayer(in_channels, width, norm, NAMED_FIELDS[rf])
        elif rf == "full":
            if not isinstance(image_size, int) or image_size < 1:
                raise ValueError(f"PatchGAN: receptive_field='full' needs image_size (a positive int), got {image_size!r}")
            layers = self._image(in_channels, width, norm, image_size)
        elif isinstance(rf, int) and not isinstance(rf, bool) and rf >= 3 and rf % 2 == 1:
            layers = self._window(in_channels, width, norm, rf)
        else:
            raise ValueError(f"PatchGAN: receptive_field must be 'pixel', one of {sorted(NAMED_FIELDS)}, 'full' or an "
                             f"odd int >= 1, got {rf!r}")
        self.receptive_field_name = str(rf)
        self.image_size = image_size
        self.net = nn.Sequential(*layers)
        for m in self.modules():  # N(0, 0.02) as in DCGAN / pix2pix
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    @staticmethod
    def _pixel(cin: int, w: int, norm: str) -> list[nn.Module]:
        # 1x1 convolutions only: each logit sees one pixel (pix2pix's PixelDiscriminator)
        return [nn.Conv2d(cin, w, 1), _lrelu(), nn.Conv2d(w, 2 * w, 1, bias=norm == "none"), make_norm(norm, 2 * w),
                _lrelu(), nn.Conv2d(2 * w, 1, 1)]

    @staticmethod
    def _nlayer(cin: int, w: int, norm: str, n_layers: int) -> list[nn.Module]:
        # C64 - C128 - ... (4x4, stride 2), then a stride-1 layer and a stride-1 1-channel output
        layers: list[nn.Module] = [nn.Conv2d(cin, w, 4, 2, 1), _lrelu()]
        c = w
        for n in range(1, n_layers):
            c_out = w * min(2 ** n, 8)
            layers += [nn.Conv2d(c, c_out, 4, 2, 1, bias=norm == "none"), make_norm(norm, c_out), _lrelu()]
            c = c_out
        c_out = w * min(2 ** n_layers, 8)
        layers += [nn.Conv2d(c, c_out, 4, 1, 1, bias=norm == "none"), make_norm(norm, c_out), _lrelu(),
                   nn.Conv2d(c_out, 1, 4, 1, 1)]
        return layers

    @staticmethod
    def _window(cin: int, w: int, norm: str, rf: int) -> list[nn.Module]:
        # (rf - 1) / 2 padded 3x3 stride-1 convolutions: an rf x rf window, same spatial size out
        layers: list[nn.Module] = []
        c = cin
        for i in range((rf - 1) // 2):
            c_out = w * min(2 ** i, 4)
            layers += [nn.Conv2d(c, c_out, 3, 1, 1, bias=i == 0 or norm == "none")]
            layers += [_lrelu()] if i == 0 else [make_norm(norm, c_out), _lrelu()]
            c = c_out
        layers += [nn.Conv2d(c, 1, 1)]
        return layers

    @staticmethod
    def _image(cin: int, w: int, norm: str, size: int) -> list[nn.Module]:
        layers: list[nn.Module] = []
        c, s, i = cin, size, 0
        while s > 4:
            c_out = w * min(2 ** i, 8)
            layers += [nn.Conv2d(c, c_out, 4, 2, 1, bias=i == 0 or norm == "none")]
            layers += [_lrelu()] if i == 0 else [make_norm(norm, c_out), _lrelu()]
            c, s, i = c_out, s // 2, i + 1
        layers += [nn.Conv2d(c, 1, s)]  # one convolution over the whole remaining s x s map
        return layers

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"PatchGAN: expected input (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if self.image_size is not None and self.receptive_field_name == "full" and tuple(x.shape[2:]) != (
                self.image_size, self.image_size):
            raise ValueError(f"PatchGAN: receptive_field='full' was built for {self.image_size}x{self.image_size} "
                             f"images, got {tuple(x.shape[2:])}")
        return self.net(x)  # (N, 1, H', W') patch logits


def receptive_field(model: nn.Module) -> int:
    """Receptive field (side, in input pixels) of one output unit of a chain of convolutions.

    Walks the ``Conv2d`` layers in module order (so it assumes a plain feed-forward chain, as in
    :class:`PatchGAN`): from the output, ``r <- (r - 1) * stride + dilation * (kernel - 1) + 1``.
    """
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))]
    r = 1
    for m in reversed(convs):
        k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
        s = m.stride if isinstance(m.stride, int) else m.stride[0]
        d = getattr(m, "dilation", 1)
        d = d if isinstance(d, int) else d[0]
        r = (r - 1) * s + d * (k - 1) + 1
    return r


register_model("patchgan", example_input=lambda: torch.randn(2, 6, 32, 32),
               small=dict(in_channels=6, receptive_field="70", width=8))(PatchGAN)
