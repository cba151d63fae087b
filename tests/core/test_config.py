from __future__ import annotations

from dataclasses import dataclass

import pytest

from deepcourse.core.config import ConfigError, apply_overrides, config_to_dict, describe, param, validate


@dataclass
class Cfg:
    lr: float = param(0.1, gt=0, help="learning rate")
    epochs: int = param(3, ge=1)
    hidden: tuple[int, ...] = param((8, 8), ge=1)
    act: str = param("relu", choices=("relu", "tanh"))
    amp: bool = param(False)
    limit: int | None = param(None)


def test_overrides_parse_to_field_types():
    cfg = apply_overrides(Cfg(), ["lr=0.5", "epochs=7", "hidden=4,5,6", "act=tanh", "amp=true", "limit=10"])
    assert cfg == Cfg(lr=0.5, epochs=7, hidden=(4, 5, 6), act="tanh", amp=True, limit=10)
    assert apply_overrides(Cfg(limit=3), {"limit": "none"}).limit is None
    assert apply_overrides(Cfg(), {"epochs": "1e2"}).epochs == 100


@pytest.mark.parametrize(
    "override, message",
    [
        ("lr=-1", "lr must be > 0 (got -1.0)"),
        ("epochs=0", "epochs must be >= 1"),
        ("epochs=1.5", "epochs must be an integer (got '1.5')"),
        ("lr=fast", "lr must be a number (got 'fast')"),
        ("act=gelu", "act must be one of relu, tanh (got 'gelu')"),
        ("amp=maybe", "amp must be true or false"),
        ("hidden=4,0", "hidden must be >= 1"),
        ("nope=1", "unknown config key 'nope'; allowed keys: act, amp, epochs, hidden, limit, lr"),
        ("lr", "must look like key=value"),
    ],
)
def test_bad_overrides_name_field_value_and_rule(override, message):
    with pytest.raises(ConfigError) as e:
        apply_overrides(Cfg(), [override])
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_validate_catches_bad_defaults_and_types():
    with pytest.raises(ConfigError, match="lr must be > 0"):
        validate(Cfg(lr=0.0))
    with pytest.raises(ConfigError, match="epochs must be int"):
        validate(Cfg(epochs="3"))


def test_config_to_dict_and_describe():
    d = config_to_dict(Cfg())
    assert d["hidden"] == [8, 8] and d["limit"] is None
    rows = {r[0]: r for r in describe(Cfg())}
    assert "learning rate" in rows["lr"][3] and "> 0" in rows["lr"][3]
    assert "one of relu|tanh" in rows["act"][3]


@dataclass
class FloatCfg:
    lr: float = param(0.1, gt=0)
    weight_decay: float = param(0.0, ge=0)
    x: float = param(0.0)
    betas: tuple[float, ...] = param((0.9, 0.99))
    clip: float | None = param(None)
    temperature: float = param(1.0, finite=False, help="inf is allowed here")


@pytest.mark.parametrize("override", ["lr=inf", "weight_decay=inf", "x=nan", "x=-inf", "betas=0.9,nan",
                                      "clip=inf"])
def test_nan_and_inf_are_refused(override):
    key = override.split("=")[0]
    with pytest.raises(ConfigError, match=f"^{key} must be a finite number") as e:
        apply_overrides(FloatCfg(), [override])
    assert "\n" not in str(e.value)


def test_nan_and_inf_allowed_where_a_field_says_so():
    assert apply_overrides(FloatCfg(), ["temperature=inf"]).temperature == float("inf")
    with pytest.raises(ConfigError, match="x must be a finite number"):
        validate(FloatCfg(x=float("nan")))  # a default too


def test_a_key_given_twice_is_an_error():
    with pytest.raises(ConfigError, match=r"lr is given twice \(lr=0.1, lr=0.2\)"):
        apply_overrides(Cfg(), ["lr=0.1", "lr=0.2"])
    with pytest.raises(ConfigError, match="lr is given twice"):
        apply_overrides(Cfg(), [" lr=0.1", "lr =0.2"])
