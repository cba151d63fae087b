"""The doubly-recurrent tree decoder (Alvarez-Melis & Jaakkola 2017, "Tree-structured decoding with doubly-
recurrent neural networks") with the state choices of SAPS (Bednarek, Piaskowski & Krawiec 2018).

A tree is generated top-down. Node i has a parent p(i) and, unless it is a first child, a previous sibling
s(i). Two recurrences carry information to it:

* the ancestral (vertical) RNN, along the path from the root: ``a_i = g_a(a_{p(i)}, x_{p(i)})``;
* the fraternal (horizontal) RNN, along the siblings: ``f_i = g_f(f_{s(i)}, x_{s(i)})``,

where ``x_j = [e(label_j); h~_j]`` is the embedding of node j's label (a ``<root>`` embedding where there is no
such node) beside j's output state h~_j (below; "input feeding", Luong et al. 2015, so what j attended to
reaches its successors). ``g_a`` and ``g_f`` are GRU cells here (SAPS uses LSTMs). The predictive state is
``h_i = tanh(U_a a_i + U_f f_i)``; with attention (SAPS "Att") it becomes
``h~_i = tanh(W_c [h_i; c_i])`` with ``c_i`` the attention-weighted encoder states, ``softmax_t(h_i^T W m_t)``
(Luong et al. 2015's "general" score). From it the decoder predicts

* the topology: ``p^a_i = sigmoid(u_a . h~_i)`` (node i has children) and ``p^f_i = sigmoid(u_f . h~_i)``
  (node i has a next sibling), so no end-of-children token is needed;
* the label: ``softmax(W h~_i + alpha_i v_a + phi_i v_f)``, where ``alpha_i, phi_i`` in {0, 1} are the node's
  topology (the true one under teacher forcing, the predicted one when decoding): a leaf ``+`` and an inner
  ``+`` then get different scores.

SAPS compares which state flows through the tree (:data:`MODES`):

* ``V``: only the ancestral state. Siblings then see identical inputs and get identical predictions, so no
  program with two different arguments can come out (SAPS V: 0 %);
* ``H``: only a horizontal chain: the first child continues from its parent's state, a later child from its
  previous sibling's (a left-child right-sibling traversal); a learned vector added to a first child's input
  tells "first child of j" from "next sibling of j", which would otherwise get identical inputs;
* ``VH``: both RNNs, as in Alvarez-Melis & Jaakkola (a first child's fraternal state is a learned vector).

Both teacher forcing and greedy decoding process nodes in waves: a node is computed once its parent and its
previous sibling are, so all nodes of one wave across the batch go through one batched GRU step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .programs_lang import Node

MODES = ("V", "H", "VH")


@dataclass
class FlatTrees:
    """A batch of trees as flat node arrays (pre-order within each tree).

    ``parent`` and ``prev`` (previous sibling) index the flat arrays, -1 where there is none; ``example`` is
    the tree's row in the batch; ``has_children`` / ``has_next`` the topology targets; ``waves`` groups the
    nodes whose parent and previous sibling come in earlier waves."""

    labels: torch.Tensor        # (N,) long
    parent: torch.Tensor        # (N,) long
    prev: torch.Tensor          # (N,) long
    example: torch.Tensor       # (N,) long
    has_children: torch.Tensor  # (N,) float
    has_next: torch.Tensor      # (N,) float
    waves: list[torch.Tensor]
    n_trees: int


def flatten_trees(trees: list[Node], label_index: dict[str, int]) -> FlatTrees:
    """Flatten ``trees`` for :meth:`DoublyRecurrentDecoder.forward`; a label missing from ``label_index``
    raises ``ValueError``."""
    labels, parent, prev, example, kids, nxt, wave = [], [], [], [], [], [], []

    def visit(node: Node, b: int, par: int, prv: int, has_next: bool) -> int:
        if node.label not in label_index:
            raise ValueError(f"label {node.label!r} is not in the decoder's label set")
        i = len(labels)
        labels.append(label_index[node.label])
        parent.append(par)
        prev.append(prv)
        example.append(b)
        kids.append(float(bool(node.children)))
        nxt.append(float(has_next))
        wave.append(1 + max(wave[par] if par >= 0 else -1, wave[prv] if prv >= 0 else -1))
        last = -1
        for k, c in enumerate(node.children):
            last = visit(c, b, i, last, k + 1 < len(node.children))
        return i

    for b, t in enumerate(trees):
        visit(t, b, -1, -1, False)
    w = torch.tensor(wave)
    order = [torch.nonzero(w == k).flatten() for k in range(int(w.max()) + 1)] if wave else []
    as_long = lambda x: torch.tensor(x, dtype=torch.long)  # noqa: E731
    return FlatTrees(as_long(labels), as_long(parent), as_long(prev), as_long(example), torch.tensor(kids),
                     torch.tensor(nxt), order, len(trees))


class DoublyRecurrentDecoder(nn.Module):
    """Doubly-recurrent decoder over ``n_labels`` node labels; ``mode`` in :data:`MODES`; with
    ``attention``, ``memory_dim`` is the size of the encoder states it attends to.

    ``forward(init, flat, memory, mask)`` gives teacher-forced label and topology logits for every node of
    ``flat``; :meth:`decode` grows trees greedily. ``init`` (B, hidden) is the state the root starts from
    (the encoder's summary of the description)."""

    def __init__(self, n_labels: int, hidden: int = 64, embed: int = 32, mode: str = "VH", attention: bool = False,
                 memory_dim: int | None = None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES} (got {mode!r})")
        if attention and not memory_dim:
            raise ValueError("attention needs memory_dim (the size of the encoder states)")
        self.n_labels, self.hidden, self.mode, self.attention = n_labels, hidden, mode, attention
        self.embed = nn.Embedding(n_labels + 1, embed)  # the last row: <root>, "no parent / no sibling"
        self.vertical = "V" in mode
        self.horizontal = "H" in mode
        if self.vertical:
            self.ancestral = nn.GRUCell(embed + hidden, hidden)
            self.u_a = nn.Linear(hidden, hidden)
        if self.horizontal:
            self.fraternal = nn.GRUCell(embed + hidden, hidden)
            self.u_f = nn.Linear(hidden, hidden, bias=not self.vertical)
        if mode == "VH":
            self.first_sibling = nn.Parameter(torch.zeros(hidden))  # f of a first child (and of the root)
        if mode == "H":  # added to the input of a first child: without it, the first child of j and the next
            self.first_child = nn.Parameter(torch.randn(embed))  # sibling of j would get identical inputs
        if attention:
            self.score = nn.Linear(hidden, memory_dim, bias=False)  # h^T W m_t
            self.combine = nn.Linear(hidden + memory_dim, hidden)
        self.topology = nn.Linear(hidden, 2)  # logits of (has children, has a next sibling)
        self.label = nn.Linear(hidden, n_labels)
        self.topology_to_label = nn.Linear(2, n_labels, bias=False)  # v_a and v_f

    # -------------------------------------------------------------------------------------------- one wave
    def _wave(self, parent: torch.Tensor, prev: torch.Tensor, example: torch.Tensor, labels: torch.Tensor,
              A: torch.Tensor, Fr: torch.Tensor, Hs: torch.Tensor, init: torch.Tensor, memory: torch.Tensor | None,
              mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """States of ``n`` nodes. ``parent``, ``prev``, ``example``: (n,), -1 for none. ``labels`` (M + 1,),
        ``A``, ``Fr``, ``Hs`` (M + 1, hidden): labels, ancestral, fraternal and output states of the nodes
        computed so far, shifted by one: row 0 is a dummy (``<root>`` label, zero states), so ``parent + 1``
        indexes them even for -1. A recurrence's input is the label and the output state h~ of the node it
        comes from (input feeding, Luong et al. 2015: what that node attended to reaches its successors)."""
        h = 0.0
        a = f = torch.zeros(len(parent), self.hidden)  # (n, hidden): the state an absent RNN stores
        root_state = init[example]  # (n, hidden)
        if self.vertical:  # a_i = GRU(x_{p(i)}, a_{p(i)}), the root from the encoder's summary
            a_prev = torch.where((parent >= 0)[:, None], A[parent + 1], root_state)
            a = self.ancestral(torch.cat([self.embed(labels[parent + 1]), Hs[parent + 1]], -1), a_prev)
            h = h + self.u_a(a)
        if self.horizontal:
            if self.vertical:  # VH: f_i = GRU(x_{s(i)}, f_{s(i)}), a learned f for first children
                pred, start = prev, self.first_sibling.expand(len(prev), -1)
            else:  # H: one chain; a first child continues from its parent, the root from the encoder
                pred, start = torch.where(prev >= 0, prev, parent), root_state
            f_prev = torch.where((pred >= 0)[:, None], Fr[pred + 1], start)
            x = self.embed(labels[pred + 1])  # (n, embed)
            if not self.vertical:
                x = x + ((prev < 0) & (parent >= 0)).float()[:, None] * self.first_child
            f = self.fraternal(torch.cat([x, Hs[pred + 1]], -1), f_prev)
            h = h + self.u_f(f)
        h = torch.tanh(h)  # (n, hidden)
        if self.attention:
            mem, valid = memory[example], mask[example]  # (n, T, D), (n, T)
            # broadcast products, not einsum: einsum makes n batched (T, D) x (D, 1) matmuls, 10x slower here
            scores = (mem * self.score(h)[:, None, :]).sum(-1).masked_fill(~valid, float("-inf"))  # (n, T)
            ctx = (scores.softmax(-1)[:, :, None] * mem).sum(1)  # (n, D)
            h = torch.tanh(self.combine(torch.cat([h, ctx], -1)))
        return a, f, h

    def _label_logits(self, h: torch.Tensor, topology: torch.Tensor) -> torch.Tensor:
        return self.label(h) + self.topology_to_label(topology)

    def _check(self, init: torch.Tensor, memory: torch.Tensor | None, mask: torch.Tensor | None) -> None:
        if init.dim() != 2 or init.shape[1] != self.hidden:
            raise ValueError(f"init must be (B, {self.hidden}) (got {tuple(init.shape)})")
        if self.attention and (memory is None or mask is None or memory.dim() != 3 or memory.shape[0] != init.shape[0]
                               or mask.shape != memory.shape[:2]):
            raise ValueError(f"attention needs memory (B, T, D) and a bool mask (B, T) with B = {init.shape[0]}")

    # -------------------------------------------------------------------------------------------- teacher forcing
    def forward(self, init: torch.Tensor, flat: FlatTrees, memory: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing: label logits (N, n_labels) and topology logits (N, 2) of every node of ``flat``,
        each computed from the true labels of its ancestors and earlier siblings."""
        self._check(init, memory, mask)
        if flat.n_trees != init.shape[0]:
            raise ValueError(f"flat holds {flat.n_trees} trees but init has {init.shape[0]} rows")
        n = len(flat.labels)
        labels = torch.cat([torch.tensor([self.n_labels]), flat.labels])  # (N + 1,): row 0 the dummy
        A = Fr = Hs = torch.zeros(n + 1, self.hidden)
        for idx in flat.waves:
            a, f, h = self._wave(flat.parent[idx], flat.prev[idx], flat.example[idx], labels, A, Fr, Hs, init, memory,
                                 mask)
            A, Fr, Hs = A.index_copy(0, idx + 1, a), Fr.index_copy(0, idx + 1, f), Hs.index_copy(0, idx + 1, h)
        H = Hs[1:]  # (N, hidden)
        topology = torch.stack([flat.has_children, flat.has_next], 1)  # (N, 2): the true topology
        return self._label_logits(H, topology), self.topology(H)

    def loss(self, init: torch.Tensor, flat: FlatTrees, memory: torch.Tensor | None = None,
             mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Mean over nodes of the label cross-entropy plus the two topology binary cross-entropies."""
        label_logits, topo_logits = self(init, flat, memory, mask)
        target = torch.stack([flat.has_children, flat.has_next], 1)
        ce = F.cross_entropy(label_logits, flat.labels)
        bce = F.binary_cross_entropy_with_logits(topo_logits, target, reduction="none").sum(1).mean()
        acc = (label_logits.argmax(-1) == flat.labels).float().mean()
        return {"loss": ce + bce, "label_ce": ce.detach(), "topology_bce": bce.detach(), "label_acc": acc}

    # -------------------------------------------------------------------------------------------- greedy decoding
    @torch.no_grad()
    def decode(self, init: torch.Tensor, labels: list[str], memory: torch.Tensor | None = None,
               mask: torch.Tensor | None = None, max_nodes: int = 40, max_depth: int = 8,
               max_children: int = 4) -> list[Node]:
        """Grow one tree per row of ``init``: at each node take the predicted topology (p > 0.5) and then the
        most likely label given it. The limits stop runaway trees (V predicts the same "next sibling" for
        every sibling); a truncated tree is still a tree, it just fails when run."""
        self._check(init, memory, mask)
        if len(labels) != self.n_labels:
            raise ValueError(f"labels must name the {self.n_labels} labels (got {len(labels)})")
        B = init.shape[0]
        lab = torch.tensor([self.n_labels])
        A = Fr = Hs = torch.zeros(1, self.hidden)
        nodes: list[tuple[int, int, str]] = []  # (example, parent, label) in creation order
        count = [1] * B  # nodes created or scheduled, per tree
        pending = [(b, -1, -1, 0, 0) for b in range(B)]  # (example, parent, prev, depth, sibling position)
        while pending:
            ex, par, prv = (torch.tensor([p[k] for p in pending], dtype=torch.long) for k in range(3))
            a, f, h = self._wave(par, prv, ex, lab, A, Fr, Hs, init, memory, mask)
            topo = (self.topology(h) > 0).float()  # (n, 2): p > 0.5
            best = self._label_logits(h, topo).argmax(-1)  # (n,)
            lab, A, Fr, Hs = torch.cat([lab, best]), torch.cat([A, a]), torch.cat([Fr, f]), torch.cat([Hs, h])
            new = []
            for k, (b, p, _, depth, pos) in enumerate(pending):
                i = len(nodes)
                nodes.append((b, p, labels[int(best[k])]))
                if topo[k, 0] and depth + 1 < max_depth and count[b] < max_nodes:
                    new.append((b, i, -1, depth + 1, 0))
                    count[b] += 1
                if topo[k, 1] and p >= 0 and pos + 1 < max_children and count[b] < max_nodes:
                    new.append((b, p, i, depth, pos + 1))
                    count[b] += 1
            pending = new
        children: list[list[int]] = [[] for _ in nodes]
        roots = [0] * B
        for i, (b, p, _) in enumerate(nodes):
            if p >= 0:
                children[p].append(i)
            else:
                roots[b] = i

        def build(i: int) -> Node:
            return Node(nodes[i][2], tuple(build(c) for c in children[i]))

        return [build(r) for r in roots]
