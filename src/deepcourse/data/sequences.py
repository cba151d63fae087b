"""Sequence datasets: Tiny Shakespeare and Plato's *Republic* (characters), JSB Chorales (piano rolls) and UCI
Occupancy (multivariate sensor series).

Registered like the image sets (verified by size and sha256 before use; a missing copy raises
:class:`~deepcourse.data.DataMissingError` listing where it was looked for). Through the generic
:func:`~deepcourse.data.load_tensors` each returns ``(x, y)`` tensors:

* ``tinyshakespeare`` / ``plato-republic``: ``x`` the text's bytes as uint8 ``(N,)``, ``y`` empty;
* ``jsb-chorales``: ``x`` the concatenated 88-key piano rolls ``(T_total, 88)``, ``y`` the sequence lengths;
* ``occupancy``: ``x`` float32 ``(N, 5)`` (temperature, humidity, light, CO2, humidity ratio), ``y`` 0/1.

The task-shaped helpers below are what models use: :func:`load_char_corpus`, :func:`load_jsb_chorales`,
:func:`load_occupancy`.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field

import numpy as np

from .registry import DatasetSpec, FileSpec, LoadContext, load_tensors, register_dataset

__all__ = ["CharCorpus", "load_char_corpus", "load_jsb_chorales", "load_occupancy", "JSB_LOWEST_PITCH",
           "OCCUPANCY_FEATURES"]

JSB_LOWEST_PITCH = 21  # piano-roll column 0 is MIDI 21 (A0); 88 keys up to MIDI 108 (C8)
OCCUPANCY_FEATURES = ("Temperature", "Humidity", "Light", "CO2", "HumidityRatio")
_RAW = "https://raw.githubusercontent.com/"


# ------------------------------------------------------------------------------------------ text corpora

def _text_loader(rel: str, strip_gutenberg: bool = False):
    def load(ctx: LoadContext, split: str):
        import torch

        data = ctx.file(rel).read_bytes()
        if strip_gutenberg:
            data = _strip_gutenberg(data)
        return torch.frombuffer(bytearray(data), dtype=torch.uint8), torch.zeros(0, dtype=torch.int64)

    return load


def _strip_gutenberg(data: bytes) -> bytes:
    """The text between Project Gutenberg's ``*** START OF`` and ``*** END OF`` marker lines (whole file if absent)."""
    start, end = data.find(b"*** START OF"), data.find(b"*** END OF")
    if start >= 0:
        start = data.find(b"\n", start) + 1
    return data[max(start, 0):end if end > start else len(data)].strip() + b"\n"


register_dataset(DatasetSpec(
    name="tinyshakespeare",
    description="Tiny Shakespeare: 1,115,394 characters of Shakespeare's plays (Karpathy's char-rnn corpus).",
    files=(FileSpec("tinyshakespeare/input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                    1115394, urls=(_RAW + "karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/"
                                   "tinyshakespeare/input.txt",)),),
    licence="public domain text (repository: MIT)",
    loader=_text_loader("tinyshakespeare/input.txt"),
    citation="Karpathy (2015), The Unreasonable Effectiveness of Recurrent Neural Networks (char-rnn).",
    kind="text", splits=("train",),
))

register_dataset(DatasetSpec(
    name="plato-republic",
    description="Plato, The Republic (Project Gutenberg #1497, Jowett's translation); the Gutenberg header and "
                "licence are stripped on load.",
    files=(FileSpec("text_corpora/plato_republic_pg1497.txt",
                    "fd025e38db153a7223aa0e6f1eb85076280784d13bcc4807bfa3b3f79858bed6", 1214385,
                    urls=(_RAW + "jbrownlee/Datasets/d20fcb6402ae34e653d4513b00f39257bb37ed7f/republic.txt",)),),
    licence="public domain (Project Gutenberg licence for the file)",
    loader=_text_loader("text_corpora/plato_republic_pg1497.txt", strip_gutenberg=True),
    citation="Plato, The Republic, trans. B. Jowett; Project Gutenberg eBook #1497.",
    kind="text", splits=("train",),
))


@dataclass
class CharCorpus:
    """A character corpus with its vocabulary and nanoGPT's split (first ``1 - val`` for training, the rest for
    validation)."""

    text: str
    chars: tuple[str, ...]
    train: "object"  # LongTensor of codes
    val: "object"
    stoi: dict[str, int] = field(repr=False, default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, s: str):
        import torch

        unknown = sorted(set(s) - set(self.stoi))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown[:10]!r}")
        return torch.tensor([self.stoi[c] for c in s], dtype=torch.long)

    def decode(self, codes) -> str:
        return "".join(self.chars[int(i)] for i in codes)


def load_char_corpus(name: str = "tinyshakespeare", val: float = 0.1,
                     root: str | os.PathLike[str] | None = None) -> CharCorpus:
    """Characters of a registered text corpus as integer codes (vocabulary: the sorted set of characters).

    ``val`` is the validation share, taken from the end of the text as nanoGPT does (0.1: 1,003,854 training
    and 111,540 validation characters for Tiny Shakespeare).
    """
    import torch

    if not 0.0 < val < 1.0:
        raise ValueError(f"val must be in (0, 1), got {val}")
    raw, _ = load_tensors(name, "train", root)
    text = bytes(raw.numpy()).decode("utf-8")
    chars = tuple(sorted(set(text)))
    stoi = {c: i for i, c in enumerate(chars)}
    lut = np.full(max(map(ord, chars)) + 1, -1, dtype=np.int64)
    lut[[ord(c) for c in chars]] = np.arange(len(chars))
    codes = torch.from_numpy(lut[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)])
    n_train = int(len(codes) * (1.0 - val))
    return CharCorpus(text, chars, codes[:n_train].clone(), codes[n_train:].clone(), stoi)


# ----------------------------------------------------------------------------------------- JSB Chorales

_JSB_SPLITS = ("train", "valid", "test")


def _jsb_rolls(ctx: LoadContext, split: str) -> list[np.ndarray]:
    with open(ctx.file("jsb_chorales/jsb-chorales-quarter.json")) as f:
        data = json.load(f)
    key = {"val": "valid"}.get(split, split)
    rolls = []
    for seq in data[key]:
        roll = np.zeros((len(seq), 88), dtype=np.float32)
        for t, chord in enumerate(seq):
            for pitch in chord:
                p = int(pitch) - JSB_LOWEST_PITCH
                if not 0 <= p < 88:
                    raise ValueError(f"JSB Chorales: MIDI pitch {pitch} outside the piano's 21..108")
                roll[t, p] = 1.0
        rolls.append(roll)
    return rolls


def _jsb_loader(ctx: LoadContext, split: str):
    import torch

    rolls = _jsb_rolls(ctx, split)
    return (torch.from_numpy(np.concatenate(rolls)), torch.tensor([len(r) for r in rolls], dtype=torch.int64))


register_dataset(DatasetSpec(
    name="jsb-chorales",
    description="JSB Chorales: 382 Bach chorales as 88-key piano rolls at quarter-note resolution, Boulanger-"
                "Lewandowski et al.'s split (229 train / 76 valid / 77 test).",
    files=(FileSpec("jsb_chorales/jsb-chorales-quarter.json",
                    "2db9329f1881a1d3f49703ec556bf1d6f84b4f6c1d702c156536e93cf31e1c91", 407200,
                    urls=(_RAW + "czhuang/JSB-Chorales-dataset/9a7f733ddb4ed91f48da64ac7f0f621c34aadd4d/"
                                 "jsb-chorales-quarter.json",)),),
    licence="none stated in the source repository",
    loader=_jsb_loader,
    citation=("Boulanger-Lewandowski, Bengio & Vincent (2012), Modeling temporal dependencies in high-dimensional "
              "sequences: application to polyphonic music generation and transcription, ICML."),
    kind="polyphonic-music", splits=_JSB_SPLITS,
))


def load_jsb_chorales(root: str | os.PathLike[str] | None = None) -> dict[str, list]:
    """``{'train', 'valid', 'test'}`` -> list of float32 piano rolls ``(T, 88)`` (column ``k`` is MIDI ``21 + k``)."""
    out = {}
    for split in _JSB_SPLITS:
        x, lengths = load_tensors("jsb-chorales", split, root)
        out[split] = list(x.split(lengths.tolist()))
    return out


# -------------------------------------------------------------------------------------------- Occupancy

_OCC_FILES = {"train": "datatraining.txt", "test": "datatest.txt", "test2": "datatest2.txt"}
_OCC = {"datatraining.txt": ("b2c4d0ce2b9e4e453c476f7125ef31aeec2d1f5c7f5572d0e80de3df6521ab56", 596674),
        "datatest.txt": ("1b92c7c1b2838963464fa891a610cf3c5db4becb7189189b29b330107a584c7f", 200766),
        "datatest2.txt": ("d026d1bd5aeccd4aff4f3b3710d48e40613bd5fc370db7e61bbdcaa50d985095", 699664)}


def _occupancy_loader(ctx: LoadContext, split: str):
    """Rows are ``"id","date",T,H,Light,CO2,HumidityRatio,Occupancy``; the header lacks the id column."""
    import torch

    path = ctx.file(f"occupancy/{_OCC_FILES[split]}")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    cols = [header.index(c) + 1 for c in OCCUPANCY_FEATURES]  # +1: the unnamed row-id column
    label = header.index("Occupancy") + 1
    try:
        x = np.array([[float(r[c]) for c in cols] for r in body], dtype=np.float32)
        y = np.array([int(r[label]) for r in body], dtype=np.int64)
    except (ValueError, IndexError) as e:
        raise ValueError(f"{path}: unexpected row format ({e})") from None
    return torch.from_numpy(x), torch.from_numpy(y)


register_dataset(DatasetSpec(
    name="occupancy",
    description="UCI Occupancy Detection: minute-by-minute temperature, humidity, light, CO2 and humidity ratio "
                "of an office with a 0/1 occupancy label; train 8,143 / test 2,665 / test2 9,752 rows.",
    files=tuple(FileSpec(f"occupancy/{n}", sha, size,
                         urls=(_RAW + f"LuisM78/Occupancy-detection-data/ba2b1d7b53a71292ff61b867d3e16f0e539c7eb6/{n}",))
                for n, (sha, size) in _OCC.items()),
    licence="CC BY 4.0 (UCI listing)",
    loader=_occupancy_loader,
    citation=("Candanedo & Feldheim (2016), Accurate occupancy detection of an office room from light, temperature, "
              "humidity and CO2 measurements using statistical learning models, Energy and Buildings 112."),
    kind="time-series-classification", splits=tuple(_OCC_FILES), classes=("empty", "occupied"),
))


def load_occupancy(root: str | os.PathLike[str] | None = None) -> dict[str, tuple]:
    """``{'train', 'test', 'test2'}`` -> ``(x, y)``: raw float32 features ``(N, 5)`` in the order of
    :data:`OCCUPANCY_FEATURES` (unnormalised) and 0/1 labels ``(N,)``, rows in time order."""
    return {split: load_tensors("occupancy", split, root) for split in _OCC_FILES}
