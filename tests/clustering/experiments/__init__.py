"""Tests of the module 5 experiments; ``tiny()`` gives overrides small enough for a unit test (embedded digits)."""

TINY_SDAE = {"dataset": "digits", "hidden": "16,16", "embed": 5, "pretrain_epochs": 1, "finetune_epochs": 2,
             "ae_batch": 64, "max_iter": 20, "update_interval": 10, "n_init": 2, "raw_n_init": 2}


def tiny(**changes) -> list[str]:
    """``key=value`` overrides: the tiny SDAE and DEC settings, then ``changes`` (which win)."""
    return [f"{k}={v}" for k, v in {**TINY_SDAE, **changes}.items()]
