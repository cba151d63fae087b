"""Seeded string-to-string tasks for sequence models: addition, copy and reverse.

Each generator returns a list of ``(source, target)`` string pairs drawn with a ``torch.Generator``, so the
output depends only on the arguments and the generator's state. Sources within one call are distinct, and
``exclude`` keeps any given sources out, which is how :func:`disjoint_splits` builds held-out test sets that
share no source with training (Sutskever, Vinyals & Le 2014 train on such pairs; the addition task is the
one Zaremba & Sutskever 2014 and the Keras ``addition_rnn`` example use).

:class:`SeqVocab` maps characters to ids with three special tokens (``pad`` = 0, ``sos`` = 1, ``eos`` = 2)
and pads lists of strings into ``(B, L)`` LongTensors.

    g = torch.Generator().manual_seed(0)
    splits = disjoint_splits(addition_pairs, {"train": 5000, "test": 500}, g, digits=3)
    vocab = SeqVocab(ADDITION_CHARS)
    src, src_len = vocab.batch([s for s, _ in splits["train"]])            # (B, S), (B,)
    tgt, tgt_len = vocab.batch([t for _, t in splits["train"]], eos=True)  # (B, T), (B,)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

if TYPE_CHECKING:  # torch is imported inside the functions: `import deepcourse.data` stays cheap
    import torch

__all__ = ["SeqVocab", "ADDITION_CHARS", "LETTERS", "addition_pairs", "copy_pairs", "reverse_pairs",
           "disjoint_splits"]

ADDITION_CHARS = "0123456789+"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
Pair = tuple[str, str]


class SeqVocab:
    """A character vocabulary with ``<pad>`` (id 0), ``<sos>`` (1) and ``<eos>`` (2) before the characters.

    ``encode("12")`` gives the ids of the characters (with ``sos``/``eos`` added on request); ``decode``
    stops at the first ``<eos>`` and drops ``<pad>``/``<sos>``; ``batch`` pads strings to a ``(B, L)``
    LongTensor and returns their lengths (special tokens included).
    """

    PAD, SOS, EOS = 0, 1, 2
    SPECIALS = ("<pad>", "<sos>", "<eos>")

    def __init__(self, chars: Iterable[str]):
        chars = list(dict.fromkeys(chars))  # keeps the order, drops repeats
        if not chars:
            raise ValueError("SeqVocab needs at least one character")
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"SeqVocab takes single characters, got {bad[:3]!r}")
        self.chars = "".join(chars)
        self.itos = list(self.SPECIALS) + chars
        self.stoi = {c: i + len(self.SPECIALS) for i, c in enumerate(chars)}

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def size(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"SeqVocab({self.chars!r})"

    def ids(self, text: str, sos: bool = False, eos: bool = False) -> list[int]:
        try:
            body = [self.stoi[c] for c in text]
        except KeyError as e:
            raise ValueError(f"character {e.args[0]!r} is not in the vocabulary {self.chars!r}") from None
        return [self.SOS] * sos + body + [self.EOS] * eos

    def encode(self, text: str, sos: bool = False, eos: bool = False) -> torch.Tensor:
        """The ids of ``text`` as a LongTensor ``(len(text) + sos + eos,)``."""
        import torch

        return torch.tensor(self.ids(text, sos, eos), dtype=torch.long)

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The characters of ``ids`` up to the first ``<eos>``; ``<pad>`` and ``<sos>`` are skipped."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        out = []
        for i in ids:
            if i == self.EOS:
                break
            if i in (self.PAD, self.SOS):
                continue
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is outside the vocabulary (size {len(self.itos)})")
            out.append(self.itos[i])
        return "".join(out)

    def batch(self, texts: Sequence[str], sos: bool = False, eos: bool = False,
              length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Pad ``texts`` with ``<pad>`` into ids ``(B, L)`` (``L`` = the longest, or ``length``) and
        lengths ``(B,)``."""
        import torch

        if isinstance(texts, str):
            raise ValueError("batch takes a sequence of strings, not one string")
        rows = [self.ids(t, sos, eos) for t in texts]
        lens = torch.tensor([len(r) for r in rows], dtype=torch.long)
        width = max((len(r) for r in rows), default=0) if length is None else length
        if rows and width < int(lens.max()):
            raise ValueError(f"length={length} is shorter than the longest sequence ({int(lens.max())})")
        out = torch.full((len(rows), width), self.PAD, dtype=torch.long)
        for i, r in enumerate(rows):
            out[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        return out, lens

    def decode_batch(self, ids: torch.Tensor) -> list[str]:
        if ids.dim() != 2:
            raise ValueError(f"decode_batch expects ids of shape (B, L), got {tuple(ids.shape)}")
        return [self.decode(row) for row in ids]


# ------------------------------------------------------------------------------------------- generators

def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _unique(n: int, capacity: int, exclude: Iterable[str], draw: Callable[[int], list[Pair]]) -> list[Pair]:
    """``n`` pairs with distinct sources not in ``exclude``, drawing batches with ``draw(k)``."""
    seen = set(exclude)
    if n > capacity - len(seen):
        raise ValueError(f"asked for {n} distinct pairs but at most {capacity - len(seen)} exist "
                         f"({capacity} in all, {len(seen)} excluded)")
    out: list[Pair] = []
    while len(out) < n:
        for src, tgt in draw(max(16, 2 * (n - len(out)))):
            if src not in seen:
                seen.add(src)
                out.append((src, tgt))
                if len(out) == n:
                    break
    return out


def addition_pairs(n: int, digits: int = 3, generator: torch.Generator | None = None, *,
                   exclude: Iterable[str] = ()) -> list[Pair]:
    """``n`` distinct sums ``"a+b"`` -> ``"a+b evaluated"``, each operand uniform in ``[0, 10**digits)``
    (so ``"535+61"`` -> ``"596"``); sources in ``exclude`` are never drawn."""
    import torch

    _check_int("n", n, 0)
    _check_int("digits", digits, 1)
    hi = 10 ** digits

    def draw(k: int) -> list[Pair]:
        ab = torch.randint(0, hi, (k, 2), generator=generator).tolist()
        return [(f"{a}+{b}", str(a + b)) for a, b in ab]

    return _unique(n, hi * hi, exclude, draw)


def _strings(n: int, length: tuple[int, int] | int, alphabet: str, generator, exclude, transform) -> list[Pair]:
    import torch

    _check_int("n", n, 0)
    lo, hi = (length, length) if isinstance(length, int) else tuple(length)
    _check_int("min length", lo, 1)
    if hi < lo:
        raise ValueError(f"length range must have min <= max, got {length!r}")
    if len(set(alphabet)) != len(alphabet) or not alphabet:
        raise ValueError(f"alphabet must be non-empty with distinct characters, got {alphabet!r}")
    a = len(alphabet)
    capacity = sum(a ** L for L in range(lo, hi + 1)) if a ** hi < 1e15 else math.inf

    def draw(k: int) -> list[Pair]:
        lens = torch.randint(lo, hi + 1, (k,), generator=generator).tolist()
        sym = torch.randint(0, a, (k, hi), generator=generator).tolist()
        out = []
        for L, row in zip(lens, sym):
            s = "".join(alphabet[j] for j in row[:L])
            out.append((s, transform(s)))
        return out

    return _unique(n, capacity, exclude, draw)


def copy_pairs(n: int, length: tuple[int, int] | int = (1, 8), generator: torch.Generator | None = None, *,
               alphabet: str = LETTERS[:10], exclude: Iterable[str] = ()) -> list[Pair]:
    """``n`` distinct strings over ``alphabet`` with lengths uniform in ``length`` (min, max), each mapped
    to itself."""
    return _strings(n, length, alphabet, generator, exclude, lambda s: s)


def reverse_pairs(n: int, length: tuple[int, int] | int = (1, 8), generator: torch.Generator | None = None, *,
                  alphabet: str = LETTERS[:10], exclude: Iterable[str] = ()) -> list[Pair]:
    """As :func:`copy_pairs`, each string mapped to its reverse."""
    return _strings(n, length, alphabet, generator, exclude, lambda s: s[::-1])


def disjoint_splits(task: Callable[..., list[Pair]], sizes: dict[str, int],
                    generator: torch.Generator | None = None, **kwargs) -> dict[str, list[Pair]]:
    """Splits of one task (e.g. ``{"train": 5000, "test": 500}``) whose sources never repeat across
    splits: each split is drawn with the sources of the previous ones excluded. ``kwargs`` go to ``task``."""
    used: set[str] = set()
    out: dict[str, list[Pair]] = {}
    for name, n in sizes.items():
        out[name] = task(n, generator=generator, exclude=used, **kwargs)
        used.update(s for s, _ in out[name])
    return out
