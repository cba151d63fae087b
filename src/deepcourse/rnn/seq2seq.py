"""Sequence to sequence: an RNN encoder reads the source, its final state starts an RNN decoder (Sutskever,
Vinyals & Le 2014, "Sequence to Sequence Learning with Neural Networks"; Cho et al. 2014).

Training uses teacher forcing: the decoder's input at step t is the true token t-1 (``<sos>`` first), so
one parallel pass over the target gives every step's logits. With ``teacher_forcing < 1`` each step instead
feeds the model's own previous prediction with probability ``1 - teacher_forcing`` (scheduled sampling,
Bengio et al. 2015).

Decoding: :func:`greedy_decode` takes the most likely token at every step; :func:`beam_search` keeps the
``beam`` most likely partial sequences (Sutskever et al. 2014, Sec. 3.2: a beam of 2 already helps). Both
take a ``step(tokens, state) -> (log_probs, state)`` function, so they work for any decoder, and beam width 1
is greedy decoding.
"""

from __future__ import annotations

import random
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from deepcourse.core import register_model

__all__ = ["Seq2Seq", "greedy_decode", "beam_search", "reorder_state"]

Step = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]


def reorder_state(state: Any, idx: torch.Tensor, dim: int = 1) -> Any:
    """``state`` (a tensor or nested tuple of tensors, batch on ``dim``: torch's RNN convention
    ``(layers, B, H)``) with its batch entries picked by ``idx``."""
    if isinstance(state, torch.Tensor):
        return state.index_select(dim, idx)
    return type(state)(reorder_state(s, idx, dim) for s in state)


def greedy_decode(step: Step, state: Any, batch: int, sos: int, eos: int, max_len: int) -> tuple[torch.Tensor,
                                                                                                  torch.Tensor]:
    """Most likely token at each step. Returns ids ``(B, max_len)`` (padded with ``eos`` after the first
    ``eos``) and the sequences' log-probabilities ``(B,)`` up to and including their ``eos``."""
    tok = torch.full((batch,), sos, dtype=torch.long)
    done = torch.zeros(batch, dtype=torch.bool)
    score = torch.zeros(batch)
    out = []
    for _ in range(max_len):
        logp, state = step(tok, state)
        best, tok = logp.max(-1)
        tok = torch.where(done, torch.full_like(tok, eos), tok)
        score = score + torch.where(done, torch.zeros_like(best), best)
        out.append(tok)
        done = done | (tok == eos)
        if bool(done.all()):
            break
    ids = torch.stack(out, 1)
    if ids.shape[1] < max_len:
        ids = F.pad(ids, (0, max_len - ids.shape[1]), value=eos)
    return ids, score


def beam_search(step: Step, state: Any, sos: int, eos: int, max_len: int, beam: int = 4, *,
                state_dim: int = 1, length_norm: float = 0.0) -> tuple[list[int], float]:
    """Beam search for ONE source (``state`` has batch size 1).

    At every step the live hypotheses' log-probabilities are extended by every token and the ``beam`` best
    candidates kept; a candidate that ends in ``eos`` is finished and leaves the beam (so the beam narrows, and
    width 1 is exactly greedy decoding). Hypotheses still live at ``max_len`` count as finished. The result
    is the finished hypothesis with the highest ``log p / len ** length_norm`` (0: plain log-likelihood).
    Returns its tokens (``eos`` excluded) and its log-probability.
    """
    if beam < 1:
        raise ValueError(f"beam must be >= 1, got {beam}")
    seqs: list[list[int]] = [[]]
    scores = torch.zeros(1)
    tok = torch.tensor([sos])
    finished: list[tuple[list[int], float]] = []
    width = beam
    for t in range(max_len):
        logp, state = step(tok, state)                      # (k, V)
        cand = (scores[:, None] + logp).reshape(-1)         # (k * V,)
        top = cand.topk(min(width, cand.numel()))
        vocab = logp.shape[-1]
        rows, toks = top.indices // vocab, top.indices % vocab
        keep = []
        for r, v, s in zip(rows.tolist(), toks.tolist(), top.values.tolist()):
            if v == eos or t == max_len - 1:
                finished.append((seqs[r] + ([] if v == eos else [v]), s))
            else:
                keep.append((r, v, s))
        width -= int((toks == eos).sum())
        if not keep or width <= 0:
            break
        idx = torch.tensor([r for r, _, _ in keep])
        seqs = [seqs[r] + [v] for r, v, _ in keep]
        scores = torch.tensor([s for _, _, s in keep])
        tok = torch.tensor([v for _, v, _ in keep])
        state = reorder_state(state, idx, state_dim)

    def key(item):
        seq, s = item
        return s / max(1, len(seq) + 1) ** length_norm

    best = max(finished, key=key)
    return best[0], float(best[1])


class Seq2Seq(nn.Module):
    """An LSTM (or GRU) encoder-decoder over token ids.

    vocab_size: shared by source and target (ids from :class:`deepcourse.data.sequence_tasks.SeqVocab`:
        ``pad`` 0, ``sos`` 1, ``eos`` 2). The encoder's final ``(h, c)`` is the decoder's initial state.
    """

    def __init__(self, vocab_size: int, hidden: int = 128, embed: int = 32, layers: int = 1, cell: str = "lstm",
                 dropout: float = 0.0, pad: int = 0, sos: int = 1, eos: int = 2):
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.pad, self.sos, self.eos = pad, sos, eos
        self.vocab_size = vocab_size
        self.src_embed = nn.Embedding(vocab_size, embed, padding_idx=pad)
        self.tgt_embed = nn.Embedding(vocab_size, embed, padding_idx=pad)
        drop = dropout if layers > 1 else 0.0
        self.encoder = rnn(embed, hidden, layers, batch_first=True, dropout=drop)
        self.decoder = rnn(embed, hidden, layers, batch_first=True, dropout=drop)
        self.out = nn.Linear(hidden, vocab_size)

    def _check(self, name: str, x: torch.Tensor) -> None:
        if x.dim() != 2 or x.dtype != torch.long:
            raise ValueError(f"{name} must be a LongTensor of shape (B, L), got {x.dtype} {tuple(x.shape)}")

    def encode(self, src: torch.Tensor, src_len: torch.Tensor | None = None) -> Any:
        """The encoder's final state for ``src`` ``(B, S)``; padded steps (beyond ``src_len``) are skipped."""
        self._check("src", src)
        emb = self.src_embed(src)
        if src_len is None:
            _, state = self.encoder(emb)
            return state
        if src_len.shape != (src.shape[0],):
            raise ValueError(f"src_len must have shape ({src.shape[0]},), got {tuple(src_len.shape)}")
        packed = pack_padded_sequence(emb, src_len.cpu().clamp(min=1), batch_first=True, enforce_sorted=False)
        _, state = self.encoder(packed)
        return state

    def step(self, tok: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """One decoder step: previous tokens ``(B,)`` -> log-probabilities ``(B, V)`` and the new state."""
        h, state = self.decoder(self.tgt_embed(tok)[:, None], state)
        return F.log_softmax(self.out(h[:, 0]), -1), state

    def forward(self, src: torch.Tensor, src_len: torch.Tensor | None, tgt: torch.Tensor,
                teacher_forcing: float = 1.0) -> torch.Tensor:
        """Logits ``(B, T, V)`` for predicting ``tgt`` ``(B, T)`` (which ends with ``eos``, then ``pad``).
        The decoder reads ``<sos>, tgt[:, :-1]`` (teacher forcing) or, per step with probability
        ``1 - teacher_forcing``, its own previous argmax."""
        self._check("tgt", tgt)
        state = self.encode(src, src_len)
        prev = torch.cat([torch.full_like(tgt[:, :1], self.sos), tgt[:, :-1]], 1)
        if teacher_forcing >= 1.0:
            h, _ = self.decoder(self.tgt_embed(prev), state)
            return self.out(h)
        logits, tok = [], prev[:, 0]
        for t in range(tgt.shape[1]):
            h, state = self.decoder(self.tgt_embed(tok)[:, None], state)
            logits.append(self.out(h[:, 0]))
            if t + 1 < tgt.shape[1]:
                tok = prev[:, t + 1] if random.random() < teacher_forcing else logits[-1].argmax(-1).detach()
        return torch.stack(logits, 1)

    def loss(self, src: torch.Tensor, src_len: torch.Tensor | None, tgt: torch.Tensor,
             teacher_forcing: float = 1.0) -> torch.Tensor:
        """Mean cross-entropy per target token (``pad`` ignored)."""
        logits = self(src, src_len, tgt, teacher_forcing)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=self.pad)

    @torch.no_grad()
    def sequence_logprob(self, src: torch.Tensor, src_len: torch.Tensor | None, tgt: torch.Tensor) -> torch.Tensor:
        """log p(tgt | src) ``(B,)``, summed over the target's tokens up to its ``eos`` (pads excluded)."""
        logp = F.log_softmax(self(src, src_len, tgt), -1).gather(-1, tgt[..., None])[..., 0]
        return (logp * (tgt != self.pad)).sum(1)

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, src_len: torch.Tensor | None = None, max_len: int = 10) -> torch.Tensor:
        """Greedy decoding: ids ``(B, max_len)``, ``eos`` after the end of each sequence."""
        state = self.encode(src, src_len)
        return greedy_decode(self.step, state, src.shape[0], self.sos, self.eos, max_len)[0]

    @torch.no_grad()
    def beam(self, src: torch.Tensor, src_len: torch.Tensor | None = None, max_len: int = 10,
             beam: int = 4, length_norm: float = 0.0) -> list[list[int]]:
        """Beam search for each source in the batch (one at a time); lists of token ids without ``eos``."""
        out = []
        for i in range(src.shape[0]):
            s = src[i:i + 1] if src_len is None else src[i:i + 1, :int(src_len[i])]
            state = self.encode(s)
            out.append(beam_search(self.step, state, self.sos, self.eos, max_len, beam, length_norm=length_norm)[0])
        return out


def _example() -> tuple[torch.Tensor, None, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randint(3, 14, (2, 7), generator=g), None, torch.randint(3, 14, (2, 5), generator=g)


register_model("seq2seq", example_input=_example, small={"vocab_size": 14, "hidden": 16, "embed": 8})(Seq2Seq)
