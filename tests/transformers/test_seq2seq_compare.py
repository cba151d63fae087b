"""seq2seq-transformer's comparison with the RNN module's LSTM seq2seq: the same held-out sums as
seq2seq-addition, a baseline of the same parameter count trained on the same batches, the encoder ablation."""

from __future__ import annotations

import pytest
import torch

from deepcourse.core import count_parameters
from deepcourse.data.sequence_tasks import ADDITION_CHARS, SeqVocab, addition_pairs, disjoint_splits
from deepcourse.rnn import Seq2Seq
from deepcourse.transformers import Seq2SeqTransformer
from deepcourse.transformers.experiments.seq2seq_transformer import (Seq2SeqConfig, make_task, matched_seq2seq,
                                                                     zero_encoder)


def test_addition_holds_out_seq2seq_additions_sums():
    cfg = Seq2SeqConfig(train=500, test=50, digits=2)
    pairs, vocab = make_task(cfg, "addition")
    # seq2seq-addition draws its splits this way (generator seed 0, the test split first)
    ref = disjoint_splits(addition_pairs, {"test": 50, "train": 500}, torch.Generator().manual_seed(0), digits=2)
    assert pairs == ref and vocab.chars == SeqVocab(ADDITION_CHARS).chars
    assert not {s for s, _ in pairs["train"]} & {s for s, _ in pairs["test"]}
    assert all(str(eval(s)) == t for s, t in pairs["test"])


def test_reverse_split_is_disjoint_and_reversed():
    pairs, _ = make_task(Seq2SeqConfig(train=300, test=40, max_len=6), "reverse")
    assert not {s for s, _ in pairs["train"]} & {s for s, _ in pairs["test"]}
    assert all(t == s[::-1] and 1 <= len(s) <= 6 for s, t in pairs["train"])


@pytest.mark.parametrize("dim,layers,hidden", [(64, 2, 128), (128, 3, 512)])
def test_matched_seq2seq_has_the_transformers_parameter_count(dim, layers, hidden):
    t = Seq2SeqTransformer(14, 14, dim, 4, layers, layers, hidden)
    target = count_parameters(t)
    rnn = matched_seq2seq(target, 14, 32)
    assert isinstance(rnn, Seq2Seq)
    assert abs(count_parameters(rnn) - target) / target < 0.01


def test_zeroed_encoder_makes_the_output_ignore_the_source():
    torch.manual_seed(0)
    src = torch.randint(3, 14, (2, 6))
    other = torch.randint(3, 14, (2, 6))
    tgt = torch.randint(3, 14, (2, 4))
    t = Seq2SeqTransformer(14, 14, 16, 2, 1, 1, 32, dropout=0.0).eval()
    r = Seq2Seq(14, hidden=16, embed=8).eval()
    assert not torch.allclose(t(src, tgt), t(other, tgt))
    assert not torch.allclose(r(src, None, tgt), r(other, None, tgt))
    zero_encoder(t)
    zero_encoder(r)
    assert torch.allclose(t(src, tgt), t(other, tgt))
    assert torch.allclose(r(src, None, tgt), r(other, None, tgt))
    lens = torch.tensor([6, 3])
    assert torch.allclose(r(src, lens, tgt), r(other, lens, tgt))  # packed sequences too


def test_table_compares_both_models_on_both_tasks(run_tiny):
    s, tables, _ = run_tiny("seq2seq-transformer", "tasks=reverse,addition", "train=200", "test=20", "max_len=4",
                            "digits=2", "dim=16", "heads=2", "layers=1", "hidden=32", "epochs=1", "batch_size=50")
    assert s["status"] in ("passed", "failed"), s.get("reason")
    rows = tables[0]["rows"]
    assert [(r["task"].split()[0], r["model"].split()[0]) for r in rows] == [
        ("reverse", "Transformer"), ("reverse", "LSTM"), ("addition", "Transformer"), ("addition", "LSTM")]
    for a, b in (rows[0:2], rows[2:4]):
        assert a["steps"] == b["steps"] == 4
        assert abs(a["params"] - b["params"]) / a["params"] < 0.05
    m = s["metrics"]
    for task in ("reverse", "addition"):
        assert 0 <= m[f"{task}_exact"] <= 1 and 0 <= m[f"rnn_{task}_exact"] <= 1
        assert m[f"{task}_transformer_minus_rnn"] == pytest.approx(m[f"{task}_exact"] - m[f"rnn_{task}_exact"])
