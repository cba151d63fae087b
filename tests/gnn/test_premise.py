"""Tests of the proof-guidance pipeline: two GNN embedders, the combiner over [a, b, a*b], tactic and premise heads."""

from __future__ import annotations

import pytest
import torch

from deepcourse.gnn.formula_graphs import REPRESENTATIONS
from deepcourse.gnn.formulas import TACTICS, formula_splits
from deepcourse.gnn.premise import PremiseSelector, ProblemLoader, evaluate_selector, problem_graphs, train_selector


@pytest.fixture(autouse=True)
def one_thread():
    """These models are tiny: on a busy machine, one intra-op thread is much faster than several."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def splits():
    s = formula_splits(48, 16, 16, seed=0)
    tr, vocab = problem_graphs(s["train"], REPRESENTATIONS["subexpr"])
    va, _ = problem_graphs(s["val"], REPRESENTATIONS["subexpr"], vocab)
    return tr, va, vocab


def small(vocab, **kw):
    torch.manual_seed(0)
    return PremiseSelector(len(vocab), **{"hidden": 16, "hops": 2, "expand": 32, "combiner": 32, **kw})


def test_shapes_and_pairing(splits):
    tr, _, vocab = splits
    m = small(vocab)
    goals, prem, pair, tac, rel = next(iter(ProblemLoader(tr, 8)))
    assert goals.num_graphs == 8 and prem.num_graphs == 16 and pair.tolist() == [i // 2 for i in range(16)]
    tl, pl = m(goals, prem, pair)
    assert tl.shape == (8, len(TACTICS)) and pl.shape == (16,)
    # the premise logit depends on its own goal only: embed goal 3 and its premises alone
    one_goal = next(iter(ProblemLoader(tr, 1)))
    with torch.no_grad():
        full = m(goals, prem, pair)[1][:2]
        alone = m(*one_goal[:3])[1]
    torch.testing.assert_close(full, alone)
    with pytest.raises(ValueError, match="pair_goal"):
        m(goals, prem)
    with pytest.raises(ValueError, match=r"\(P, d\)"):
        m.score(torch.zeros(3, 32), torch.zeros(2, 32))


def test_separate_embedders_and_combiner_input(splits):
    tr, _, vocab = splits
    m = small(vocab)
    assert m.goal_gnn.token.weight.data_ptr() != m.premise_gnn.token.weight.data_ptr()
    assert m.combiner[0].in_features == 3 * 32 and sum(isinstance(x, torch.nn.Linear) for x in m.combiner) == 3
    a, b = torch.randn(4, 32), torch.randn(4, 32)
    h = torch.cat([a, b, a * b], 1)
    torch.testing.assert_close(m.score(a, b), m.combiner(h).squeeze(1))


def test_loader_shuffles_with_its_generator_and_covers_every_goal(splits):
    tr = splits[0]
    seen = [t for batch in ProblemLoader(tr, 10, torch.Generator().manual_seed(0)) for t in batch[3].tolist()]
    assert sorted(seen) == sorted(tr.tactics.tolist())
    assert len(ProblemLoader(tr, 10)) == 5


def test_training_improves_on_the_training_set(splits):
    tr, va, vocab = splits
    m = small(vocab)
    before = evaluate_selector(m, tr)
    res = train_selector(m, tr, va, epochs=8, lr=3e-3, batch_size=8, generator=torch.Generator().manual_seed(0))
    after = evaluate_selector(m, tr)
    assert 1 <= res["best_epoch"] <= 8 and res["steps"] == 8 * 6
    assert after["premise_auc"] + after["tactic_acc"] > before["premise_auc"] + before["tactic_acc"] + 0.1
