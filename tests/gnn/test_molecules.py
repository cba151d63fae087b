"""SMILES featurisation (needs RDKit, the optional ``chem`` extra)."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("rdkit")

from deepcourse.gnn import ATOM_FEATURES, BOND_FEATURES, smiles_to_graph, smiles_to_graphs  # noqa: E402


def test_phenol():
    g = smiles_to_graph("c1ccccc1O", y=1.5)
    assert g.x.shape == (7, ATOM_FEATURES) and g.edge_attr.shape == (14, BOND_FEATURES)
    assert g.edge_index.shape == (2, 14) and g.y.shape == (1, 1)
    assert torch.all(g.x.sum(1) > 0)
    aromatic_bonds = g.edge_attr[:, 3].sum()
    assert aromatic_bonds == 12  # six ring bonds, both directions
    oxygen = g.x[6]
    assert oxygen[2] == 1 and oxygen[-2] == 0  # element O, not aromatic
    # every edge appears in both directions with the same features
    pairs = {(int(a), int(b)) for a, b in g.edge_index.T}
    assert all((b, a) in pairs for a, b in pairs)


def test_charges_and_bad_smiles():
    g = smiles_to_graph("[NH4+]")
    assert g.x.shape == (1, ATOM_FEATURES) and g.edge_index.shape == (2, 0)
    charge = g.x[0, 11 + 6: 11 + 6 + 3]
    assert charge.tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="cannot parse"):
        smiles_to_graph("C1CC(")
    graphs, kept = smiles_to_graphs(["CCO", "not a molecule", "C=O"])
    assert kept == [0, 2] and len(graphs) == 2
