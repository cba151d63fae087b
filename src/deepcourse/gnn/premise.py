"""The notes' proof-guidance pipeline (Paliwal et al. 2020, Fig. 3; Bansal et al. 2019): two message-passing GNNs
of the same architecture but separate weights embed goals and premises; a tactic classifier reads the goal
embedding; a combiner network scores each (goal, premise) pair from ``[a, b, a * b]`` with three dense layers;
training minimises :func:`~deepcourse.gnn.losses.proof_step_loss` (two cross-entropies and the AUC loss).

Premise embeddings do not depend on the goal, so in a prover they are computed once, off-line, and only the
combiner runs for every (goal, premise) pair; :meth:`PremiseSelector.forward` takes ``pair_goal`` (the goal
index of each premise) for the same reason: each goal is embedded once per batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import copy
from dataclasses import dataclass

import torch
from torch import Tensor, nn
if TYPE_CHECKING:  # PyG is imported where it is used: importing it costs every CLI call ~2 s
    from torch_geometric.data import Data

from deepcourse.core import Evaluate, eval_mode, fit, register_model

from .formula_graphs import GraphOptions, Vocabulary, formula_graph, to_data
from .formulas import FormulaProblem
from .hol import TACTICS
from .losses import pairwise_auc, proof_step_loss
from .paliwal import PaliwalGNN

__all__ = ["PremiseSelector", "ProblemGraphs", "problem_graphs", "ProblemLoader", "evaluate_selector",
           "train_selector"]


def _example_pair():
    from torch_geometric.data import Batch, Data

    g = Data(x=torch.tensor([1, 2, 3]), edge_index=torch.tensor([[0, 0, 1, 2], [1, 2, 0, 0]]),
             edge_attr=torch.tensor([0, 0, 1, 1]))
    p = Data(x=torch.tensor([4, 2]), edge_index=torch.tensor([[0, 1], [1, 0]]), edge_attr=torch.tensor([0, 1]))
    return Batch.from_data_list([g, g]), Batch.from_data_list([p, p, p]), torch.tensor([0, 1, 1])


@register_model("premise-selector", example_input=_example_pair,
                small={"vocab_size": 6, "hidden": 8, "hops": 1, "expand": 16, "combiner": 16})
class PremiseSelector(nn.Module):
    """``model(goals, premises, pair_goal)`` -> ``(tactic_logits (G, n_tactics), premise_logits (P,))``.

    ``goals``, ``premises``: PyG batches of G goal and P premise graphs; ``pair_goal`` (P,): the goal of each
    premise (default: premise i goes with goal i, P == G)."""

    def __init__(self, vocab_size: int, hidden: int = 128, hops: int = 12, expand: int = 1024,
                 combiner: int = 1024, n_tactics: int = len(TACTICS), neighbour_counts: bool = False):
        super().__init__()
        self.goal_gnn = PaliwalGNN(vocab_size, hidden, hops, expand, neighbour_counts)  # GNN-1
        self.premise_gnn = PaliwalGNN(vocab_size, hidden, hops, expand, neighbour_counts)  # GNN-2
        self.tactic_head = nn.Linear(expand, n_tactics)
        self.combiner = nn.Sequential(  # over [a, b, a * b]: three dense layers, the last gives the logit
            nn.Linear(3 * expand, combiner), nn.ReLU(), nn.Linear(combiner, combiner), nn.ReLU(),
            nn.Linear(combiner, 1))

    def score(self, a: Tensor, b: Tensor) -> Tensor:
        """Premise logits (P,) from goal embeddings ``a`` and premise embeddings ``b``, both (P, expand)."""
        if a.shape != b.shape or a.dim() != 2:
            raise ValueError(f"goal and premise embeddings must both be (P, d), got {tuple(a.shape)} and "
                             f"{tuple(b.shape)}")
        return self.combiner(torch.cat([a, b, a * b], dim=1)).squeeze(1)

    def forward(self, goals: Data, premises: Data, pair_goal: Tensor | None = None) -> tuple[Tensor, Tensor]:
        a, b = self.goal_gnn(goals), self.premise_gnn(premises)
        if pair_goal is None:
            if len(a) != len(b):
                raise ValueError(f"{len(a)} goals and {len(b)} premises: pass pair_goal (P,) to pair them")
            pair_goal = torch.arange(len(a))
        if pair_goal.shape != (len(b),):
            raise ValueError(f"pair_goal must be (P,) = ({len(b)},), got {tuple(pair_goal.shape)}")
        return self.tactic_head(a), self.score(a[pair_goal], b)


@dataclass
class ProblemGraphs:
    """A split as tensors: goal graphs, premise graphs (``per_goal`` per goal, in order), labels."""

    goals: list[Data]
    premises: list[Data]
    tactics: Tensor  # (G,)
    relevant: Tensor  # (G * per_goal,)
    per_goal: int

    def __len__(self) -> int:
        return len(self.goals)


def problem_graphs(problems: list[FormulaProblem], options: GraphOptions, vocab: Vocabulary | None = None,
                   seed: int = 0) -> tuple[ProblemGraphs, Vocabulary]:
    """Convert a split to graphs under one representation; build the vocabulary when none is given (train)."""
    if not problems:
        raise ValueError("no problems to convert")
    per_goal = len(problems[0].premises)
    gg = [formula_graph(p.goal, options, seed + 2 * i) for i, p in enumerate(problems)]
    pg = [formula_graph(q, options, seed + 2 * i + 1) for i, p in enumerate(problems) for q in p.premises]
    if vocab is None:
        vocab = Vocabulary(t for g in gg + pg for t in g.labels)
    out = ProblemGraphs([to_data(g, vocab) for g in gg], [to_data(g, vocab) for g in pg],
                        torch.tensor([p.tactic for p in problems]),
                        torch.tensor([r for p in problems for r in p.relevant], dtype=torch.float32), per_goal)
    return out, vocab


class ProblemLoader:
    """Batches of ``batch_size`` goals with their premises: ``(goals, premises, pair_goal, tactics, relevant)``;
    shuffled from ``generator`` each epoch when one is given."""

    def __init__(self, data: ProblemGraphs, batch_size: int, generator: torch.Generator | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.data, self.batch_size, self.generator = data, batch_size, generator

    def __len__(self) -> int:
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        from torch_geometric.data import Batch

        d, k = self.data, self.data.per_goal
        order = torch.randperm(len(d), generator=self.generator) if self.generator is not None else torch.arange(len(d))
        for i in range(0, len(d), self.batch_size):
            idx = order[i:i + self.batch_size]
            pidx = (idx[:, None] * k + torch.arange(k)).reshape(-1)
            yield (Batch.from_data_list([d.goals[j] for j in idx.tolist()]),
                   Batch.from_data_list([d.premises[j] for j in pidx.tolist()]),
                   torch.arange(len(idx)).repeat_interleave(k), d.tactics[idx], d.relevant[pidx])


def evaluate_selector(model: PremiseSelector, data: ProblemGraphs, batch_size: int = 256) -> dict[str, float]:
    """``tactic_acc`` (top-1) and ``premise_auc`` (ROC AUC over all pairs of the split)."""
    correct, scores = 0, []
    with eval_mode(model):
        for goals, prem, pair, tac, _ in ProblemLoader(data, batch_size):
            tl, pl = model(goals, prem, pair)
            correct += int((tl.argmax(1) == tac).sum())
            scores.append(pl)
    return {"tactic_acc": correct / len(data), "premise_auc": pairwise_auc(torch.cat(scores), data.relevant)}


def train_selector(model: PremiseSelector, train: ProblemGraphs, val: ProblemGraphs, *, epochs: int, lr: float,
                   batch_size: int, generator: torch.Generator,
                   weights: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> dict[str, float]:
    """Adam on :func:`proof_step_loss`; keeps the weights of the epoch with the best validation
    ``(tactic_acc + premise_auc) / 2``. Returns the best validation metrics and ``best_epoch``."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loader = ProblemLoader(train, batch_size, generator)
    best: dict = {}
    epoch = [0]

    def step(batch):
        goals, prem, pair, tac, rel = batch
        tl, pl = model(goals, prem, pair)
        return proof_step_loss(tl, tac, pl, rel, weights)

    def validate():
        epoch[0] += 1
        m = evaluate_selector(model, val)
        m["score"] = (m["tactic_acc"] + m["premise_auc"]) / 2
        if not best or m["score"] > best["score"]:
            best.update(m, best_epoch=epoch[0], state=copy.deepcopy(model.state_dict()))
        return m

    state = fit(step, loader, epochs=epochs, model=model, optimizer=opt, callbacks=[Evaluate(validate)])
    if best:
        model.load_state_dict(best.pop("state"))
    return {**{k: float(v) for k, v in best.items()}, "steps": float(state.step)}
