"""Stacked / bidirectional layers against torch, variable lengths (padding changes nothing), initialisation,
activity regularisation and the registered sequence models."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from deepcourse.rnn import (RNN, SequenceClassifier, SequenceTagger, activity_regularization, init_recurrent_,
                            make_cell, reverse_padded)


def _copy_from_torch(ours: RNN, ref: torch.nn.Module, kind: str) -> None:
    """torch's weight_ih_l{k}{_reverse} -> our layers[k * D + d].cell."""
    with torch.no_grad():
        for layer in range(ours.num_layers):
            for d in range(ours.directions):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                cell = ours.layers[layer * ours.directions + d].cell
                cell.weight_ih.copy_(getattr(ref, "weight_ih" + sfx))
                cell.weight_hh.copy_(getattr(ref, "weight_hh" + sfx))
                if kind == "lstm":
                    cell.bias.copy_(getattr(ref, "bias_ih" + sfx) + getattr(ref, "bias_hh" + sfx))
                else:
                    cell.bias_ih.copy_(getattr(ref, "bias_ih" + sfx))
                    cell.bias_hh.copy_(getattr(ref, "bias_hh" + sfx))


@pytest.mark.parametrize("kind", ["lstm", "gru", "elman"])
def test_stacked_bidirectional_equals_torch(kind):
    torch.manual_seed(0)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "elman": torch.nn.RNN}[kind]
    ref = cls(4, 5, num_layers=2, bidirectional=True, batch_first=True).double()
    ours = RNN(4, 5, 2, cell=kind, variant="NP", bidirectional=True).double()
    _copy_from_torch(ours, ref, kind)
    x = torch.randn(3, 6, 4, dtype=torch.float64, requires_grad=True)
    out, states = ours(x)
    out_ref, h_ref = ref(x)
    h_ref = h_ref[0] if kind == "lstm" else h_ref
    assert torch.allclose(out, out_ref, atol=1e-12)
    assert torch.allclose(torch.stack([ours.layers[k].cell.output(s) for k, s in enumerate(states)]), h_ref, atol=1e-12)
    g = torch.randn_like(out)
    gx = torch.autograd.grad((out * g).sum(), x)[0]
    gx_ref = torch.autograd.grad((out_ref * g).sum(), x)[0]
    assert torch.allclose(gx, gx_ref, atol=1e-12)


def test_packed_sequence_equals_torch_packed():
    torch.manual_seed(1)
    ref = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    ours = RNN(3, 4, 2, variant="NP", bidirectional=True).double()
    _copy_from_torch(ours, ref, "lstm")
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    lengths = torch.tensor([7, 2, 5, 1])
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, _ = ours(packed)
    out_ref, _ = ref(packed)
    a, la = pad_packed_sequence(out, batch_first=True)
    b, lb = pad_packed_sequence(out_ref, batch_first=True)
    assert torch.equal(la, lb) and torch.allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("kind,variant", [("lstm", "vanilla"), ("lstm", "FGR"), ("gru", "vanilla")])
def test_padded_steps_change_nothing(kind, variant):
    """Each sequence alone (no padding) gives the same outputs and final states as in a padded batch whose
    padding holds garbage; the padding gets no gradient."""
    torch.manual_seed(2)
    model = RNN(3, 4, 2, cell=kind, variant=variant, bidirectional=True).double()
    lengths = torch.tensor([6, 3, 1])
    x = torch.randn(3, 6, 3, dtype=torch.float64) * 10  # garbage beyond each length
    x.requires_grad_(True)
    out, states = model(x, lengths)
    (out.sum() + sum(s[0].sum() if isinstance(s, tuple) else s.sum() for s in states)).backward()
    for b, n in enumerate(lengths.tolist()):
        alone, st = model(x[b:b + 1, :n].detach())
        assert torch.allclose(out[b, :n], alone[0], atol=1e-12)
        assert (out[b, n:] == 0).all()
        for s_batch, s_alone in zip(states, st):
            first = (lambda s: s[0]) if isinstance(s_batch, tuple) else (lambda s: s)
            assert torch.allclose(first(s_batch)[b], first(s_alone)[0], atol=1e-12)
        assert (x.grad[b, n:] == 0).all()


def test_reverse_padded():
    x = torch.arange(8.0).view(2, 4, 1)
    r = reverse_padded(x, torch.tensor([4, 2]))
    assert r[:, :, 0].tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]
    assert torch.equal(reverse_padded(r, torch.tensor([4, 2])), x)


def test_bad_lengths_and_shapes():
    model = RNN(3, 4)
    with pytest.raises(ValueError, match=r"lengths must be \(B,\)"):
        model(torch.randn(2, 5, 3), torch.tensor([6, 2]))
    with pytest.raises(ValueError, match=r"\(B, T, C\) with C = 3"):
        model(torch.randn(2, 5, 4))
    with pytest.raises(ValueError, match="token ids"):
        SequenceClassifier(0, 4, 2, vocab_size=10)(torch.randn(2, 5, 3))


def test_recurrent_initialisation():
    torch.manual_seed(3)
    cell = init_recurrent_(make_cell("lstm", 3, 16), "orthogonal")
    for block in cell.weight_hh.detach().split(16):
        assert torch.allclose(block.T @ block, torch.eye(16), atol=1e-5)
    cell = init_recurrent_(make_cell("elman", 3, 400), "gaussian", gain=2.0)
    assert abs(cell.weight_hh.std().item() - 2.0 / 20) < 0.005
    cell = init_recurrent_(make_cell("gru", 3, 5), "identity", gain=0.5)
    assert torch.equal(cell.weight_hh[:5], 0.5 * torch.eye(5))
    with pytest.raises(ValueError, match="scheme"):
        init_recurrent_(cell, "xavier")


def test_activity_regularization():
    y = torch.tensor([[[1.0, -2.0], [3.0, 0.0]]])  # (1, 2, 2)
    assert activity_regularization(y, l1=1.0).item() == pytest.approx(1.5)
    assert activity_regularization(y, l2=1.0).item() == pytest.approx(3.5)
    assert activity_regularization(y, l1=1.0, lengths=torch.tensor([1])).item() == pytest.approx(1.5)  # step 0 only
    assert activity_regularization(y, l2=1.0, lengths=torch.tensor([1])).item() == pytest.approx(2.5)


def test_sequence_models():
    torch.manual_seed(4)
    clf = SequenceClassifier(0, 8, 3, vocab_size=20, embedding_dim=6, bidirectional=True)
    ids = torch.randint(1, 20, (4, 7))
    lengths = torch.tensor([7, 3, 5, 1])
    logits = clf(ids, lengths)
    assert logits.shape == (4, 3)
    ids2 = ids.clone()
    ids2[1, 3:] = 0  # what sits in the padding does not matter
    assert torch.allclose(clf(ids2, lengths), logits, atol=1e-6)
    tagger = SequenceTagger(3, 8, 5, num_layers=2, cell="gru")
    assert tagger(torch.randn(2, 6, 3)).shape == (2, 6, 5)
