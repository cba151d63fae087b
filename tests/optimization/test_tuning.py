"""The MLP objective of the hpo experiment and the grid-vs-random toy."""

from __future__ import annotations

import pytest

from deepcourse.optimization.tuning import grid_vs_random, mlp_objective_factory, toy_bump

optuna = pytest.importorskip("optuna")


def test_grid_tries_fewer_distinct_values_of_the_important_parameter():
    toy = grid_vs_random(9, range(6))
    assert toy["grid_distinct_x"] == 3 and toy["random_distinct_x"] == 9
    assert toy["random_best_mean"] > toy["grid_best_mean"]
    assert toy_bump(0.63, 0.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="square"):
        grid_vs_random(8, range(1))


def test_objective_reports_each_epoch_and_keeps_the_test_accuracy_apart():
    objective, space = mlp_objective_factory("digits", epochs=2, batch_size=32, seed=0)
    assert set(space) == {"lr", "width", "depth", "dropout", "weight_decay"}
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=2)
    for t in study.trials:
        assert 0.0 <= t.value <= 1.0 and 0.0 <= t.user_attrs["test_acc"] <= 1.0
        assert sorted(t.intermediate_values) == [1, 2] and max(t.intermediate_values.values()) == t.value
    again = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    again.optimize(objective, n_trials=1)
    assert again.trials[0].value == study.trials[0].value  # a trial's seed is its number: re-runs agree
