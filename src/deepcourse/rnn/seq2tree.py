"""Program synthesis from descriptions: a bidirectional GRU reads the words, and either the doubly-recurrent
tree decoder (:class:`Seq2Tree`, SAPS of Bednarek et al. 2018) grows the program's tree, or an attentional
GRU decoder (:class:`AttentionSeq2Seq`, Bahdanau et al. 2015 / Luong et al. 2015, the notes' "attentional
seq2seq" baseline) writes its tokens.

Both models take the vocabulary at construction and turn :class:`~.programs_data.Sample` lists into tensors
with ``batch(samples)``; ``forward(*batch)`` gives the teacher-forced loss and ``synthesize(samples)`` the
greedy programs (a :class:`Node`, or ``None`` when the seq2seq tokens do not parse). :func:`train_synthesizer`
and :func:`evaluate_synthesizer` are the training loop (``core.fit``) and the two metrics: exact match
(the same program text) and functional correctness (right outputs on held-out inputs).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from deepcourse.core import GradClip, Run, TensorLoader, eval_mode, fit, register_model

from .programs_data import Sample, functionally_correct
from .programs_lang import Node, ProgramError, parse, to_text, to_tokens
from .seq2seq import greedy_decode
from .tree_decoder import DoublyRecurrentDecoder, FlatTrees, flatten_trees

__all__ = ["SentenceEncoder", "Seq2Tree", "AttentionSeq2Seq", "word_vocabulary", "train_synthesizer",
           "evaluate_synthesizer"]

PAD, UNK = "<pad>", "<unk>"


def word_vocabulary(samples: list[Sample]) -> list[str]:
    """The description words of ``samples``, sorted, after ``<pad>`` (id 0) and ``<unk>`` (id 1)."""
    return [PAD, UNK] + sorted({w for s in samples for w in s.description})


class SentenceEncoder(nn.Module):
    """Embedding and a one-layer bidirectional GRU over padded word ids (B, T) with lengths (B,). Returns the
    states (B, T, hidden) to attend to (hidden / 2 per direction), their mask (B, T) and the summary
    ``tanh(W [h_fwd_T; h_bwd_1])`` (B, hidden) the decoder starts from."""

    def __init__(self, vocab_size: int, hidden: int = 64, embed: int = 32):
        super().__init__()
        if hidden % 2:
            raise ValueError(f"hidden must be even (half per direction), got {hidden}")
        self.embed = nn.Embedding(vocab_size, embed, padding_idx=0)
        self.rnn = nn.GRU(embed, hidden // 2, batch_first=True, bidirectional=True)
        self.summary = nn.Linear(hidden, hidden)

    def forward(self, words: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if words.dim() != 2 or lengths.shape != words.shape[:1]:
            raise ValueError(f"words must be (B, T) and lengths (B,) (got {tuple(words.shape)}, "
                             f"{tuple(lengths.shape)})")
        packed = pack_padded_sequence(self.embed(words), lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h_n = self.rnn(packed)  # h_n: (2, B, hidden / 2)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=words.shape[1])  # (B, T, hidden)
        mask = torch.arange(words.shape[1])[None, :] < lengths[:, None]  # (B, T)
        return memory, mask, torch.tanh(self.summary(torch.cat([h_n[0], h_n[1]], -1)))


class _Synthesizer(nn.Module):
    """What both models share: the word vocabulary and the description encoder."""

    def __init__(self, words: list[str], hidden: int, embed: int):
        super().__init__()
        self.words = list(words)
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.encoder = SentenceEncoder(len(self.words), hidden, embed)

    def encode_words(self, samples: list[Sample]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded word ids (B, T) and lengths (B,); unknown words map to ``<unk>``."""
        ids = [[self.word_index.get(w, 1) for w in s.description] for s in samples]
        lengths = torch.tensor([len(x) for x in ids])
        words = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)  # (B, T)
        for i, x in enumerate(ids):
            words[i, :len(x)] = torch.tensor(x)
        return words, lengths


class Seq2Tree(_Synthesizer):
    """Description encoder + :class:`DoublyRecurrentDecoder` (``mode`` V, H or VH, with or without
    attention over the encoder states); ``labels`` is the tree label vocabulary."""

    def __init__(self, words: list[str], labels: list[str], hidden: int = 64, embed: int = 32, mode: str = "VH",
                 attention: bool = False):
        super().__init__(words, hidden, embed)
        self.labels = list(labels)
        self.label_index = {w: i for i, w in enumerate(self.labels)}
        self.decoder = DoublyRecurrentDecoder(len(self.labels), hidden, embed, mode, attention, hidden)

    def batch(self, samples: list[Sample]) -> tuple[torch.Tensor, torch.Tensor, FlatTrees]:
        return (*self.encode_words(samples), flatten_trees([s.tree for s in samples], self.label_index))

    def forward(self, words: torch.Tensor, lengths: torch.Tensor, trees: FlatTrees) -> dict[str, torch.Tensor]:
        memory, mask, init = self.encoder(words, lengths)
        return self.decoder.loss(init, trees, memory, mask)

    @torch.no_grad()
    def synthesize(self, samples: list[Sample], **limits: int) -> list[Node | None]:
        memory, mask, init = self.encoder(*self.encode_words(samples))
        return list(self.decoder.decode(init, self.labels, memory, mask, **limits))


class AttentionSeq2Seq(_Synthesizer):
    """The attentional seq2seq baseline: a GRU decoder over program tokens (``(``, ``)`` and the labels)
    whose input at each step is the previous token and the previous attentional state (input feeding,
    Luong et al. 2015): ``h_t = GRU([y_{t-1}; h~_{t-1}], h_{t-1})``, ``h~_t = tanh(W_c [h_t; c_t])``."""

    SOS, EOS = "<sos>", "<eos>"

    def __init__(self, words: list[str], labels: list[str], hidden: int = 64, embed: int = 32, max_len: int = 48):
        super().__init__(words, hidden, embed)
        self.tokens = [PAD, self.SOS, self.EOS, "(", ")"] + list(labels)
        self.token_index = {w: i for i, w in enumerate(self.tokens)}
        self.max_len = max_len
        self.tok_embed = nn.Embedding(len(self.tokens), embed)
        self.cell = nn.GRUCell(embed + hidden, hidden)
        self.score = nn.Linear(hidden, hidden, bias=False)
        self.combine = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, len(self.tokens))

    def batch(self, samples: list[Sample]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        seqs = [[self.token_index[t] for t in to_tokens(s.tree)] + [2] for s in samples]
        target = torch.zeros(len(seqs), max(map(len, seqs)), dtype=torch.long)  # (B, L), 0 = pad
        for i, x in enumerate(seqs):
            target[i, :len(x)] = torch.tensor(x)
        return (*self.encode_words(samples), target)

    def _step(self, tok: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        h, feed, memory, mask = state
        h = self.cell(torch.cat([self.tok_embed(tok), feed], -1), h)  # (B, hidden)
        scores = torch.einsum("btd,bd->bt", memory, self.score(h)).masked_fill(~mask, float("-inf"))
        ctx = torch.einsum("bt,btd->bd", scores.softmax(-1), memory)  # (B, hidden)
        feed = torch.tanh(self.combine(torch.cat([h, ctx], -1)))
        return self.out(feed).log_softmax(-1), (h, feed, memory, mask)

    def forward(self, words: torch.Tensor, lengths: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        memory, mask, h = self.encoder(words, lengths)
        state = (h, torch.zeros_like(h), memory, mask)
        tok = torch.full((len(target),), 1, dtype=torch.long)  # <sos>
        logps = []
        for t in range(target.shape[1]):  # teacher forcing: feed the true previous token
            logp, state = self._step(tok, state)
            logps.append(logp)
            tok = target[:, t]
        logp = torch.stack(logps, 1)  # (B, L, tokens)
        valid = target != 0
        loss = F.nll_loss(logp[valid], target[valid])
        acc = (logp.argmax(-1) == target)[valid].float().mean()
        return {"loss": loss, "token_acc": acc}

    @torch.no_grad()
    def synthesize(self, samples: list[Sample]) -> list[Node | None]:
        memory, mask, h = self.encoder(*self.encode_words(samples))
        ids, _ = greedy_decode(self._step, (h, torch.zeros_like(h), memory, mask), len(samples), 1, 2, self.max_len)
        out: list[Node | None] = []
        for row in ids.tolist():
            toks = [self.tokens[i] for i in row[:row.index(2)]] if 2 in row else None  # no <eos>: too long
            try:
                out.append(parse(toks) if toks and PAD not in toks and self.SOS not in toks else None)
            except ProgramError:
                out.append(None)
        return out


def train_synthesizer(model: _Synthesizer, train: list[Sample], run: Run, *, epochs: int, lr: float,
                      batch_size: int = 32, name: str = "model", clip: float = 5.0) -> list[dict]:
    """Adam on the teacher-forced loss over ``train`` for ``epochs``; each model of a comparison keeps its
    own checkpoint and log prefix (``name``). Returns the per-epoch history."""
    if not train:
        raise ValueError("no training samples")
    loader = TensorLoader(torch.arange(len(train)), batch_size=batch_size, seed=run.seed_for(f"order/{name}"))
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step(idx: torch.Tensor) -> dict[str, torch.Tensor]:
        model.train()
        return model(*model.batch([train[i] for i in idx.tolist()]))

    state = fit(step, loader, epochs=epochs, model=model, optimizer=opt, run=run, callbacks=[GradClip(clip)],
                desc=name, log_prefix=f"{name}/", checkpoint_path=Path(run.out) / f"checkpoint_{name}.pt")
    return state.history


def evaluate_synthesizer(model: _Synthesizer, samples: list[Sample],
                         batch_size: int = 256) -> tuple[dict[str, float], list[Node | None]]:
    """Exact match (%: the synthesised program's text equals the target's) and functional accuracy (%: it
    runs and gives the target's output on every held-out input), and the programs."""
    preds: list[Node | None] = []
    with eval_mode(model):
        for i in range(0, len(samples), batch_size):
            preds.extend(model.synthesize(samples[i:i + batch_size]))
    exact = sum(p is not None and to_text(p) == s.text for p, s in zip(preds, samples))
    functional = sum(functionally_correct(p, s) for p, s in zip(preds, samples))
    n = max(len(samples), 1)
    return {"exact": 100.0 * exact / n, "functional": 100.0 * functional / n}, preds


def _tiny_samples() -> list[Sample]:
    from .programs_data import make_splits

    return make_splits(10, seed=0).train[:4]


def _tiny(cls: type, **kw) -> _Synthesizer:
    from .programs_data import label_set

    return cls(word_vocabulary(_tiny_samples()), label_set(5), **kw)


@register_model("seq2tree", example_input=lambda: _tiny(Seq2Tree, hidden=8, embed=4).batch(_tiny_samples()),
                small={"hidden": 16, "embed": 8}, loss=lambda out: out["loss"])
def seq2tree(hidden: int = 64, embed: int = 32, mode: str = "VH", attention: bool = True) -> Seq2Tree:
    """SAPS VH Att on the generated programs' vocabulary (5 constants)."""
    return _tiny(Seq2Tree, hidden=hidden, embed=embed, mode=mode, attention=attention)


@register_model("attention-seq2seq", example_input=lambda: _tiny(AttentionSeq2Seq, hidden=8).batch(_tiny_samples()),
                small={"hidden": 16, "embed": 8}, loss=lambda out: out["loss"])
def attention_seq2seq(hidden: int = 64, embed: int = 32) -> AttentionSeq2Seq:
    """The attentional seq2seq baseline on the generated programs' vocabulary."""
    return _tiny(AttentionSeq2Seq, hidden=hidden, embed=embed)
