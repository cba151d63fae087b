"""Graph datasets: registry entries, the TU parser on a tiny fixture, the staged TU / Planetoid / MoleculeNet
copies against the MANIFEST's statistics (skipped without shared/data), and the karate club."""

from __future__ import annotations

import pytest
import torch

from deepcourse.data import DataMissingError, get_spec, list_datasets
from deepcourse.data.graphs import (MOLECULE_DATASETS, PLANETOID_DATASETS, TU_DATASETS, karate_club, load_molecules,
                                    load_planetoid, load_qm9, load_tu, qm9_available, read_tu_folder)

pytest.importorskip("torch_geometric")


def test_registry_entries():
    names = list_datasets()
    for name in (*TU_DATASETS, *PLANETOID_DATASETS, *MOLECULE_DATASETS):
        assert name in names
    mutag = get_spec("mutag")
    files = {f.path: f for f in mutag.files}
    f = files["tu/MUTAG/MUTAG_A.txt"]
    assert f.sha256 == "d9656ca7493f3445d737c711710bb36fd432dddd1c0ea32e1d4713c86ebd28e2" and f.size == 76940
    assert f.urls[0].endswith("/data/MUTAG/MUTAG_A.txt") and mutag.folder == "tu/MUTAG"
    assert get_spec("proteins").files[0].urls[0].endswith("/data/TUDataset/PROTEINS/raw/PROTEINS_A.txt")
    cora = {f.path for f in get_spec("cora").files}
    assert "planetoid/ind.cora.graph" in cora and not any("citeseer" in p for p in cora)
    assert {f.path for f in get_spec("esol").files} == {"moleculenet/esol.csv", "moleculenet/LICENSE.ABT-MPNN"}
    with pytest.raises(ValueError, match="unknown TU dataset"):
        load_tu("mnist")


def test_read_tu_folder_on_a_tiny_fixture(tmp_path):
    # graph 1: triangle 1-2-3 (labels 5, 6, 5); graph 2: edge 4-5 (labels 6, 6); graph labels -1 and 1
    (tmp_path / "T_A.txt").write_text("1, 2\n2, 1\n2, 3\n3, 2\n1, 3\n3, 1\n4, 5\n5, 4\n")
    (tmp_path / "T_graph_indicator.txt").write_text("1\n1\n1\n2\n2\n")
    (tmp_path / "T_graph_labels.txt").write_text("-1\n1\n")
    (tmp_path / "T_node_labels.txt").write_text("5\n6\n5\n6\n6\n")
    (tmp_path / "T_edge_labels.txt").write_text("0\n0\n1\n1\n0\n0\n2\n2\n")
    g1, g2 = read_tu_folder(tmp_path, "T")
    assert g1.num_nodes == 3 and g2.num_nodes == 2
    assert g1.x.tolist() == [[1, 0], [0, 1], [1, 0]] and g2.x.tolist() == [[0, 1], [0, 1]]
    assert g1.y.item() == 0 and g2.y.item() == 1
    assert g2.edge_index.tolist() == [[0, 1], [1, 0]]
    assert g1.edge_attr.shape == (6, 3) and g2.edge_attr.argmax(1).tolist() == [2, 2]
    (tmp_path / "T_A.txt").write_text("1, 4\n")
    with pytest.raises(ValueError, match="joins two graphs"):
        read_tu_folder(tmp_path, "T")


TU_STATS = {  # graphs, nodes, directed edges (A lines), class counts, node feature size (MANIFEST / TUDataset)
    "mutag": (188, 3371, 7442, [63, 125], 7), "ptc-mr": (344, 4915, 10108, [192, 152], 18),
    "nci1": (4110, 122747, 265506, [2053, 2057], 37), "nci109": (4127, 122494, 265208, [2048, 2079], 38),
    "proteins": (1113, 43471, 162088, [663, 450], 4),
}


@pytest.mark.parametrize("name", list(TU_STATS))
def test_tu_datasets_match_the_manifest(shared_data, name):
    graphs = load_tu(name)
    n_graphs, n_nodes, n_edges, counts, feats = TU_STATS[name]
    assert len(graphs) == n_graphs
    assert sum(g.num_nodes for g in graphs) == n_nodes and sum(g.num_edges for g in graphs) == n_edges
    assert torch.bincount(torch.cat([g.y for g in graphs])).tolist() == counts
    assert all(g.x.shape[1] == feats for g in graphs)
    assert all(int(g.edge_index.max()) < g.num_nodes for g in graphs if g.num_edges)


def test_tu_matches_pyg_tudataset_reader(shared_data, tmp_path):
    """PyG's own TUDataset reading the same raw files (copied under <root>/MUTAG/raw/) gives the same graphs."""
    import shutil

    from torch_geometric.datasets import TUDataset

    raw = tmp_path / "MUTAG" / "raw"
    raw.mkdir(parents=True)
    for f in (shared_data / "tu" / "MUTAG").glob("MUTAG_*.txt"):
        shutil.copy(f, raw / f.name)
    ref = TUDataset(str(tmp_path), "MUTAG")
    ours = load_tu("mutag")
    def edges(g):  # PyG sorts (coalesces) the edges; compare them in that order, with their labels
        key = g.edge_index[0] * g.num_nodes + g.edge_index[1]
        order = torch.argsort(key)
        return g.edge_index[:, order].tolist(), g.edge_attr[order]

    for k in (0, 57, 187):
        torch.testing.assert_close(ours[k].x, ref[k].x)
        (e1, a1), (e2, a2) = edges(ours[k]), edges(ref[k])
        assert e1 == e2
        torch.testing.assert_close(a1, a2)
        assert ours[k].y.item() == ref[k].y.item()


@pytest.mark.parametrize("name,nodes,edges,feats,classes,train", [("cora", 2708, 10556, 1433, 7, 140),
                                                                 ("citeseer", 3327, 9104, 3703, 6, 120)])
def test_planetoid(shared_data, name, nodes, edges, feats, classes, train):
    data = load_planetoid(name)
    assert data.x.shape == (nodes, feats) and data.edge_index.shape == (2, edges)
    assert int(data.y.max()) + 1 == classes
    assert data.train_mask.sum() == train and data.val_mask.sum() == 500 and data.test_mask.sum() == 1000
    assert not (data.train_mask & data.test_mask).any() and not (data.val_mask & data.test_mask).any()
    assert torch.bincount(data.y[data.train_mask]).tolist() == [20] * classes  # 20 labels per class
    assert not (data.edge_index[0] == data.edge_index[1]).any()


@pytest.mark.parametrize("name,n", [("esol", 1128), ("freesolv", 642), ("lipophilicity", 4200)])
def test_moleculenet(shared_data, name, n):
    smiles, y = load_molecules(name)
    assert len(smiles) == n and y.shape == (n,) and torch.isfinite(y).all()
    assert all(isinstance(s, str) and s and " " not in s for s in smiles)


def test_qm9_optional():
    if not qm9_available():
        with pytest.raises(DataMissingError, match="qm9pack"):
            load_qm9(("homo",), subset=10)
        return
    with pytest.raises(ValueError, match="unknown QM9 targets"):
        load_qm9(("energy",))
    smiles, y = load_qm9(("homo", "gap"), subset=20)
    assert len(smiles) == 20 and y.shape == (20, 2) and torch.isfinite(y).all()
    assert (y[:, 0] < 0).all() and (y[:, 1] > 0).all()  # HOMO energies are negative, gaps positive (eV)
    assert load_qm9(("homo",), subset=20)[0] == smiles  # the subset is seeded


def test_karate_club():
    data = karate_club()
    assert data.num_nodes == 34 and data.edge_index.shape == (2, 156)
    assert torch.bincount(data.y).tolist() == [17, 17]
