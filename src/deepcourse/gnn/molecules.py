"""Molecule graphs from SMILES with RDKit (optional ``chem`` extra): one node per heavy atom, one edge per bond
in each direction, in the spirit of Gilmer et al. (2017, Table 1) and Wu et al.'s MoleculeNet featurisers.

Atom features (:data:`ATOM_FEATURES` = 31): element one-hot (10 common ones + other), degree 0-5, formal charge
-1/0/+1, total hydrogens 0-4, hybridisation (sp, sp2, sp3, other), aromatic, in a ring.
Bond features (:data:`BOND_FEATURES` = 6): single / double / triple / aromatic, conjugated, in a ring.
"""

from __future__ import annotations

from typing import Sequence

import torch

__all__ = ["rdkit_available", "smiles_to_graph", "smiles_to_graphs", "ATOM_FEATURES", "BOND_FEATURES"]

_ELEMENTS = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "B")
_HYBRID = ("SP", "SP2", "SP3")
ATOM_FEATURES = len(_ELEMENTS) + 1 + 6 + 3 + 5 + len(_HYBRID) + 1 + 1 + 1
BOND_FEATURES = 6


def rdkit_available() -> bool:
    try:
        import rdkit  # noqa: F401
    except ImportError:
        return False
    return True


def _one_hot(value, choices: Sequence) -> list[float]:
    out = [0.0] * (len(choices) + 1)
    out[choices.index(value) if value in choices else len(choices)] = 1.0
    return out


def _atom(atom) -> list[float]:
    degree = [0.0] * 6
    degree[min(atom.GetDegree(), 5)] = 1.0
    charge = [0.0] * 3
    charge[max(-1, min(1, atom.GetFormalCharge())) + 1] = 1.0
    hs = [0.0] * 5
    hs[min(atom.GetTotalNumHs(), 4)] = 1.0
    return (_one_hot(atom.GetSymbol(), _ELEMENTS) + degree + charge + hs
            + _one_hot(str(atom.GetHybridization()), _HYBRID)[:-1] + [float(str(atom.GetHybridization()) not in _HYBRID)]
            + [float(atom.GetIsAromatic()), float(atom.IsInRing())])


def _bond(bond) -> list[float]:
    kind = str(bond.GetBondType())
    return [float(kind == "SINGLE"), float(kind == "DOUBLE"), float(kind == "TRIPLE"), float(kind == "AROMATIC"),
            float(bond.GetIsConjugated()), float(bond.IsInRing())]


def smiles_to_graph(smiles: str, y: torch.Tensor | float | None = None):
    """PyG ``Data(x (atoms, 31), edge_index (2, 2*bonds), edge_attr (2*bonds, 6), y, smiles)``.

    Raises ``ImportError`` without RDKit and ``ValueError`` for a SMILES string RDKit cannot parse."""
    from rdkit import Chem, RDLogger
    from torch_geometric.data import Data

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        raise ValueError(f"RDKit cannot parse the SMILES string {smiles!r}")
    x = torch.tensor([_atom(a) for a in mol.GetAtoms()], dtype=torch.float32)
    src, dst, attr = [], [], []
    for b in mol.GetBonds():
        i, j, f = b.GetBeginAtomIdx(), b.GetEndAtomIdx(), _bond(b)
        src += [i, j]
        dst += [j, i]
        attr += [f, f]
    data = Data(x=x, edge_index=torch.tensor([src, dst], dtype=torch.long).view(2, -1),
                edge_attr=torch.tensor(attr, dtype=torch.float32).view(-1, BOND_FEATURES), smiles=smiles)
    if y is not None:
        data.y = torch.as_tensor(y, dtype=torch.float32).view(1, -1)
    return data


def smiles_to_graphs(smiles: Sequence[str], y: torch.Tensor | None = None) -> tuple[list, list[int]]:
    """Featurise many molecules; returns the graphs and the indices of those RDKit parsed (others are skipped)."""
    graphs, kept = [], []
    for k, s in enumerate(smiles):
        try:
            graphs.append(smiles_to_graph(s, None if y is None else y[k]))
        except ValueError:
            continue
        kept.append(k)
    return graphs, kept
