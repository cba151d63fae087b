"""Graph datasets (module 6), read offline from the staged raw files into PyTorch Geometric objects.

* TU graph classification (Morris et al. 2020): ``mutag``, ``ptc-mr``, ``nci1``, ``nci109``, ``proteins``:
  :func:`load_tu` gives a list of ``Data(x, edge_index, [edge_attr], y)``, node labels one-hot encoded (and
  PROTEINS' one node attribute in front), edge labels one-hot as ``edge_attr``, graph labels mapped to
  ``0..C-1`` in sorted order (MUTAG's ``-1/1`` become ``0/1``), as PyG's ``TUDataset`` does.
* Planetoid citation graphs (Yang et al. 2016): ``cora``, ``citeseer``: :func:`load_planetoid` gives one
  ``Data`` with the public split masks (140/120 train, 500 validation, 1,000 test nodes), CiteSeer's 15
  isolated test-index gaps padded with zero features as in Kipf & Welling's loader.
* MoleculeNet regression (Wu et al. 2018): ``esol``, ``freesolv``, ``lipophilicity``: :func:`load_molecules`
  gives ``(smiles, y)``; featurise with :func:`deepcourse.gnn.smiles_to_graph` (needs RDKit).
* QM9 (Ramakrishnan et al. 2014) from the optional PyPI package ``qm9pack``: :func:`load_qm9` reads its CSV
  files directly (the package's own ``import`` needs ``pkg_resources``, i.e. ``setuptools<81``, which we avoid).
* networkx's karate club (:func:`karate_club`) for unit tests.

Nothing reaches the network: files are verified by size and sha256 (see :mod:`.registry`) and parsed here.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import DataMissingError
from .registry import DatasetSpec, FileSpec, LoadContext, load_tensors, register_dataset

__all__ = ["TU_DATASETS", "PLANETOID_DATASETS", "MOLECULE_DATASETS", "QM9_TARGETS", "load_tu", "load_planetoid",
           "load_molecules", "load_qm9", "qm9_available", "karate_club", "read_tu_folder"]

TU_DATASETS = {"mutag": "MUTAG", "ptc-mr": "PTC_MR", "nci1": "NCI1", "nci109": "NCI109", "proteins": "PROTEINS"}
PLANETOID_DATASETS = {"cora": "cora", "citeseer": "citeseer"}
MOLECULE_DATASETS = {"esol": "esol.csv", "freesolv": "freesolv.csv", "lipophilicity": "Lipophilicity.csv"}

_SHA = {  # path -> (sha256, size), from shared/data/MANIFEST.md
    "tu/MUTAG/MUTAG_A.txt": ("d9656ca7493f3445d737c711710bb36fd432dddd1c0ea32e1d4713c86ebd28e2", 76940),
    "tu/MUTAG/MUTAG_edge_labels.txt": ("4669ce755075ff86c3240709345745886400908fa637a49310459b9c267b3e56", 14884),
    "tu/MUTAG/MUTAG_graph_indicator.txt": ("7d520a4d6c7961c0cdeabe076d8fe27e795b6d373485c9a2b744987e560a2056", 11532),
    "tu/MUTAG/MUTAG_graph_labels.txt": ("a1518ea39ba3426bd42f57396b9c4baffe68e9adc718caeeab0119c6591a5f2c", 439),
    "tu/MUTAG/MUTAG_node_labels.txt": ("678f429965490e84dd27713017538c995fc05d1621beac910848b600015ee863", 6742),
    "tu/MUTAG/README.txt": ("66de65e4826e112482ec680bbbdf7c0af56d826ce935c110786d130b79b76b06", 2611),
    "tu/NCI1/NCI1_A.txt": ("2c028eda59a5fe96e2265a63d9ac236901bd9a7dc658498be13cd704a703076d", 3235898),
    "tu/NCI1/NCI1_graph_indicator.txt": ("ffe5acfa754b057d5ce0dc725c5aadb631628161886cc040d38c719635257dc5", 585267),
    "tu/NCI1/NCI1_graph_labels.txt": ("fae44681e70113f496256ae87eaac33b7836e3a97fe8e023933b84fde6a5c8a2", 8220),
    "tu/NCI1/NCI1_node_labels.txt": ("dc0a22b6cbff0c939de00373e823977ba32b358f560e4288d7602f7b51407ee2", 245932),
    "tu/NCI1/README.txt": ("1866d918409a22531ef00ff7b0f72200c3a06722342c23c5e3299cebb5cd8757", 2477),
    "tu/NCI109/NCI109_A.txt": ("9c0ae8c1e631f771663de1e095eb36604f4feeb512e46b90b0409f05f876bab6", 3231486),
    "tu/NCI109/NCI109_graph_indicator.txt": ("f86bb0249bf985be397f46c493879022cb068b1d4331215151442de1738c9163", 583372),
    "tu/NCI109/NCI109_graph_labels.txt": ("8ab9932d5347b935e3aaa7be2f787cc78860fa1af9df836dd3f03cde6939b640", 8254),
    "tu/NCI109/NCI109_node_labels.txt": ("d2ceda711b4ea4218909e5527325374d7e50c698b0d8a22567390a5526dbd6bc", 245264),
    "tu/NCI109/README.txt": ("11661d333555f49157b9edc5bfda849860035c78470e652ac7f99e2f8c0b4388", 2479),
    "tu/PROTEINS/PROTEINS_A.txt": ("4c4b33e272fc95cac6d27ed6d5d12b9a852c8610e91fff59f8f0dbdd5a20df67", 2022990),
    "tu/PROTEINS/PROTEINS_graph_indicator.txt": ("8d4ff1e852a5c28561e9bffb44cf9490bc552b13a3b6156dd12dc7f44e9afc4a", 169673),
    "tu/PROTEINS/PROTEINS_graph_labels.txt": ("c0ef9810c440775252872318d0c8adc385588e14bc4c47a2c34aa96ee3c7cdcd", 2226),
    "tu/PROTEINS/PROTEINS_node_attributes.txt": ("54eef829abb37e458a5fbf3a3c581e48e5810e220463c2cd951856b9ceb08f07", 478190),
    "tu/PROTEINS/PROTEINS_node_labels.txt": ("f758e8ad3d6e3c026b50833d75f6f90735b94eb3345e4243707f495ca8afea8d", 86942),
    "tu/PROTEINS/README.txt": ("e9c4ed2c9a4059ddfdc2eb7330ebecfc6c8d42dabd5ce2ee67f28aed0db49da7", 2221),
    "tu/PTC_MR/PTC_MR_A.txt": ("f79523ff94dfbef539e5602a8ac1931a50a2800f33fa1d30e5e31725289b5202", 106642),
    "tu/PTC_MR/PTC_MR_edge_labels.txt": ("acee2f93b52175a329009dc837bea9db7c2a121c2ef0b1587b38bbe6fc9b8177", 20216),
    "tu/PTC_MR/PTC_MR_graph_indicator.txt": ("d52754f3cbc54e29324f884b4c17200c16e06db0c499afae300b4fa1bb6d794b", 18155),
    "tu/PTC_MR/PTC_MR_graph_labels.txt": ("64210accbe4c6c027535b1294e0da652b1f539667f7a2d4bf5121dcd8b00a224", 880),
    "tu/PTC_MR/PTC_MR_node_labels.txt": ("cc50d1e1c5f4c98b2100cf50c5ddd88ff28b419a9180d531046b75ce22983235", 9842),
    "tu/PTC_MR/README.txt": ("f0dcf17d5e115efb4db51d6be6ca629181ca9cdef9f975663dd054a3c779c52a", 2462),
    "planetoid/LICENSE.planetoid": ("8eeeea48c8b4bc197ad1d7ab01143ac43d52053e560b175bca7ca722c4047234", 1076),
    "planetoid/ind.citeseer.allx": ("2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668", 595021),
    "planetoid/ind.citeseer.ally": ("f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95", 55623),
    "planetoid/ind.citeseer.graph": ("d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7", 61987),
    "planetoid/ind.citeseer.test.index": ("2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4", 5000),
    "planetoid/ind.citeseer.tx": ("539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21", 260321),
    "planetoid/ind.citeseer.ty": ("55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce", 24135),
    "planetoid/ind.citeseer.x": ("d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6", 31087),
    "planetoid/ind.citeseer.y": ("8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924", 3014),
    "planetoid/ind.cora.allx": ("9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543", 257305),
    "planetoid/ind.cora.ally": ("2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71", 47959),
    "planetoid/ind.cora.graph": ("58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d", 59847),
    "planetoid/ind.cora.test.index": ("297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875", 5000),
    "planetoid/ind.cora.tx": ("b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a", 148025),
    "planetoid/ind.cora.ty": ("41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad", 28135),
    "planetoid/ind.cora.x": ("23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab", 22119),
    "planetoid/ind.cora.y": ("94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1", 4054),
    "moleculenet/LICENSE.ABT-MPNN": ("5dcc10c37431645eace5dc33b1a0662d27f41ad9b74e3a0ef1b358dbf1825e04", 1062),
    "moleculenet/Lipophilicity.csv": ("53f4d75dad1ff26224df1fe0523de4af1ecf867855f18c1794a1a20de44d42da", 223301),
    "moleculenet/esol.csv": ("db27811c6ddedc0194a38258b646ea27f22d37c2ca3f0346f11f229fcc9ef670", 33317),
    "moleculenet/freesolv.csv": ("2bfd85e03c790f40ca511efbde8d6095d2e40bf5a70450e29450cd68aecbef01", 14180),
}

_RAW = "https://raw.githubusercontent.com/"
_URL = {  # staged-copy sources (MANIFEST.md): pinned commits of public repositories
    "tu/PROTEINS/": _RAW + "XuelinHu/Matrix-ResGNN-GraphClassificatio/f76543d8bd82c7ebe1c16f59d9219d038c62ac8e/"
                           "data/TUDataset/PROTEINS/raw/",
    "tu/": _RAW + "sunfanyunn/InfoGraph/1f286d5cc48c1ea142dd6fa9d9ef5a449a09cf08/data/",
    "planetoid/LICENSE": _RAW + "kimiyoung/planetoid/af6abf468a772cc055bec88c52e4d6f51b7c37e3/LICENSE",
    "planetoid/": _RAW + "kimiyoung/planetoid/af6abf468a772cc055bec88c52e4d6f51b7c37e3/data/",
    "moleculenet/LICENSE": _RAW + "LCY02/ABT-MPNN/63ee5fcdb23747ffe9a2c377b148aafef53192d1/LICENSE",
    "moleculenet/": _RAW + "LCY02/ABT-MPNN/63ee5fcdb23747ffe9a2c377b148aafef53192d1/data/",
}


def _url(path: str) -> tuple[str, ...]:
    for prefix, base in _URL.items():
        if path.startswith(prefix):
            if base.endswith("LICENSE"):
                return (base,)
            return (base + path[len(prefix):],)
    return ()


def _files(prefix: str, keep: Any = None) -> tuple[FileSpec, ...]:
    return tuple(FileSpec(p, sha, size, urls=_url(p)) for p, (sha, size) in _SHA.items()
                 if p.startswith(prefix) and (keep is None or keep(p)))


# ----------------------------------------------------------------------------------------- TU datasets

def _ints(path: Path) -> np.ndarray:
    """Whole-file integer parse (comma or whitespace separated): far faster than ``np.loadtxt``."""
    return np.array(path.read_text().replace(",", " ").split(), dtype=np.int64)


def _one_hot(labels: np.ndarray) -> np.ndarray:
    labels = labels - labels.min()
    out = np.zeros((len(labels), int(labels.max()) + 1), dtype=np.float32)
    out[np.arange(len(labels)), labels] = 1.0
    return out


def read_tu_folder(folder: str | Path, prefix: str) -> list:
    """Parse one TU-format folder (``<prefix>_A.txt``, ``_graph_indicator``, ``_graph_labels``, optional
    ``_node_labels``, ``_node_attributes``, ``_edge_labels``) into a list of PyG ``Data``; ids are 1-based."""
    import torch
    from torch_geometric.data import Data

    folder = Path(folder)
    f = lambda kind: folder / f"{prefix}_{kind}.txt"  # noqa: E731
    edges = _ints(f("A")).reshape(-1, 2) - 1
    graph_of = _ints(f("graph_indicator")) - 1
    _, y = np.unique(_ints(f("graph_labels")), return_inverse=True)
    n_graphs, n_nodes = len(y), len(graph_of)
    if graph_of.max() + 1 != n_graphs or edges.max() >= n_nodes or np.any(np.diff(graph_of) < 0):
        raise ValueError(f"{folder}: inconsistent TU files ({n_graphs} graph labels, {n_nodes} nodes, "
                         f"graph ids up to {graph_of.max() + 1}, node ids up to {edges.max() + 1})")
    feats = []
    if f("node_attributes").is_file():
        attr = np.array([[float(v) for v in line.split(",")] for line in f("node_attributes").read_text().split()],
                        dtype=np.float32)
        feats.append(attr.reshape(n_nodes, -1))
    if f("node_labels").is_file():
        feats.append(_one_hot(_ints(f("node_labels"))))
    x = np.concatenate(feats, 1) if feats else np.ones((n_nodes, 1), np.float32)
    edge_attr = _one_hot(_ints(f("edge_labels"))) if f("edge_labels").is_file() else None
    if graph_of[edges[:, 0]].tolist() != graph_of[edges[:, 1]].tolist():
        raise ValueError(f"{folder}: an edge joins two graphs")
    order = np.argsort(graph_of[edges[:, 0]], kind="stable")
    edges = edges[order]
    edge_attr = edge_attr[order] if edge_attr is not None else None
    node_ptr = np.concatenate([[0], np.cumsum(np.bincount(graph_of, minlength=n_graphs))])
    edge_ptr = np.concatenate([[0], np.cumsum(np.bincount(graph_of[edges[:, 0]], minlength=n_graphs))])
    xt, et = torch.from_numpy(x), torch.from_numpy(edges.T.copy())
    at = torch.from_numpy(edge_attr) if edge_attr is not None else None
    out = []
    for g in range(n_graphs):
        a, b, c, d = node_ptr[g], node_ptr[g + 1], edge_ptr[g], edge_ptr[g + 1]
        data = Data(x=xt[a:b], edge_index=et[:, c:d] - a, y=torch.tensor([int(y[g])]), num_nodes=int(b - a))
        if at is not None:
            data.edge_attr = at[c:d]
        out.append(data)
    return out


def _tu_loader(ctx: LoadContext, split: str):
    import torch

    graphs = read_tu_folder(ctx.folder, ctx.folder.name)
    return graphs, torch.cat([g.y for g in graphs])


_TU_INFO = {
    "mutag": "188 nitro compounds, mutagenic on Salmonella or not (2 classes); 7 atom types, 4 bond types",
    "ptc-mr": "344 compounds, carcinogenic in male rats or not (2 classes); 18 atom types, 4 bond types",
    "nci1": "4,110 compounds screened against non-small-cell lung cancer (2 classes); 37 atom types",
    "nci109": "4,127 compounds screened against ovarian cancer (2 classes); 38 atom types",
    "proteins": "1,113 proteins, enzyme or not (2 classes); 3 node types plus one node attribute",
}
for _name, _folder in TU_DATASETS.items():
    register_dataset(DatasetSpec(
        name=_name,
        description=f"TU graph classification {_folder}: {_TU_INFO[_name]}. Raw TU format, one split 'train' "
                    "holding every graph (papers use cross-validation or repeated random splits).",
        files=_files(f"tu/{_folder}/"), folder=f"tu/{_folder}",
        licence="none stated; cite TUDataset and the original sources in README.txt",
        loader=_tu_loader,
        citation="Morris, Kriege, Bause, Kersting, Mutzel & Neumann (2020), TUDataset: a collection of benchmark "
                 "datasets for learning with graphs, ICML GRL+ workshop; original sources in README.txt.",
        kind="graph-classification", splits=("train",), classes=("0", "1"),
    ))


def load_tu(name: str, root: Any = None) -> list:
    """Every graph of TU dataset ``name`` (``mutag``, ``ptc-mr``, ``nci1``, ``nci109``, ``proteins``) as a list of
    PyG ``Data``; verified first (``DataMissingError`` / ``DataCorruptError``)."""
    if name not in TU_DATASETS:
        raise ValueError(f"unknown TU dataset {name!r}; known: {', '.join(TU_DATASETS)}")
    return load_tensors(name, "train", root)[0]


# ----------------------------------------------------------------------------------------------- Planetoid

def _planetoid_loader(ctx: LoadContext, split: str):
    import scipy.sparse as sp
    import torch
    from torch_geometric.data import Data

    prefix = ctx.spec.name

    def read(kind: str):
        with open(ctx.file(f"planetoid/ind.{prefix}.{kind}"), "rb") as fh:
            return pickle.load(fh, encoding="latin1")

    x, y, tx, ty, allx, ally, graph = (read(k) for k in ("x", "y", "tx", "ty", "allx", "ally", "graph"))
    test_idx = np.array(ctx.file(f"planetoid/ind.{prefix}.test.index").read_text().split(), dtype=np.int64)
    test_sorted = np.sort(test_idx)
    if prefix == "citeseer":  # isolated test nodes: the index range has gaps; pad them with zero rows
        full = np.arange(test_sorted.min(), test_sorted.max() + 1)
        tx_ext = sp.lil_matrix((len(full), tx.shape[1]))
        tx_ext[test_sorted - test_sorted.min(), :] = tx
        ty_ext = np.zeros((len(full), ty.shape[1]))
        ty_ext[test_sorted - test_sorted.min(), :] = ty
        tx, ty = tx_ext, ty_ext
    features = sp.vstack((allx, tx)).tolil()
    labels = np.vstack((ally, ty))
    features[test_idx, :] = features[test_sorted, :]
    labels[test_idx, :] = labels[test_sorted, :]
    n = features.shape[0]
    src = [(i, j) for i, nbrs in graph.items() for j in nbrs if i != j and j < n and i < n]
    e = np.array(src, dtype=np.int64).T
    e = np.unique(np.concatenate([e, e[::-1]], 1), axis=1)  # undirected, no duplicates, sorted
    masks = {k: torch.zeros(n, dtype=torch.bool) for k in ("train_mask", "val_mask", "test_mask")}
    masks["train_mask"][: len(y)] = True
    masks["val_mask"][len(y): len(y) + 500] = True
    masks["test_mask"][torch.from_numpy(test_sorted)] = True
    data = Data(x=torch.from_numpy(np.asarray(features.todense(), dtype=np.float32)),
                edge_index=torch.from_numpy(e), y=torch.from_numpy(labels.argmax(1).astype(np.int64)), **masks)
    return data, data.y


_PLANETOID_INFO = {"cora": ("Cora: 2,708 machine-learning papers, 1,433 binary word features, 7 classes",
                            ("Case_Based", "Genetic_Algorithms", "Neural_Networks", "Probabilistic_Methods",
                             "Reinforcement_Learning", "Rule_Learning", "Theory")),
                   "citeseer": ("CiteSeer: 3,327 papers, 3,703 binary word features, 6 classes",
                                ("Agents", "AI", "DB", "IR", "ML", "HCI"))}
for _name, (_info, _classes) in _PLANETOID_INFO.items():
    register_dataset(DatasetSpec(
        name=_name,
        description=f"Planetoid {_info}; citation graph with the public split (20 labelled nodes per class, "
                    "500 validation, 1,000 test).",
        files=_files("planetoid/", lambda p, n=_name: f".{n}." in p or p.endswith("LICENSE.planetoid")),
        folder="planetoid", licence="MIT (kimiyoung/planetoid); data from the original citation-graph sources",
        loader=_planetoid_loader,
        citation="Yang, Cohen & Salakhutdinov (2016), Revisiting semi-supervised learning with graph embeddings, "
                 "ICML; Sen et al. (2008), Collective classification in network data, AI Magazine.",
        kind="node-classification", splits=("train",), classes=_classes,
    ))


def load_planetoid(name: str, root: Any = None):
    """The citation graph ``cora`` or ``citeseer`` as one PyG ``Data`` (raw binary bag-of-words ``x``, ``y``,
    ``edge_index`` undirected without self-loops, and ``train_mask`` / ``val_mask`` / ``test_mask``)."""
    if name not in PLANETOID_DATASETS:
        raise ValueError(f"unknown Planetoid dataset {name!r}; known: {', '.join(PLANETOID_DATASETS)}")
    return load_tensors(name, "train", root)[0]


# --------------------------------------------------------------------------------------------- MoleculeNet

def _molecule_loader(ctx: LoadContext, split: str):
    import csv

    import torch

    with open(ctx.file(f"moleculenet/{MOLECULE_DATASETS[ctx.spec.name]}"), newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    smiles = [r[0].strip() for r in rows if r]
    y = torch.tensor([float(r[1]) for r in rows if r], dtype=torch.float32)
    return smiles, y


_MOL_INFO = {"esol": "ESOL (Delaney 2004): 1,128 molecules, log solubility in mol/L",
             "freesolv": "FreeSolv (Mobley & Guthrie 2014): 642 molecules, hydration free energy in kcal/mol",
             "lipophilicity": "Lipophilicity (AstraZeneca, ChEMBL): 4,200 molecules, octanol/water logD at pH 7.4"}
for _name, _csv in MOLECULE_DATASETS.items():
    register_dataset(DatasetSpec(
        name=_name,
        description=f"MoleculeNet {_MOL_INFO[_name]}; SMILES and one regression target (chemprop's two-column CSV).",
        files=_files("moleculenet/", lambda p, c=_csv: p.endswith(c) or p.endswith("LICENSE.ABT-MPNN")),
        folder="moleculenet", licence="MIT (LCY02/ABT-MPNN); data under the MoleculeNet sources' terms",
        loader=_molecule_loader,
        citation="Wu, Ramsundar, Feinberg, Gomes, Geniesse, Pappu, Leswing & Pande (2018), MoleculeNet: a "
                 "benchmark for molecular machine learning, Chemical Science 9.",
        kind="molecule-regression", splits=("train",),
    ))


def load_molecules(name: str, root: Any = None) -> tuple[list[str], Any]:
    """``(smiles, y)`` of MoleculeNet set ``esol``, ``freesolv`` or ``lipophilicity`` (``y`` float32 ``(N,)``)."""
    if name not in MOLECULE_DATASETS:
        raise ValueError(f"unknown MoleculeNet dataset {name!r}; known: {', '.join(MOLECULE_DATASETS)}")
    return load_tensors(name, "train", root)


# ---------------------------------------------------------------------------------------------------- QM9

HARTREE_EV = 27.211386
QM9_TARGETS = {  # our name -> (qm9pack column, factor to the unit of the CCN paper's Table III)
    "mu": ("Dipole_debye", 1.0), "alpha": ("Polarizability_bohr3", 1.0), "homo": ("HOMO_au", HARTREE_EV),
    "lumo": ("LUMO_au", HARTREE_EV), "gap": ("HOMO_LUMO_gap_au", HARTREE_EV), "r2": ("R2_bohr2", 1.0),
    "zpve": ("ZPVE_au", HARTREE_EV), "cv": ("Heatcapacity_Cv_cal_mol_K", 1.0),
}


def _qm9_dir() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("qm9pack")  # locates the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    return folder if (folder / "qm9_part1.csv").is_file() else None


def qm9_available() -> bool:
    """True when the optional ``qm9pack`` package (``pip install 'deepcourse[qm9]'``) and its CSV files exist."""
    return _qm9_dir() is not None


def load_qm9(targets: Sequence[str] = ("homo", "lumo", "gap"), subset: int | None = None,
             seed: int = 0) -> tuple[list[str], Any]:
    """``(smiles, y)`` from QM9 as shipped by ``qm9pack`` (130,831 molecules, 3 CSV parts); ``y`` float32
    ``(N, len(targets))`` in the units of Kondor et al.'s Table III (eV for energies). ``subset``: a seeded
    random choice of that many molecules across all parts. Raises ``DataMissingError`` without qm9pack."""
    import csv

    import torch

    bad = [t for t in targets if t not in QM9_TARGETS]
    if bad:
        raise ValueError(f"unknown QM9 targets {bad}; known: {', '.join(QM9_TARGETS)}")
    folder = _qm9_dir()
    if folder is None:
        raise DataMissingError("QM9 needs the optional package qm9pack: pip install 'deepcourse[qm9]' "
                               f"(python {sys.version_info.major}.{sys.version_info.minor})", dataset="qm9")
    smiles, rows = [], []
    for i in (1, 2, 3):
        with open(folder / f"qm9_part{i}.csv", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ["SMILES"] + [QM9_TARGETS[t][0] for t in targets] if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{folder / f'qm9_part{i}.csv'}: columns {missing} not found")
            for r in reader:
                smiles.append(r["SMILES"])
                rows.append([float(r[QM9_TARGETS[t][0]]) * QM9_TARGETS[t][1] for t in targets])
    y = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(targets))
    if subset is not None:
        idx = np.sort(np.random.default_rng(seed).choice(len(y), size=min(subset, len(y)), replace=False))
        smiles, y = [smiles[j] for j in idx], y[idx]
    return smiles, torch.tensor(y, dtype=torch.float32)


# -------------------------------------------------------------------------------------------- karate club

def karate_club():
    """Zachary's karate club (34 members, 78 friendships) from networkx as a PyG ``Data``: one-hot identity
    features, ``y`` the club each member joined (0: Mr. Hi, 1: Officer), both edge directions."""
    import networkx as nx
    import torch
    from torch_geometric.data import Data

    g = nx.karate_club_graph()
    e = torch.tensor(list(g.edges()), dtype=torch.long).T
    y = torch.tensor([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in g.nodes()])
    return Data(x=torch.eye(g.number_of_nodes()), edge_index=torch.cat([e, e.flip(0)], 1), y=y)
