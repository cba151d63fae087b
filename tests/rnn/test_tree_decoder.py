"""Tests for deepcourse.rnn.tree_decoder: flattening, the batched waves against a node-by-node recursion,
teacher forcing, greedy decoding, attention, and the V / H / VH state choices."""

from __future__ import annotations

import pytest
import torch

from deepcourse.rnn.programs_lang import Node, parse, to_text
from deepcourse.rnn.tree_decoder import MODES, DoublyRecurrentDecoder, flatten_trees

LABELS = ["reduce", "filter", "head", "lambda1", ">", "+", "min", "a", "b", "arg1", "0", "1", "inf"]
INDEX = {w: i for i, w in enumerate(LABELS)}
TREES = [parse(t) for t in ("(reduce a 0 +)", "(head (filter a (lambda1 (> arg1 b))))", "(+ (head a) 1)",
                            "(min (reduce a inf min) b)")]
ARMS = [(m, att) for m in MODES for att in (False, True)]


def decoder(mode: str = "VH", attention: bool = False, seed: int = 0, hidden: int = 12) -> DoublyRecurrentDecoder:
    torch.manual_seed(seed)
    return DoublyRecurrentDecoder(len(LABELS), hidden, 6, mode, attention, memory_dim=10 if attention else None)


def inputs(n: int = len(TREES), T: int = 5, hidden: int = 12, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([T - (i % 3) for i in range(n)])
    mask = torch.arange(T)[None] < lengths[:, None]  # (n, T)
    return torch.randn(n, hidden, generator=g), torch.randn(n, T, 10, generator=g), mask


def test_flatten_trees():
    flat = flatten_trees([parse("(+ (head a) 1)"), parse("(head b)")], INDEX)
    assert [LABELS[i] for i in flat.labels] == ["+", "head", "a", "1", "head", "b"]
    assert flat.parent.tolist() == [-1, 0, 1, 0, -1, 4]
    assert flat.prev.tolist() == [-1, -1, -1, 1, -1, -1]
    assert flat.example.tolist() == [0, 0, 0, 0, 1, 1]
    assert flat.has_children.tolist() == [1, 1, 0, 0, 1, 0] and flat.has_next.tolist() == [0, 1, 0, 0, 0, 0]
    # a node comes after its parent and its previous sibling: "1" waits for "head"
    assert [w.tolist() for w in flat.waves] == [[0, 4], [1, 5], [2, 3]]
    with pytest.raises(ValueError, match="not in the decoder's label set"):
        flatten_trees([parse("(foo a)")], INDEX)


def naive(dec: DoublyRecurrentDecoder, init, memory, mask, tree: Node, b: int):
    """The decoder's equations node by node, recursively, one tree at a time (no waves, no index tricks)."""
    zero = torch.zeros(1, dec.hidden)
    root = torch.tensor([dec.n_labels])
    out = []

    def visit(node, parent, prev, has_next):  # parent / prev: (label id, a, f, h~) or None
        pa = parent or (root, zero, zero, zero)
        a = f = zero
        h = 0.0
        if dec.vertical:
            a = dec.ancestral(torch.cat([dec.embed(pa[0]), pa[3]], -1), pa[1] if parent else init[b:b + 1])
            h = h + dec.u_a(a)
        if dec.horizontal:
            if dec.vertical:
                src, state = prev, (prev[2] if prev else dec.first_sibling[None])
            else:
                src = prev or parent
                state = src[2] if src else init[b:b + 1]
            x = dec.embed((src or (root,))[0])
            if not dec.vertical and parent is not None and prev is None:
                x = x + dec.first_child  # "first child of", not "next sibling of"
            src = src or (root, zero, zero, zero)
            f = dec.fraternal(torch.cat([x, src[3]], -1), state)
            h = h + dec.u_f(f)
        h = torch.tanh(h)
        if dec.attention:
            m = memory[b][mask[b]]  # (T_b, D)
            w = (m @ dec.score(h)[0]).softmax(0)
            h = torch.tanh(dec.combine(torch.cat([h, (w @ m)[None]], -1)))
        topo = torch.tensor([[float(bool(node.children)), float(has_next)]])
        out.append((dec._label_logits(h, topo), dec.topology(h)))
        me = (torch.tensor([INDEX[node.label]]), a, f, h)
        last = None
        for k, c in enumerate(node.children):
            last = visit(c, me, last, k + 1 < len(node.children))
        return me

    visit(tree, None, None, False)
    return torch.cat([o[0] for o in out]), torch.cat([o[1] for o in out])


@pytest.mark.parametrize("mode, attention", ARMS)
def test_waves_match_a_node_by_node_recursion(mode, attention):
    dec = decoder(mode, attention)
    init, memory, mask = inputs()
    flat = flatten_trees(TREES, INDEX)
    label_logits, topo_logits = dec(init, flat, memory if attention else None, mask if attention else None)
    assert label_logits.shape == (len(flat.labels), len(LABELS)) and topo_logits.shape == (len(flat.labels), 2)
    ref = [naive(dec, init, memory, mask, t, b) for b, t in enumerate(TREES)]
    torch.testing.assert_close(label_logits, torch.cat([r[0] for r in ref]), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(topo_logits, torch.cat([r[1] for r in ref]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode, attention", ARMS)
def test_teacher_forcing_loss_decreases_and_gradients_reach_every_parameter(mode, attention):
    dec = decoder(mode, attention)
    init, memory, mask = inputs()
    init.requires_grad_(True)
    flat = flatten_trees(TREES, INDEX)
    kw = {"memory": memory, "mask": mask} if attention else {}
    out = dec.loss(init, flat, **kw)
    out["loss"].backward()
    assert init.grad.abs().sum() > 0
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in dec.parameters())
    opt = torch.optim.Adam(dec.parameters(), lr=2e-2)
    first = float(out["loss"].detach())
    for _ in range(40):
        opt.zero_grad()
        out = dec.loss(init.detach(), flat, **kw)
        out["loss"].backward()
        opt.step()
    # V cannot fit two different siblings ("0" and "+" under reduce), so its loss stays higher
    assert float(out["loss"].detach()) < (0.5 if mode == "V" else 0.3) * first


@pytest.mark.parametrize("mode", ["H", "VH"])
def test_a_trained_decoder_decodes_its_training_trees(mode):
    dec = decoder(mode, hidden=24)
    init, _, _ = inputs(hidden=24)
    flat = flatten_trees(TREES, INDEX)
    opt = torch.optim.Adam(dec.parameters(), lr=2e-2)
    for _ in range(150):
        opt.zero_grad()
        dec.loss(init, flat)["loss"].backward()
        opt.step()
    assert [to_text(t) for t in dec.decode(init, LABELS)] == [to_text(t) for t in TREES]


def test_v_cannot_tell_siblings_apart():
    """Under V every child of a node has the same inputs: the decoded siblings all get one label, and
    teacher forcing gives them identical predictions (SAPS V: 0 %)."""
    dec = decoder("V")
    init, _, _ = inputs()
    with torch.no_grad():
        for w in dec.topology.parameters():  # push every node to "has children" and "has a next sibling"
            w.zero_()
        dec.topology.bias.fill_(3.0)
    trees = dec.decode(init, LABELS, max_nodes=30, max_depth=3, max_children=3)
    for t in trees:
        for n in t.preorder():
            assert len({c.label for c in n.children}) <= 1 and len(n.children) <= 3
        assert t.size() <= 30 and t.depth() <= 3
    flat = flatten_trees([parse("(+ a b)")], INDEX)
    dec = decoder("V")
    label_logits, topo_logits = dec(init[:1], flat)
    torch.testing.assert_close(topo_logits[1], topo_logits[2])  # "a" and "b": the same topology guess
    # and the same label scores once the true-topology offsets (a has a next sibling, b has not) are removed
    offsets = dec.topology_to_label(torch.stack([flat.has_children, flat.has_next], 1))
    torch.testing.assert_close((label_logits - offsets)[1], (label_logits - offsets)[2])


@pytest.mark.parametrize("mode, attention", ARMS)
def test_decoding_gives_valid_trees_consistent_with_teacher_forcing(mode, attention):
    dec = decoder(mode, attention)
    init, memory, mask = inputs()
    kw = {"memory": memory, "mask": mask} if attention else {}
    trees = dec.decode(init, LABELS, max_nodes=12, max_depth=4, max_children=3, **kw)
    assert len(trees) == len(TREES)
    for t in trees:
        assert isinstance(t, Node) and t.size() <= 12 and t.depth() <= 4
        assert all(n.label in LABELS and len(n.children) <= 3 for n in t.preorder())
    # teacher forcing on the decoded trees gives back their labels wherever the limits did not cut a subtree
    with torch.no_grad():
        label_logits, topo_logits = dec(init, flatten_trees(trees, INDEX), **kw)
    flat = flatten_trees(trees, INDEX)
    predicted_topology = (topo_logits > 0).float()
    uncut = (predicted_topology == torch.stack([flat.has_children, flat.has_next], 1)).all(1)
    assert uncut.any()
    assert (label_logits.argmax(-1) == flat.labels)[uncut].all()


def test_attention_reads_only_unmasked_memory():
    dec = decoder("VH", attention=True)
    init, memory, mask = inputs()
    flat = flatten_trees(TREES, INDEX)
    with torch.no_grad():
        base, _ = dec(init, flat, memory, mask)
        changed = memory.clone()
        changed[~mask] = 100.0  # padding
        same, _ = dec(init, flat, changed, mask)
        changed[0, 0] += 5.0  # a real word of tree 0
        moved, _ = dec(init, flat, changed, mask)
    torch.testing.assert_close(base, same)
    rows = flat.example == 0
    assert not torch.allclose(base[rows], moved[rows]) and torch.allclose(base[~rows], moved[~rows])
    # without attention the memory is not an input at all
    plain = decoder("VH", attention=False)
    flat_out, _ = plain(init, flat)
    assert flat_out.shape == base.shape


def test_bad_inputs():
    with pytest.raises(ValueError, match="mode must be one of"):
        DoublyRecurrentDecoder(5, mode="HV")
    with pytest.raises(ValueError, match="memory_dim"):
        DoublyRecurrentDecoder(5, attention=True)
    dec = decoder("VH", attention=True)
    init, memory, mask = inputs()
    flat = flatten_trees(TREES, INDEX)
    with pytest.raises(ValueError, match=r"init must be \(B, 12\)"):
        dec(init[:, :5], flat, memory, mask)
    with pytest.raises(ValueError, match="attention needs memory"):
        dec(init, flat)
    with pytest.raises(ValueError, match="flat holds 4 trees"):
        dec(init[:2], flat, memory[:2], mask[:2])
    with pytest.raises(ValueError, match="labels must name"):
        dec.decode(init, LABELS[:-1], memory, mask)
