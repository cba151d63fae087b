"""Encoders and decoders for the autoencoders of module 3: dense (MLP) and convolutional.

An autoencoder is the composition g(f(x)) of an encoder f: X -> Z and a decoder g: Z -> X
(notes 3, "General architecture"; Goodfellow, Bengio & Courville 2016, ch. 14). Both halves
are ordinary networks; what makes the pair an autoencoder is the training signal, the
reconstruction loss L(x, g(f(x))). The same blocks serve the plain, sparse, contractive and
denoising autoencoders (``models.py``), the VAE/WAE (``vae.py``/``wae.py``) and the stacked
denoising autoencoder of DEC (``stacked.py``).

* The encoder's last layer is linear, so that the code z is unconstrained (the VAE reads
  its mean and log-variance from it; a sparse AE penalises it with L1).
* The decoder ends in ``output``: ``"sigmoid"`` for pixels in [0, 1] trained with MSE,
  ``"identity"`` to return logits for a Bernoulli likelihood (BCE with logits, Kingma &
  Welling 2014, appendix C.1).
* The convolutional pair halves (doubles) the resolution with each stride-2 (transposed)
  convolution, kernel 4, padding 1 -- the DCGAN layout (Radford, Metz & Chintala 2016) --
  so ``image_size`` must be divisible by ``2 ** len(widths)``: 28 = 7 * 2^2, 32 = 4 * 2^3,
  16 = 4 * 2^2, 8 = 2 * 2^2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from deepcourse.core.models import register_model

__all__ = [
    "ACTIVATIONS",
    "OUTPUTS",
    "DenseEncoder",
    "DenseDecoder",
    "ConvEncoder",
    "ConvDecoder",
    "make_autoencoder",
    "make_activation",
    "conv_base_size",
]

ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "selu", "tanh", "sigmoid", "softplus", "identity")
OUTPUTS = ("sigmoid", "identity")


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name (one of :data:`ACTIVATIONS`)."""
    table = {
        "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU, "gelu": nn.GELU, "selu": nn.SELU,
        "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus, "identity": nn.Identity,
    }
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    return table[name]()


def _output(name: str) -> nn.Module:
    if name not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {name!r}")
    return nn.Sigmoid() if name == "sigmoid" else nn.Identity()


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


def _widths(values: Sequence[int], name: str, allow_empty: bool = True) -> tuple[int, ...]:
    if isinstance(values, (int, str)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of ints, got {values!r}")
    out = tuple(_positive_int(v, f"{name}[{i}]") for i, v in enumerate(values))
    if not allow_empty and not out:
        raise ValueError(f"{name} must not be empty")
    return out


def conv_base_size(image_size: int, depth: int) -> int:
    """Side of the smallest feature map after ``depth`` stride-2 convolutions (k=4, p=1).

    Raises ValueError when ``image_size`` is not divisible by ``2 ** depth`` (the
    transposed convolutions of the decoder could not reach it back exactly).
    """
    _positive_int(image_size, "image_size")
    if image_size % (2 ** depth) != 0:
        allowed = [s for s in (8, 16, 28, 32, 64) if s % (2 ** depth) == 0]
        raise ValueError(
            f"image_size={image_size} cannot be reached with {depth} stride-2 layers "
            f"(it must be divisible by 2**{depth} = {2 ** depth}); with this many widths use e.g. {allowed}, "
            "or give fewer widths"
        )
    return image_size // (2 ** depth)


@register_model("ae-dense-encoder", example_input=lambda: torch.randn(4, 64),
                small=dict(in_features=64, hidden=(16,), out_features=2, batchnorm=True))
class DenseEncoder(nn.Module):
    """MLP encoder f: R^D -> R^d. Input (N, *) is flattened to (N, D); hidden layers are
    Linear [-> BatchNorm] -> activation; the last layer is linear (no activation)."""

    def __init__(self, in_features: int, hidden: Sequence[int], out_features: int, activation: str = "relu",
                 batchnorm: bool = False):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        self.hidden = _widths(hidden, "hidden")
        make_activation(activation)  # validates the name
        layers: list[nn.Module] = [nn.Flatten()]
        width = self.in_features
        for h in self.hidden:
            layers.append(nn.Linear(width, h))
            if batchnorm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(make_activation(activation))
            width = h
        layers.append(nn.Linear(width, self.out_features))  # linear code: no activation
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x[0].numel() != self.in_features:
            raise ValueError(f"DenseEncoder expects (N, *) with {self.in_features} features per sample, "
                             f"got shape {tuple(x.shape)}")
        return self.net(x)  # (N, out_features)


@register_model("ae-dense-decoder", example_input=lambda: torch.randn(4, 2),
                small=dict(in_features=2, hidden=(16,), out_shape=(1, 8, 8)))
class DenseDecoder(nn.Module):
    """MLP decoder g: R^d -> X with X of shape ``out_shape``; hidden layers Linear ->
    activation, then a linear layer to prod(out_shape) values, reshaped, then ``output``
    (``"sigmoid"`` -> values in (0, 1); ``"identity"`` -> logits)."""

    def __init__(self, in_features: int, hidden: Sequence[int], out_shape: Sequence[int] | int,
                 activation: str = "relu", output: str = "sigmoid"):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.hidden = _widths(hidden, "hidden")
        self.out_shape = _widths((out_shape,) if isinstance(out_shape, int) else out_shape, "out_shape", allow_empty=False)
        make_activation(activation)
        self.output = output
        layers: list[nn.Module] = []
        width = self.in_features
        for h in self.hidden:
            layers += [nn.Linear(width, h), make_activation(activation)]
            width = h
        layers += [nn.Linear(width, math.prod(self.out_shape)), nn.Unflatten(1, self.out_shape), _output(output)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.in_features:
            raise ValueError(f"DenseDecoder expects (N, {self.in_features}), got shape {tuple(z.shape)}")
        return self.net(z)  # (N, *out_shape)


@register_model("ae-conv-encoder", example_input=lambda: torch.randn(2, 1, 8, 8),
                small=dict(in_channels=1, image_size=8, widths=(4, 8), out_features=2))
class ConvEncoder(nn.Module):
    """Convolutional encoder: ``len(widths)`` stride-2 convolutions (k=4, p=1) each halving the
    side, each followed by BatchNorm (except the first, as in DCGAN) and LeakyReLU(0.2), then
    a linear head to ``out_features``. Accepts (N, C, S, S), (N, S, S) when C = 1, or flat (N, C*S*S)."""

    def __init__(self, in_channels: int, image_size: int, widths: Sequence[int], out_features: int):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.image_size = _positive_int(image_size, "image_size")
        self.widths = _widths(widths, "widths", allow_empty=False)
        self.out_features = _positive_int(out_features, "out_features")
        base = conv_base_size(self.image_size, len(self.widths))
        layers: list[nn.Module] = []
        c = self.in_channels
        for i, w in enumerate(self.widths):
            layers.append(nn.Conv2d(c, w, 4, stride=2, padding=1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(w))
            layers.append(nn.LeakyReLU(0.2))
            c = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c * base * base, self.out_features)

    def forward(self, x: Tensor) -> Tensor:
        n, s, c = x.shape[0], self.image_size, self.in_channels
        if x[0].numel() != c * s * s:
            raise ValueError(f"ConvEncoder expects {c}x{s}x{s} = {c * s * s} values per sample, got shape {tuple(x.shape)}")
        h = self.features(x.reshape(n, c, s, s))  # (N, widths[-1], base, base)
        return self.head(h.flatten(1))  # (N, out_features)


@register_model("ae-conv-decoder", example_input=lambda: torch.randn(2, 2),
                small=dict(in_features=2, out_channels=1, image_size=8, widths=(8, 4)))
class ConvDecoder(nn.Module):
    """Convolutional decoder: a linear layer to a (widths[0], b, b) map with b = S / 2^len(widths),
    then ``len(widths)`` stride-2 transposed convolutions (k=4, p=1) each doubling the side:
    widths[0] -> widths[1] -> ... -> widths[-1] -> out_channels, BatchNorm + ReLU between
    them, ``output`` at the end. ``widths`` lists the channels in decoding order (deep to shallow),
    i.e. the encoder's widths reversed."""

    def __init__(self, in_features: int, out_channels: int, image_size: int, widths: Sequence[int],
                 output: str = "sigmoid"):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.image_size = _positive_int(image_size, "image_size")
        self.widths = _widths(widths, "widths", allow_empty=False)
        self.base = conv_base_size(self.image_size, len(self.widths))
        self.output = output
        self.fc = nn.Linear(self.in_features, self.widths[0] * self.base ** 2)
        layers: list[nn.Module] = [nn.ReLU()]
        chans = (*self.widths, self.out_channels)
        for i in range(len(self.widths)):
            last = i == len(self.widths) - 1
            layers.append(nn.ConvTranspose2d(chans[i], chans[i + 1], 4, stride=2, padding=1, bias=last))
            if not last:
                layers += [nn.BatchNorm2d(chans[i + 1]), nn.ReLU()]
        layers.append(_output(output))
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.in_features:
            raise ValueError(f"ConvDecoder expects (N, {self.in_features}), got shape {tuple(z.shape)}")
        h = self.fc(z).view(-1, self.widths[0], self.base, self.base)  # (N, widths[0], b, b)
        return self.net(h)  # (N, out_channels, S, S)


def _image_shape(in_shape: tuple[int, ...]) -> tuple[int, int]:
    """(C, S) of a square image given as (C, S, S) or (S, S)."""
    if len(in_shape) == 2:
        c, h, w = 1, *in_shape
    elif len(in_shape) == 3:
        c, h, w = in_shape
    else:
        raise ValueError(f"in_shape for kind='conv' must be (C, S, S) or (S, S), got {in_shape!r}")
    if h != w:
        raise ValueError(f"in_shape for kind='conv' must be square, got {in_shape!r}")
    return c, h


def make_autoencoder(kind: str = "dense", in_shape: Sequence[int] = (64,), latent_dim: int = 2,
                     hidden: Sequence[int] = (256, 128), widths: Sequence[int] = (32, 64),
                     output: str = "sigmoid", activation: str = "relu",
                     batchnorm: bool = False) -> tuple[nn.Module, nn.Module]:
    """A mirrored (encoder, decoder) pair.

    ``kind="dense"``: ``DenseEncoder(prod(in_shape), hidden, latent_dim)`` and
    ``DenseDecoder(latent_dim, reversed(hidden), in_shape)``. ``kind="conv"``:
    ``ConvEncoder(C, S, widths, latent_dim)`` and ``ConvDecoder(latent_dim, C, S, reversed(widths))``
    for ``in_shape`` = (C, S, S) or (S, S); the decoder then returns (N, C, S, S).
    """
    if isinstance(in_shape, int):
        in_shape = (in_shape,)
    in_shape = _widths(in_shape, "in_shape", allow_empty=False)
    latent_dim = _positive_int(latent_dim, "latent_dim")
    if kind == "dense":
        hidden = _widths(hidden, "hidden")
        enc = DenseEncoder(math.prod(in_shape), hidden, latent_dim, activation=activation, batchnorm=batchnorm)
        dec = DenseDecoder(latent_dim, tuple(reversed(hidden)), in_shape, activation=activation, output=output)
        return enc, dec
    if kind == "conv":
        c, s = _image_shape(in_shape)
        widths = _widths(widths, "widths", allow_empty=False)
        enc = ConvEncoder(c, s, widths, latent_dim)
        dec = ConvDecoder(latent_dim, c, s, tuple(reversed(widths)), output=output)
        return enc, dec
    raise ValueError(f"kind must be 'dense' or 'conv', got {kind!r}")
