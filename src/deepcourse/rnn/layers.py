"""Recurrent layers on batch-first sequences ``(B, T, C)``: one cell run over time (:class:`Recurrent`),
stacked and bidirectional (:class:`RNN`), variable lengths by masking, recurrent initialisation
(orthogonal: Saxe et al. 2014; the notes' "orthogonal initialization"), activity regularisation (the
notes' "signal regularization", Keras's ``activity_regularizer``) and two registered models: a
sequence classifier (optionally over token embeddings) and a per-step tagger / next-step predictor.

Variable lengths: pass ``lengths`` ``(B,)`` (or a ``torch.nn.utils.rnn.PackedSequence``). Past its length a
sequence's state is frozen and its outputs are zero, so the final state is the one at the last real step and
padding changes nothing; the backward direction starts at each sequence's own last step.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from deepcourse.core.models import register_model

from .bptt import FusedLSTM
from .lstm import ElmanCell, GRUCell, LSTMCell, check_sequence

__all__ = ["CELLS", "make_cell", "Recurrent", "RNN", "reverse_padded", "init_recurrent_", "activity_regularization",
           "SequenceClassifier", "SequenceTagger"]

CELLS = ("lstm", "gru", "elman")


def make_cell(kind: str, input_size: int, hidden_size: int, *, variant: str = "vanilla",
              nonlinearity: str = "tanh") -> nn.Module:
    """A cell by name: ``lstm`` (peephole LSTM, ``variant`` as in :class:`LSTMCell`), ``gru`` or ``elman``."""
    if kind == "lstm":
        return LSTMCell(input_size, hidden_size, variant)
    if kind == "gru":
        return GRUCell(input_size, hidden_size)
    if kind == "elman":
        return ElmanCell(input_size, hidden_size, nonlinearity)
    raise ValueError(f"unknown cell {kind!r}; allowed: {', '.join(CELLS)}")


def _lengths(lengths: Tensor | None, batch: int, steps: int) -> Tensor | None:
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths).long().cpu()
    if lengths.shape != (batch,) or (lengths < 1).any() or (lengths > steps).any():
        raise ValueError(f"lengths must be (B,) = ({batch},) integers in [1, T = {steps}] "
                         f"(got shape {tuple(lengths.shape)}, values {lengths.tolist()[:8]})")
    return lengths


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of ``x`` ``(B, T, ...)`` within its own length; padding stays where it is."""
    if lengths is None:
        return x.flip(1)
    t = torch.arange(x.shape[1])
    idx = torch.where(t[None] < lengths[:, None], lengths[:, None] - 1 - t[None], t[None]).to(x.device)
    return x.gather(1, idx.view(*idx.shape, *([1] * (x.dim() - 2))).expand_as(x))


class Recurrent(nn.Module):
    """One cell over time. ``forward(x (B, T, M), state=None, lengths=None) -> (outputs (B, T, N), final state)``."""

    def __init__(self, cell: nn.Module, reverse: bool = False):
        super().__init__()
        self.cell, self.reverse = cell, reverse

    def forward(self, x: Tensor, state=None, lengths: Tensor | None = None):
        cell = self.cell
        check_sequence(x, cell.input_size, type(self).__name__)
        b, steps = x.shape[:2]
        lengths = _lengths(lengths, b, steps)
        if self.reverse:
            x = reverse_padded(x, lengths)
        if state is None:
            state = cell.init_state(b, x)
        if lengths is None and isinstance(cell, LSTMCell) and cell.fused and not cell.variant.fgr:
            # the fast path: one autograd node whose backward is the explicit BPTT (rnn.bptt.FusedLSTM)
            xp = cell.input_projection(x.transpose(0, 1))  # (T, B, 4N)
            ys, c_last = FusedLSTM.apply(xp, cell.weight_hh, cell.peephole, state[0], state[1], cell.variant)
            out = ys.transpose(0, 1)
            return (out.flip(1) if self.reverse else out), (ys[-1], c_last)
        xp = cell.input_projection(x)  # (B, T, G): W x + b for all steps in one matmul
        mask = None if lengths is None else (torch.arange(steps)[None] < lengths[:, None]).to(x.device)
        outs = []
        for t in range(steps):
            new = cell.step(xp[:, t], state)
            if mask is not None:  # a finished sequence keeps its state; its output is 0
                m = mask[:, t, None]
                new = tuple(torch.where(m, a, s) for a, s in zip(new, state)) if isinstance(new, tuple) else \
                    torch.where(m, new, state)
                outs.append(cell.output(new) * m)
            else:
                outs.append(cell.output(new))
            state = new
        out = torch.stack(outs, 1)
        if self.reverse:
            out = reverse_padded(out, lengths)
        return out, state


class RNN(nn.Module):
    """Stacked, optionally bidirectional recurrent network, batch first.

    ``forward(x, lengths=None, state=None)`` with ``x`` ``(B, T, M)`` or a ``PackedSequence``; returns
    ``(outputs, states)``: outputs ``(B, T, D * N)`` (``D = 2`` when bidirectional; a ``PackedSequence`` for a
    packed input) and the final state of each layer and direction, in torch's order (layer 0 forward,
    layer 0 backward, layer 1 forward, ...). ``state``: a list of initial states in that order.
    ``dropout`` is applied between layers, as in ``torch.nn.LSTM``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, *, cell: str = "lstm",
                 variant: str = "vanilla", bidirectional: bool = False, dropout: float = 0.0,
                 nonlinearity: str = "tanh", init: str = "default"):
        super().__init__()
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"RNN: num_layers must be an int >= 1 (got {num_layers!r})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"RNN: dropout must be in [0, 1) (got {dropout!r})")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.directions = 2 if bidirectional else 1
        layers = []
        for layer in range(num_layers):
            size = input_size if layer == 0 else hidden_size * self.directions
            for d in range(self.directions):
                c = make_cell(cell, size, hidden_size, variant=variant, nonlinearity=nonlinearity)
                if init != "default":
                    init_recurrent_(c, init)
                layers.append(Recurrent(c, reverse=d == 1))
        self.layers = nn.ModuleList(layers)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, lengths: Tensor | None = None, state: list | None = None):
        packed = isinstance(x, PackedSequence)
        if packed:
            x, lengths = pad_packed_sequence(x, batch_first=True)
        check_sequence(x, self.input_size, type(self).__name__)
        if state is not None and len(state) != len(self.layers):
            raise ValueError(f"RNN: state must list {len(self.layers)} states (layers x directions), got {len(state)}")
        finals = []
        h = x
        for layer in range(self.num_layers):
            if layer:
                h = self.dropout(h)
            outs = []
            for d in range(self.directions):
                k = layer * self.directions + d
                o, s = self.layers[k](h, None if state is None else state[k], lengths)
                outs.append(o)
                finals.append(s)
            h = outs[0] if self.directions == 1 else torch.cat(outs, -1)
        if packed:
            h = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        return h, finals

    def final_output(self, states: list) -> Tensor:
        """The last layer's final block output ``y`` of each direction, concatenated: ``(B, D * N)``."""
        top = self.layers[-self.directions:]
        return torch.cat([m.cell.output(s) for m, s in zip(top, states[-self.directions:])], -1)


def init_recurrent_(cell: nn.Module, scheme: str = "orthogonal", gain: float = 1.0) -> nn.Module:
    """Re-initialise the recurrent weights of ``cell`` in place, one ``N x N`` gate block at a time:

    * ``orthogonal``: ``gain * Q`` with Q a random orthogonal matrix (all singular values 1, so repeated
      multiplication neither explodes nor vanishes in the linear regime: Saxe et al. 2014; the notes);
    * ``gaussian``: i.i.d. ``N(0, gain² / N)`` (spectral radius about ``gain`` for large N);
    * ``identity``: ``gain * I`` (the IRNN of Le et al. 2015).
    """
    w = cell.weight_hh
    n = cell.hidden_size
    with torch.no_grad():
        for block in w.split(n, 0):
            if scheme == "orthogonal":
                nn.init.orthogonal_(block, gain=gain)
            elif scheme == "gaussian":
                block.normal_(0.0, gain / math.sqrt(n))
            elif scheme == "identity":
                block.copy_(gain * torch.eye(n, dtype=w.dtype))
            else:
                raise ValueError(f"init_recurrent_: scheme must be orthogonal, gaussian or identity (got {scheme!r})")
    return cell


def activity_regularization(y: Tensor, l1: float = 0.0, l2: float = 0.0, lengths: Tensor | None = None) -> Tensor:
    """Penalty on the layer's output signal (not its weights): ``l1 * mean|y| + l2 * mean y²`` over the real
    (unpadded) steps, every unit and sequence. Add it to the loss to push activations toward sparsity."""
    if lengths is not None:
        mask = (torch.arange(y.shape[1])[None] < torch.as_tensor(lengths)[:, None]).to(y.device)
        count = mask.sum() * y.shape[-1]
        m = mask[..., None].to(y.dtype)
        return (l1 * (y.abs() * m).sum() + l2 * (y.pow(2) * m).sum()) / count
    return l1 * y.abs().mean() + l2 * y.pow(2).mean()


class _SequenceModel(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, num_layers: int, vocab_size: int | None,
                 embedding_dim: int, **rnn_kw):
        super().__init__()
        self.embedding = None
        if vocab_size is not None:  # token ids (B, T) -> (B, T, embedding_dim); id 0 is padding
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
            input_size = embedding_dim
        self.rnn = RNN(input_size, hidden_size, num_layers, **rnn_kw)

    def encode(self, x: Tensor, lengths: Tensor | None):
        if self.embedding is not None:
            if x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
                raise ValueError(f"{type(self).__name__}: expected token ids (B, T), got {tuple(x.shape)} {x.dtype}")
            x = self.embedding(x)
        return self.rnn(x, lengths)


class SequenceClassifier(_SequenceModel):
    """Recurrent encoder, then a linear layer on its final output (the last real step of each sequence; with
    ``bidirectional``, also the backward direction's output at step 0). ``x``: ``(B, T, M)`` features, or token
    ids ``(B, T)`` when ``vocab_size`` is given."""

    def __init__(self, input_size: int, hidden_size: int, num_classes: int, num_layers: int = 1, *,
                 vocab_size: int | None = None, embedding_dim: int = 32, **rnn_kw):
        super().__init__(input_size, hidden_size, num_layers, vocab_size, embedding_dim, **rnn_kw)
        self.head = nn.Linear(hidden_size * self.rnn.directions, num_classes)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        _, states = self.encode(x, lengths)
        return self.head(self.rnn.final_output(states))


class SequenceTagger(_SequenceModel):
    """A prediction at every step: ``(B, T, M) -> (B, T, out_size)`` (next-step prediction of piano rolls, tagging)."""

    def __init__(self, input_size: int, hidden_size: int, out_size: int, num_layers: int = 1, *,
                 vocab_size: int | None = None, embedding_dim: int = 32, **rnn_kw):
        super().__init__(input_size, hidden_size, num_layers, vocab_size, embedding_dim, **rnn_kw)
        self.head = nn.Linear(hidden_size * self.rnn.directions, out_size)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        out, _ = self.encode(x, lengths)
        return self.head(out)


register_model("rnn", example_input=lambda: torch.randn(2, 5, 3), loss=lambda o: o[0].sum(),
               small={"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True})(RNN)
register_model("lstm-classifier", example_input=lambda: torch.randn(2, 6, 3),
               small={"input_size": 3, "hidden_size": 4, "num_classes": 5})(SequenceClassifier)
register_model("lstm-tagger", example_input=lambda: torch.randn(2, 6, 3),
               small={"input_size": 3, "hidden_size": 4, "out_size": 3})(SequenceTagger)


@register_model("gru-classifier", example_input=lambda: torch.randint(1, 9, (2, 6)),
                small={"vocab_size": 9, "hidden_size": 4, "num_classes": 3})
def gru_classifier(vocab_size: int = 1000, hidden_size: int = 128, num_classes: int = 2, **kw) -> SequenceClassifier:
    """A GRU over token embeddings (``gru-classifier``)."""
    return SequenceClassifier(0, hidden_size, num_classes, vocab_size=vocab_size, cell="gru", **kw)
