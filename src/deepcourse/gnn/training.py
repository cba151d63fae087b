"""Training graph-level models on lists of PyG graphs with :func:`deepcourse.core.fit`: mini-batches from PyG's
``DataLoader``, validation and test scored after every epoch (one pre-collated batch each), the epoch chosen
on validation, or the whole test curve returned for protocols that choose the epoch across folds (Xu et al.
2019's 10-fold cross-validation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch
from torch import nn

from deepcourse.core import Evaluate, fit

__all__ = ["GraphFit", "train_graph_model", "train_node_model", "graph_forward", "graph_loader"]


def graph_forward(model: nn.Module, batch) -> torch.Tensor:
    """``model(x, edge_index, batch[, edge_attr])``: models with ``takes_edge_attr`` also get the bond features."""
    if getattr(model, "takes_edge_attr", False):
        return model(batch.x, batch.edge_index, batch.batch, edge_attr=getattr(batch, "edge_attr", None))
    return model(batch.x, batch.edge_index, batch.batch)


def graph_loader(graphs: Sequence, batch_size: int, shuffle: bool, generator: torch.Generator | None = None):
    from torch_geometric.loader import DataLoader

    return DataLoader(list(graphs), batch_size=batch_size, shuffle=shuffle, generator=generator)


@dataclass
class GraphFit:
    """What :func:`train_graph_model` returns: test metric at the chosen epoch, that epoch (1-based), and the
    per-epoch validation and test curves."""

    test: float
    val: float
    epoch: int
    val_curve: list[float] = field(default_factory=list)
    test_curve: list[float] = field(default_factory=list)


def _score(model: nn.Module, batch, task: str, y_scale: float) -> float:
    out = graph_forward(model, batch)
    if task == "classification":
        return float((out.argmax(1) == batch.y.view(-1)).float().mean())
    return float(((out - batch.y.view(out.shape)) ** 2).mean().sqrt()) * y_scale  # RMSE in target units


def train_graph_model(model: nn.Module, train: Sequence, val: Sequence | None, test: Sequence, *, task: str,
                      epochs: int, lr: float, batch_size: int = 32, weight_decay: float = 0.0,
                      lr_step: int | None = None, generator: torch.Generator | None = None,
                      y_scale: float = 1.0) -> GraphFit:
    """Adam on cross-entropy (``task="classification"``) or MSE (``"regression"``; targets standardised by the
    caller, ``y_scale`` turns RMSE back into target units). ``lr_step``: halve the rate every that many epochs
    (Xu et al.: every 50). Without ``val`` the last epoch is reported."""
    from torch_geometric.data import Batch

    if task not in ("classification", "regression"):
        raise ValueError(f"task must be classification or regression, got {task!r}")
    loader = graph_loader(train, batch_size, True, generator)
    val_b = Batch.from_data_list(list(val)) if val else None
    test_b = Batch.from_data_list(list(test))
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, lr_step, 0.5) if lr_step else None
    loss_fn = nn.functional.cross_entropy if task == "classification" else nn.functional.mse_loss

    def step(b):
        out = graph_forward(model, b)
        target = b.y.view(-1) if task == "classification" else b.y.view(out.shape)
        return {"loss": loss_fn(out, target)}

    def evaluate():
        return {"val": _score(model, val_b, task, y_scale) if val_b is not None else float("nan"),
                "test": _score(model, test_b, task, y_scale)}

    state = fit(step, loader, epochs=epochs, model=model, optimizer=opt, scheduler=sched,
                callbacks=[Evaluate(evaluate, prefix="")])
    vals = [r["val"] for r in state.history]
    tests = [r["test"] for r in state.history]
    if val_b is None:
        k = len(tests) - 1
    else:
        better = max if task == "classification" else min
        k = vals.index(better(vals))
    return GraphFit(test=tests[k], val=vals[k], epoch=k + 1, val_curve=vals, test_curve=tests)


def train_node_model(model: nn.Module, data, *, epochs: int, lr: float, weight_decay: float = 5e-4,
                     patience: int | None = None) -> GraphFit:
    """Full-batch transductive training on one graph with ``train_mask`` / ``val_mask`` / ``test_mask``
    (Kipf & Welling 2017, Sec. 5.3): Adam on the training nodes' cross-entropy; the reported epoch has the best
    validation accuracy (ties: the lower validation loss); ``patience``: stop when the validation loss has not
    improved for that many epochs (their window of 10)."""
    from deepcourse.core import EarlyStopping

    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)

    def step(d):
        out = model(d.x, d.edge_index)
        return {"loss": nn.functional.cross_entropy(out[d.train_mask], d.y[d.train_mask])}

    def evaluate():
        out = model(data.x, data.edge_index)
        acc = {k: float((out[m].argmax(1) == data.y[m]).float().mean()) for k, m in
               (("val", data.val_mask), ("test", data.test_mask))}
        return {**acc, "val_loss": float(nn.functional.cross_entropy(out[data.val_mask], data.y[data.val_mask]))}

    callbacks = [Evaluate(evaluate, prefix="")]
    if patience:
        callbacks.append(EarlyStopping("val_loss", "min", patience=patience, restore_best=False))
    state = fit(step, [data], epochs=epochs, model=model, optimizer=opt, callbacks=callbacks)
    h = state.history
    k = max(range(len(h)), key=lambda i: (h[i]["val"], -h[i]["val_loss"]))
    return GraphFit(test=h[k]["test"], val=h[k]["val"], epoch=k + 1, val_curve=[r["val"] for r in h],
                    test_curve=[r["test"] for r in h])
