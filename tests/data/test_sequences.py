"""Sequence datasets: loaders on tiny fixture files (checksums replaced by the fixture's), and the staged copies."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from deepcourse.data import DataCorruptError, load_char_corpus, load_jsb_chorales, load_occupancy, load_tensors
from deepcourse.data.registry import FileSpec, get_spec, register_dataset, unregister_dataset
from deepcourse.data import sequences


def _fixture_spec(name, tmp_path, fx, files):
    spec = get_spec(name)
    specs = tuple(FileSpec(rel, fx.sha256(tmp_path / rel), (tmp_path / rel).stat().st_size) for rel in files)
    return replace(spec, files=specs)


@pytest.fixture
def fake_root(tmp_path, fx, monkeypatch):
    """Tiny copies of each sequence dataset under ``tmp_path``, registered under their real names."""
    (tmp_path / "tinyshakespeare").mkdir()
    (tmp_path / "tinyshakespeare/input.txt").write_text("abcabcabcd\n" * 10)
    (tmp_path / "jsb_chorales").mkdir()
    chorales = {"train": [[[60, 64, 67], [62]], [[21, 108]]], "valid": [[[50]]], "test": [[[], [70]]]}
    (tmp_path / "jsb_chorales/jsb-chorales-quarter.json").write_text(json.dumps(chorales))
    (tmp_path / "occupancy").mkdir()
    header = '"date","Temperature","Humidity","Light","CO2","HumidityRatio","Occupancy"\n'
    for n in ("datatraining.txt", "datatest.txt", "datatest2.txt"):
        (tmp_path / "occupancy" / n).write_text(
            header + '"1","2015-02-04 17:51:00",23.18,27.272,426,721.25,0.0047,1\n'
                     '"2",2015-02-04 17:52:00,23.15,27.2675,0,714,0.0046,0\n')
    saved = {n: get_spec(n) for n in ("tinyshakespeare", "jsb-chorales", "occupancy")}
    register_dataset(_fixture_spec("tinyshakespeare", tmp_path, fx, ["tinyshakespeare/input.txt"]), replace=True)
    register_dataset(_fixture_spec("jsb-chorales", tmp_path, fx, ["jsb_chorales/jsb-chorales-quarter.json"]),
                     replace=True)
    register_dataset(_fixture_spec("occupancy", tmp_path, fx,
                                   [f"occupancy/{n}" for n in ("datatraining.txt", "datatest.txt", "datatest2.txt")]),
                     replace=True)
    yield tmp_path
    for spec in saved.values():
        register_dataset(spec, replace=True)


def test_char_corpus_roundtrip_and_split(fake_root):
    c = load_char_corpus("tinyshakespeare", val=0.1, root=fake_root)
    assert c.chars == ("\n", "a", "b", "c", "d") and c.vocab_size == 5
    assert len(c.train) == 99 and len(c.val) == 11  # nanoGPT: the last 10 % is validation
    assert c.decode(torch.cat([c.train, c.val])) == c.text
    assert c.encode("cab").tolist() == [3, 1, 2]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        c.encode("z")
    with pytest.raises(ValueError, match="val"):
        load_char_corpus("tinyshakespeare", val=1.0, root=fake_root)


def test_jsb_piano_rolls(fake_root):
    rolls = load_jsb_chorales(root=fake_root)
    assert [len(rolls[s]) for s in ("train", "valid", "test")] == [2, 1, 1]
    first = rolls["train"][0]
    assert first.shape == (2, 88) and first.dtype == torch.float32
    assert torch.nonzero(first[0]).flatten().tolist() == [60 - 21, 64 - 21, 67 - 21]
    assert rolls["train"][1][0, 0] == 1 and rolls["train"][1][0, 87] == 1  # the piano's lowest and highest keys
    assert rolls["test"][0][0].sum() == 0  # a rest is an empty frame


def test_jsb_rejects_pitch_off_the_piano(fake_root, fx):
    p = fake_root / "jsb_chorales/jsb-chorales-quarter.json"
    p.chmod(0o644)
    p.write_text(json.dumps({"train": [[[12]]], "valid": [], "test": []}))
    register_dataset(_fixture_spec("jsb-chorales", fake_root, fx, ["jsb_chorales/jsb-chorales-quarter.json"]),
                     replace=True)
    with pytest.raises(ValueError, match="MIDI pitch 12"):
        load_jsb_chorales(root=fake_root)


def test_occupancy_columns(fake_root):
    occ = load_occupancy(root=fake_root)
    x, y = occ["train"]
    assert set(occ) == {"train", "test", "test2"}
    assert x.shape == (2, 5) and y.tolist() == [1, 0]
    assert x[0].tolist() == pytest.approx([23.18, 27.272, 426, 721.25, 0.0047])  # the row id is skipped
    assert sequences.OCCUPANCY_FEATURES[2] == "Light" and x[1, 2] == 0


def test_corrupt_copy_is_refused(fake_root):
    (fake_root / "tinyshakespeare/input.txt").write_text("abcabcabce\n" * 10)  # same size, other bytes
    with pytest.raises(DataCorruptError):
        load_char_corpus("tinyshakespeare", root=fake_root)


def test_gutenberg_header_stripped():
    raw = b"header\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\nbody text\n*** END OF THE PROJECT\nlicence"
    assert sequences._strip_gutenberg(raw) == b"body text\n"


def test_staged_copies(shared_data):
    c = load_char_corpus("tinyshakespeare")
    assert len(c.train) + len(c.val) == 1115394 and c.vocab_size == 65
    rolls = load_jsb_chorales()
    assert [len(rolls[s]) for s in ("train", "valid", "test")] == [229, 76, 77]
    assert sum(len(r) for r in rolls["train"]) == 13807
    occ = load_occupancy()
    assert [len(occ[s][1]) for s in ("train", "test", "test2")] == [8143, 2665, 9752]
    text, _ = load_tensors("plato-republic")
    assert bytes(text[:30].numpy()).startswith(b"Produced by") and b"Gutenberg-tm" not in bytes(text[-2000:].numpy())
