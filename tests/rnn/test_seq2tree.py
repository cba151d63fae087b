"""Tests for deepcourse.rnn.seq2tree (the description encoder, Seq2Tree, the attentional seq2seq baseline, the
training and evaluation helpers) and the tree2tree-synthesis experiment's table."""

from __future__ import annotations

import pytest
import torch

from deepcourse.core import Run
from deepcourse.core.registry import get
from deepcourse.rnn.programs_data import label_set, make_splits
from deepcourse.rnn.programs_lang import Node, to_text
from deepcourse.rnn.seq2tree import (AttentionSeq2Seq, SentenceEncoder, Seq2Tree, evaluate_synthesizer,
                                     train_synthesizer, word_vocabulary)

SPLITS = make_splits(30, seed=0, max_const=2, max_array_depth=1)
WORDS, LABELS = word_vocabulary(SPLITS.train), label_set(2)


def test_word_vocabulary_and_unknown_words():
    assert WORDS[:2] == ["<pad>", "<unk>"] and "a" in WORDS and "b" in WORDS
    m = Seq2Tree(WORDS, LABELS, 8, 4)
    s = SPLITS.test[0]
    unseen = type(s)(s.text, s.tree, s.description + ("zebra",), s.examples, s.tests)
    words, lengths = m.encode_words([s, unseen])
    n = len(s.description)
    assert words.shape == (2, n + 1) and lengths.tolist() == [n, n + 1]
    assert words[0, -1] == 0 and words[1, -1] == 1  # padding, then <unk>


def test_encoder_ignores_padding():
    torch.manual_seed(0)
    enc = SentenceEncoder(20, hidden=8, embed=4)
    words = torch.randint(2, 20, (3, 7))
    lengths = torch.tensor([7, 4, 2])
    memory, mask, summary = enc(words, lengths)
    assert memory.shape == (3, 7, 8) and mask.sum(1).tolist() == [7, 4, 2] and summary.shape == (3, 8)
    alone_mem, _, alone_sum = enc(words[1:2, :4], lengths[1:2])
    torch.testing.assert_close(memory[1, :4], alone_mem[0])
    torch.testing.assert_close(summary[1], alone_sum[0])
    with pytest.raises(ValueError, match=r"words must be \(B, T\)"):
        enc(words[0], lengths)
    with pytest.raises(ValueError, match="hidden must be even"):
        SentenceEncoder(20, hidden=7)


@pytest.mark.parametrize("cls", [Seq2Tree, AttentionSeq2Seq])
def test_loss_and_synthesis_shapes(cls):
    torch.manual_seed(0)
    m = cls(WORDS, LABELS, 16, 8)
    out = m(*m.batch(SPLITS.train[:5]))
    assert out["loss"].dim() == 0 and torch.isfinite(out["loss"])
    out["loss"].backward()
    assert all(p.grad is not None for p in m.parameters())
    progs = m.synthesize(SPLITS.test[:6])
    assert len(progs) == 6 and all(p is None or isinstance(p, Node) for p in progs)


def test_seq2seq_targets_are_program_tokens():
    m = AttentionSeq2Seq(WORDS, LABELS, 8, 4)
    _, _, target = m.batch(SPLITS.train[:2])
    first = [m.tokens[i] for i in target[0].tolist() if i]
    assert " ".join(first[:-1]).replace("( ", "(").replace(" )", ")") == SPLITS.train[0].text and first[-1] == "<eos>"


@pytest.mark.parametrize("arm", ["VH Att", "seq2seq"])
def test_training_memorises_a_few_programs(tmp_path, monkeypatch, arm):
    monkeypatch.setenv("DEEPCOURSE_TENSORBOARD", "0")
    samples = SPLITS.train[:4]
    torch.manual_seed(0)
    m = (AttentionSeq2Seq(WORDS, LABELS, 24, 12) if arm == "seq2seq"
         else Seq2Tree(WORDS, LABELS, 24, 12, "VH", attention=True))
    run = Run(tmp_path, progress=False)
    try:
        history = train_synthesizer(m, samples, run, epochs=40, lr=2e-2, batch_size=4, name="m")
    finally:
        run.close()
    assert history[-1]["train_loss"] < 0.2 * history[0]["train_loss"]
    metrics, preds = evaluate_synthesizer(m, samples)
    assert metrics["exact"] == 100.0 and metrics["functional"] == 100.0
    assert [to_text(p) for p in preds] == [s.text for s in samples]
    assert (tmp_path / "checkpoint_m.pt").exists()


def test_experiment_presets_and_table(run_tiny):
    exp = get("tree2tree-synthesis")
    assert exp.paper.values == {}  # AlgoLisp numbers are context: different data
    assert exp.config("full").arms == ("V", "V Att", "H", "H Att", "VH", "VH Att", "seq2seq")
    s, tables, _ = run_tiny("tree2tree-synthesis", "n_programs=40", "descriptions=1", "epochs=1", "hidden=8",
                            "embed=4", "arms=V,H Att,VH,VH Att,seq2seq", "examples=2", raise_errors=True)
    m = s["metrics"]
    assert m["exact_v"] == 0.0  # V cannot produce two different siblings
    assert {"functional_vh_att", "vh_minus_v", "h_minus_v", "attention_gain_vh", "exact_seq2seq"} <= set(m)
    rows = tables[0]["rows"]
    assert [r["model"] for r in rows] == ["SAPS V", "SAPS H Att", "SAPS VH", "SAPS VH Att", "Attentional Seq2Seq"]
    assert rows[-2]["AlgoLisp test exact % (paper)"] == 92.36 and "validation exact %" in rows[0]
    examples = tables[1]["rows"]
    assert len(examples) == 2 and {"description", "target", "VH Att program", "expected", "output"} <= set(examples[0])
