"""char-gpt-shakespeare's char-LSTM baseline: sized to the GPT's parameter count, trained and scored the same
way, reported beside the GPT in one table."""

from __future__ import annotations

import math

import pytest
import torch

from deepcourse.core import count_parameters
from deepcourse.transformers import GPT
from deepcourse.transformers.experiments.char_gpt import LogitsOnly, matched_char_lstm


@pytest.mark.parametrize("layers", [1, 2])
def test_matched_char_lstm_has_the_gpts_parameter_count(layers):
    gpt = GPT(65, 64, n_layer=4, n_head=4, n_embd=128)
    target = count_parameters(gpt)
    lstm = matched_char_lstm(target, 65, layers, 64)
    got = count_parameters(lstm)
    assert lstm.rnn.num_layers == layers
    # one more hidden unit changes the count by about 8 * hidden (+ more per extra layer): within that step
    assert abs(got - target) <= 16 * layers * lstm.rnn.hidden_size
    assert abs(got - target) / target < 0.01
    assert count_parameters(LogitsOnly(lstm)) == got


def test_logits_only_is_charlm_logits_from_a_zero_state():
    lm = matched_char_lstm(5000, 11, 1, 8)
    x = torch.randint(0, 11, (3, 7))
    assert torch.equal(LogitsOnly(lm)(x), lm(x)[0])


def test_full_preset_trains_the_rnn_and_quick_does_not():
    from deepcourse.core.registry import get

    exp = get("char-gpt-shakespeare")
    assert exp.full.rnn and not exp.quick.rnn


def test_table_has_gpt_and_rnn_rows(run_tiny, data_root):
    s, tables, _ = run_tiny("char-gpt-shakespeare", "rnn=true", "iters=30", "eval_batches=3", "sample_chars=0",
                            data_root=data_root)
    assert s["status"] in ("passed", "failed"), s.get("reason")
    m = s["metrics"]
    rows = tables[0]["rows"]
    assert rows[0]["model"].startswith("GPT") and rows[1]["model"].startswith("char-LSTM")
    assert rows[0]["params"] == m["gpt_params"] and rows[1]["params"] == m["rnn_params"]
    assert abs(m["rnn_params"] - m["gpt_params"]) / m["gpt_params"] < 0.02
    assert math.isfinite(m["rnn_val_loss"]) and m["rnn_val_loss"] < math.log(65) + 0.5
    assert m["gpt_minus_rnn_val"] == pytest.approx(m["val_loss"] - m["rnn_val_loss"])
    assert rows[1]["val loss"] == pytest.approx(m["rnn_val_loss"])
