"""Weisfeiler-Lehman subtree kernel (Shervashidze, Schweitzer, van Leeuwen, Mehlhorn & Borgwardt 2011, JMLR 12,
Sec. 3.1) with a support vector machine on the precomputed kernel.

Iteration ``k`` relabels every node by the pair (its label, the sorted multiset of its neighbours' labels),
compressed to a new integer shared by all graphs. The feature map counts every label of iterations
``0..h``; the kernel is the inner product :math:`k(G, G') = \\langle \\phi(G), \\phi(G') \\rangle`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["wl_labels", "wl_features", "wl_kernel", "wl_kernels", "normalise_kernel", "C_GRID", "WLSVM"]


def wl_labels(labels: Sequence[Sequence[int]], neighbours: Sequence[Sequence[Sequence[int]]],
              iterations: int) -> list[list[list[int]]]:
    """Node labels of every graph at iterations ``0..iterations``: ``out[k][g][v]``. ``labels[g][v]`` are the
    initial (integer) labels, ``neighbours[g][v]`` the neighbours of node ``v``. Compressed labels are
    numbered in order of first appearance, after the original labels (kept as ``("orig", l)`` keys)."""
    table: dict = {}

    def code(key) -> int:
        return table.setdefault(key, len(table))

    current = [[code(("orig", int(l))) for l in g] for g in labels]
    out = [current]
    for _ in range(iterations):
        current = [[code((lab[v], tuple(sorted(lab[u] for u in nb[v])))) for v in range(len(lab))]
                   for lab, nb in zip(current, neighbours)]
        out.append(current)
    return out


def _graph_lists(graphs) -> tuple[list[list[int]], list[list[list[int]]]]:
    labels, neighbours = [], []
    for d in graphs:
        n = int(d.num_nodes)
        labels.append(d.x.argmax(1).tolist() if d.x is not None and d.x.dim() == 2 else [0] * n)
        nb: list[list[int]] = [[] for _ in range(n)]
        for s, r in d.edge_index.T.tolist():
            nb[r].append(s)
        neighbours.append(nb)
    return labels, neighbours


def _counts(per_iter: list[list[list[int]]], n_graphs: int):
    import scipy.sparse as sp

    rows = [g for it in per_iter for g, lab in enumerate(it) for _ in lab]
    cols = [c for it in per_iter for lab in it for c in lab]
    n_labels = max(cols) + 1 if cols else 1
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_graphs, n_labels))


def wl_kernels(graphs, max_iterations: int) -> dict[int, np.ndarray]:
    """``{h: K_h}`` for ``h = 0..max_iterations`` from one relabelling pass (``K_h`` sums iterations ``0..h``)."""
    labels, neighbours = _graph_lists(graphs)
    per_iter = wl_labels(labels, neighbours, max_iterations)
    out, total = {}, np.zeros((len(graphs), len(graphs)))
    for h, it in enumerate(per_iter):
        phi = _counts([it], len(graphs))
        total = total + np.asarray((phi @ phi.T).todense(), dtype=np.float64)
        out[h] = total
    return out


def wl_features(graphs, iterations: int):
    """Sparse ``(n_graphs, n_labels)`` count matrix φ (scipy CSR) for PyG ``Data`` graphs: initial labels are
    ``x.argmax(1)`` (the one-hot TU node labels), neighbours follow ``edge_index`` (senders to receivers)."""
    labels, neighbours = _graph_lists(graphs)
    return _counts(wl_labels(labels, neighbours, iterations), len(graphs))


def wl_kernel(graphs, iterations: int) -> np.ndarray:
    """The WL subtree kernel matrix ``K = φ φᵀ`` (dense, ``(n_graphs, n_graphs)``)."""
    phi = wl_features(graphs, iterations)
    return np.asarray((phi @ phi.T).todense(), dtype=np.float64)


C_GRID = tuple(10.0 ** k for k in range(-3, 4))  # Shervashidze et al. 2011, Sec. 5.1: C in {1e-3, ..., 1e3}


def normalise_kernel(kernel: np.ndarray) -> np.ndarray:
    """:math:`k(G,G')/\\sqrt{k(G,G)k(G',G')}`: every graph has unit self-similarity."""
    d = np.sqrt(np.clip(np.diag(kernel), 1e-12, None))
    return kernel / d[:, None] / d[None, :]


class WLSVM:
    """C-SVM (scikit-learn ``SVC(kernel="precomputed")``, i.e. libsvm) on the WL kernel, normalised to unit
    self-similarity (as is usual for these benchmarks). ``fit_select`` picks the iteration count ``h`` and ``C``
    on a validation set."""

    def __init__(self, kernel: np.ndarray, normalise: bool = True):
        self.kernel = normalise_kernel(kernel) if normalise else kernel

    def score(self, train: np.ndarray, test: np.ndarray, y: np.ndarray, C: float) -> float:
        """Accuracy on ``test`` of the SVM trained on ``train`` (index arrays into the kernel)."""
        return self.scores(train, test, y, (C,))[0]

    def scores(self, train: np.ndarray, test: np.ndarray, y: np.ndarray, Cs: Sequence[float]) -> list[float]:
        """Accuracies on ``test`` of one SVM per ``C``, all trained on ``train`` (the kernel blocks sliced once)."""
        from sklearn.svm import SVC

        k_tr, k_te = self.kernel[np.ix_(train, train)], self.kernel[np.ix_(test, train)]
        out = []
        for C in Cs:
            svm = SVC(kernel="precomputed", C=C).fit(k_tr, y[train])
            out.append(float((svm.predict(k_te) == y[test]).mean()))
        return out

    @staticmethod
    def fit_select(kernels: dict[int, "np.ndarray | WLSVM"], y: np.ndarray, train: np.ndarray, val: np.ndarray,
                   test: np.ndarray, Cs: Sequence[float] = C_GRID,
                   hs: Sequence[int] | None = None) -> tuple[float, int, float]:
        """``(test accuracy, h, C)`` of the (h, C) with the best validation accuracy (ties: smaller h, C), refit
        on train + validation. ``kernels``: ``{h: K_h}`` (raw kernels or :class:`WLSVM` objects, which spares
        normalising them again for every split); ``hs``: the iteration counts to try (default: all given)."""
        models = {h: k if isinstance(k, WLSVM) else WLSVM(k) for h, k in kernels.items() if hs is None or h in hs}
        best = (-1.0, 0, 0.0)
        for h, model in sorted(models.items()):
            for C, acc in zip(Cs, model.scores(train, val, y, Cs)):
                if acc > best[0]:
                    best = (acc, h, C)
        _, h, C = best
        return models[h].score(np.concatenate([train, val]), test, y, C), h, C
