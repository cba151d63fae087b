"""The lottery-ticket summary: per-round means over trials, ticket-minus-control, the round nearest 20 %."""

from __future__ import annotations

import pytest

from deepcourse.optimization.lottery import LotteryRound, TrainResult
from deepcourse.optimization.lottery_study import lottery_figure, lottery_summary


def _res(acc, stop):
    return TrainResult(early_stop_iter=stop, test_acc=acc, val_loss=0.1, val_acc=acc, final_test_acc=acc)


def _trial(shift):
    return [LotteryRound(0, 1.0, _res(0.90 + shift, 100), None),
            LotteryRound(1, 0.4, _res(0.91 + shift, 80), _res(0.89 + shift, 100)),
            LotteryRound(2, 0.16, _res(0.90 + shift, 60), _res(0.86 + shift, 90))]


def test_summary_averages_trials():
    rows, m = lottery_summary([_trial(0.0), _trial(0.02)])
    assert [r["weights remaining"] for r in rows] == ["100.0%", "40.0%", "16.0%"]
    assert m["dense_acc"] == pytest.approx(0.91)
    assert m["mean_ticket_minus_control"] == pytest.approx(0.03)
    assert m["mean_control_over_ticket_stop_iter"] == pytest.approx((100 / 80 + 90 / 60) / 2)
    assert m["remaining_near_20"] == 0.16 and m["ticket_minus_dense_near_20"] == pytest.approx(-0.0)
    assert m["ticket_minus_control_sparsest"] == pytest.approx(0.04)
    assert m["smallest_matching_remaining"] == 0.16
    assert rows[0]["control test acc"] == "-" and rows[2]["ticket test acc"] == "0.9100 ± 0.0100"
    assert lottery_figure([_trial(0.0)], "t").axes
