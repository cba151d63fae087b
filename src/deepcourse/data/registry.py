"""Dataset registry: what each dataset's files are, where they live, and how to check and fetch them.

A :class:`DatasetSpec` names the files (:class:`FileSpec`: path relative to the data root, sha256,
size, canonical URLs), the licence, the citation and a loader. Everything is verified before it is read:
the size on every load, the sha256 once per (path, size, mtime, ctime, inode), remembered in
``<cache>/sha256-cache.json`` (see :func:`deepcourse.data.roots.user_cache_dir`) so later loads are
instant. What the cache trusts: that a file whose path, size, mtime, ctime and inode are unchanged holds
the same bytes. Any write through the file system changes the ctime (even when the mtime is put back
with ``touch``/``os.utime``, which itself sets the ctime), so an edited file is hashed again; damage that
bypasses the file system (bit rot on the disk) is not seen by loads. ``check`` (``deepcourse data
check``) therefore trusts nothing: it re-hashes every file and refreshes the cache.

CLI contract (``deepcourse data list|where|check|download``; the lead's CLI calls these):

* ``list``: ``print(format_list(root))``; exit 0.
* ``where NAME``: ``print(where(NAME, root))``; exit 0 (the folder need not exist).
* ``check NAME``: ``results = check(NAME, root)`` gives a list of :class:`FileCheck` ``(file, status)``
  with status ``"ok" | "missing" | "size mismatch" | "sha256 mismatch"``; ``print(format_check(results))``;
  exit 0 if :func:`all_ok` else 1.
* ``download NAME``: ``paths = download(NAME, root)`` returns the files it fetched (empty if all were
  already valid); print them; exit 0.
* An unknown NAME raises ``ValueError`` (message lists the known names). Every other failure is a
  :class:`~deepcourse.data.errors.DataError` (``DownloadError``, ``DataCorruptError``,
  ``DataMissingError``) whose ``str()`` is a complete message: print it to stderr and exit 1.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

from .download import download_file, sha256_file
from .errors import DataCorruptError, DataMissingError, DownloadError
from .roots import data_root, derived_dir, root_source, user_cache_dir

__all__ = [
    "FileSpec", "DatasetSpec", "FileCheck", "LoadContext",
    "register_dataset", "unregister_dataset", "get_spec", "list_datasets",
    "where", "check", "all_ok", "verify", "download", "load_tensors", "load_dataset",
    "format_list", "format_check", "STATUSES",
]

STATUSES = ("ok", "missing", "size mismatch", "sha256 mismatch")


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset.

    Attributes:
        path: POSIX path relative to the data root, e.g. ``"mnist/train-images-idx3-ubyte.gz"``.
        sha256: hex digest of the reference copy (the one staged in ``shared/data``).
        size: size in bytes of the reference copy.
        urls: canonical download URLs, tried in order.
        also_accept: other ``(sha256, size)`` pairs accepted as the same data, e.g. the upstream ``.gz``
            whose compressed bytes differ from the staged copy while the decompressed content is equal.
            The URLs may serve any accepted variant.
    """

    path: str
    sha256: str
    size: int
    urls: tuple[str, ...] = ()
    also_accept: tuple[tuple[str, int], ...] = ()

    def accepted(self) -> dict[int, set[str]]:
        """Map size -> accepted sha256 digests of that size."""
        out: dict[int, set[str]] = {self.size: {self.sha256}}
        for sha, size in self.also_accept:
            out.setdefault(size, set()).add(sha)
        return out


@dataclass(frozen=True)
class LoadContext:
    """What a loader gets: the spec, the resolved data root, and the verified dataset folder."""

    spec: "DatasetSpec"
    root: Path

    @property
    def folder(self) -> Path:
        return self.root / self.spec.folder

    def file(self, rel: str) -> Path:
        """Absolute path of a registered file (``rel`` as written in :attr:`FileSpec.path`)."""
        return self.root / rel

    def derived(self) -> Path:
        """Folder for derived caches (decoded arrays); see :func:`deepcourse.data.roots.derived_dir`."""
        return derived_dir(self.root)


Loader = Callable[[LoadContext, str], tuple[Any, Any]]
DatasetFactory = Callable[..., Any]


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset.

    Attributes:
        name: registry key, e.g. ``"mnist"``.
        description: one or two sentences (shown by ``deepcourse data list``).
        files: the :class:`FileSpec` entries.
        licence: licence in a few words.
        loader: ``loader(ctx: LoadContext, split) -> (x, y)`` tensors; called after verification.
        citation: reference to cite.
        kind: e.g. ``"image-classification"``.
        splits: accepted split names.
        folder: folder under the root (default: first component of the first file's path).
        dataset: optional ``dataset(ctx, split, transform, target_transform) -> torch Dataset``; when
            absent, :func:`load_dataset` wraps the tensors from ``loader``.
        how_to_get: extra instructions for users without a URL route (shown in errors).
        classes: class names in label order.
    """

    name: str
    description: str
    files: tuple[FileSpec, ...]
    licence: str
    loader: Loader
    citation: str
    kind: str
    splits: tuple[str, ...] = ("train", "test")
    folder: str = ""
    dataset: DatasetFactory | None = None
    how_to_get: str = ""
    classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.files:
            raise ValueError(f"dataset {self.name!r}: files must not be empty")
        if not self.folder:
            object.__setattr__(self, "folder", self.files[0].path.split("/")[0])

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


class FileCheck(NamedTuple):
    """Result of checking one file: ``file`` (absolute path) and ``status`` (one of :data:`STATUSES`)."""

    file: Path
    status: str


_REGISTRY: dict[str, DatasetSpec] = {}


def register_dataset(spec: DatasetSpec, replace: bool = False) -> DatasetSpec:
    """Add ``spec`` to the registry (``ValueError`` if the name is taken and ``replace`` is false)."""
    if not isinstance(spec, DatasetSpec):
        raise TypeError(f"spec must be a DatasetSpec, got {type(spec).__name__}")
    if spec.name in _REGISTRY and not replace:
        raise ValueError(f"dataset {spec.name!r} is already registered (pass replace=True to override)")
    _REGISTRY[spec.name] = spec
    return spec


def unregister_dataset(name: str) -> None:
    """Remove a dataset (used by tests that register fixtures); unknown names are ignored."""
    _REGISTRY.pop(name, None)


def list_datasets() -> list[str]:
    """Registered dataset names, sorted."""
    return sorted(_REGISTRY)


def get_spec(name: str) -> DatasetSpec:
    """The spec registered as ``name``; ``ValueError`` listing the known names otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        known = ", ".join(list_datasets()) or "(none)"
        raise ValueError(f"unknown dataset {name!r}; known datasets: {known}") from None


def where(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Folder where dataset ``name`` is expected (``<data root>/<folder>``); it need not exist."""
    return data_root(root) / get_spec(name).folder


# ------------------------------------------------------------------------------------------ sha256 cache

class _ShaCache:
    """sha256 of files keyed by (absolute path, size, mtime_ns, ctime_ns, inode); persisted as JSON, best
    effort. ``fresh=True`` re-hashes and stores the new digest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mem: dict[str, str] = {}
        self._loaded_from: Path | None = None

    def _file(self) -> Path:
        return user_cache_dir() / "sha256-cache.json"

    def _load(self) -> None:
        path = self._file()
        if self._loaded_from == path:
            return
        self._loaded_from = path
        try:
            data = json.loads(path.read_text())
            if isinstance(data, dict):
                self._mem.update({k: v for k, v in data.items() if isinstance(v, str)})
        except (OSError, ValueError):
            pass

    def _save(self) -> None:
        path = self._file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._mem, indent=0, sort_keys=True))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home only costs re-hashing next time

    def sha256(self, path: Path, fresh: bool = False) -> str:
        st = path.stat()
        key = f"{path.absolute()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}"
        with self._lock:
            self._load()
            hit = None if fresh else self._mem.get(key)
        if hit is not None:
            return hit
        digest = sha256_file(path)
        with self._lock:
            self._mem[key] = digest
            self._save()
        return digest


_SHA_CACHE = _ShaCache()


def _status(fs: FileSpec, path: Path, full: bool = True, fresh: bool = False) -> tuple[str, str | None, int | None]:
    """(status, actual sha256 or None, actual size or None) for one file; ``fresh`` re-hashes (no cache)."""
    if not path.is_file():
        return "missing", None, None
    size = path.stat().st_size
    accepted = fs.accepted()
    if size not in accepted:
        return "size mismatch", None, size
    if not full:
        return "ok", None, size
    digest = _SHA_CACHE.sha256(path, fresh=fresh)
    if digest not in accepted[size]:
        return "sha256 mismatch", digest, size
    return "ok", digest, size


def check(name: str, root: str | os.PathLike[str] | None = None, full: bool = True) -> list[FileCheck]:
    """Check every file of ``name``: a list of :class:`FileCheck` ``(file, status)``.

    ``status`` is ``"ok"``, ``"missing"``, ``"size mismatch"`` or ``"sha256 mismatch"``. With
    ``full=True`` (the default) every file is re-hashed, whatever the sha256 cache holds, so a byte
    flipped in place is found even when the file's mtime was put back; with ``full=False`` only
    existence and size are checked (what ``format_list`` uses).
    """
    spec = get_spec(name)
    base = data_root(root)
    return [FileCheck(base / fs.path, _status(fs, base / fs.path, full, fresh=full)[0]) for fs in spec.files]


def all_ok(results: Sequence[FileCheck]) -> bool:
    """True when every file checked ``ok``."""
    return all(r.status == "ok" for r in results)


def _url_hint(spec: DatasetSpec) -> str:
    bases = sorted({u.rsplit("/", 1)[0] + "/" for f in spec.files for u in f.urls[:1]})
    return ", ".join(bases)


def _missing_message(spec: DatasetSpec, base: Path, override: Any,
                     rows: list[tuple[Path, str]]) -> str:
    lines = [f"dataset {spec.name!r} ({spec.description.split('.')[0]}) is not available "
             f"under the data root {base} (from {root_source(override)}).",
             "Searched:"]
    width = max(len(str(p)) for p, _ in rows)
    lines += [f"  {str(p):<{width}}  ({s})" for p, s in rows]
    lines.append("How to get it:")
    urls = _url_hint(spec)
    if urls:
        lines.append(f"  - deepcourse data download {spec.name}   (fetches from {urls} into {base / spec.folder})")
    if spec.how_to_get:
        lines += [f"  - {line}" for line in spec.how_to_get.strip().splitlines()]
    lines.append("  - or point at a folder that already holds it: DEEPCOURSE_DATA=../shared/data "
                 "(or --data-dir DIR); the files are expected at DIR/" + spec.folder + "/")
    return "\n".join(lines)


def verify(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Make sure every file of ``name`` is present and intact; return the dataset folder.

    Raises:
        DataMissingError: one or more files are absent (the message lists every path searched and how
            to get the data).
        DataCorruptError: a file has the wrong size or sha256 (names file, expected and actual).
    """
    spec = get_spec(name)
    base = data_root(root)
    rows = []
    for fs in spec.files:
        path = base / fs.path
        status, digest, size = _status(fs, path)
        if status == "size mismatch":
            sizes = " or ".join(str(s) for s in sorted(fs.accepted()))
            raise DataCorruptError(
                f"dataset {spec.name!r}: file {path} has the wrong size\n"
                f"  expected: {sizes} bytes\n  actual:   {size} bytes\n"
                f"Delete it and run `deepcourse data download {spec.name}` (or copy a good file).",
                path=path, expected=sorted(fs.accepted()), actual=size)
        if status == "sha256 mismatch":
            expected = " or ".join(sorted(fs.accepted()[size]))
            raise DataCorruptError(
                f"dataset {spec.name!r}: file {path} is corrupt (sha256 mismatch)\n"
                f"  expected sha256: {expected}\n  actual sha256:   {digest}\n"
                f"Delete it and run `deepcourse data download {spec.name}` (or copy a good file).",
                path=path, expected=sorted(fs.accepted()[size]), actual=digest)
        rows.append((path, status))
    if any(s == "missing" for _, s in rows):
        msg = _missing_message(spec, base, root, rows)
        raise DataMissingError(msg, dataset=spec.name, searched=[p for p, _ in rows],
                               hint=msg.split("How to get it:\n", 1)[-1])
    return base / spec.folder


def download(name: str, root: str | os.PathLike[str] | None = None, progress: bool = True) -> list[Path]:
    """Fetch the files of ``name`` that are missing or invalid into the data root; return them.

    Files already valid are skipped (so the call is idempotent and the return value may be empty).
    Each file is downloaded atomically and checked against its accepted sha256 values; URLs are tried
    in order.

    Raises:
        DownloadError: no URL is registered for a needed file, or every URL failed (message lists each
            URL and its error, plus the manual route).
        DataCorruptError: a URL served bytes with the wrong sha256 and no other URL succeeded.
    """
    spec = get_spec(name)
    base = data_root(root)
    fetched = []
    for fs in spec.files:
        dest = base / fs.path
        if _status(fs, dest)[0] == "ok":
            continue
        if not fs.urls:
            extra = f"\n{spec.how_to_get.strip()}" if spec.how_to_get else ""
            raise DownloadError(f"dataset {spec.name!r}: no download URL is registered for {fs.path}; "
                                f"place the file at {dest} by hand.{extra}")
        accepted = fs.accepted()
        errors: list[Exception] = []
        for url in fs.urls:
            try:
                download_file(url, dest, sha256={s for v in accepted.values() for s in v},
                              size=set(accepted), progress=progress)
            except (DownloadError, DataCorruptError) as e:
                errors.append(e)
                continue
            fetched.append(dest)
            break
        else:
            detail = "\n".join(f"  - {e}".replace("\n", "\n    ") for e in errors)
            if len(errors) == 1:
                raise errors[0]
            raise DownloadError(f"dataset {spec.name!r}: could not download {fs.path}; tried:\n{detail}",
                                url=fs.urls[-1])
    return fetched


# ---------------------------------------------------------------------------------------------- loading

def _check_split(spec: DatasetSpec, split: str) -> None:
    if split not in spec.splits:
        raise ValueError(f"split must be one of {spec.splits} for dataset {spec.name!r}, got {split!r} "
                         "(for a validation set use deepcourse.data.train_val_split on the train split)")


def load_tensors(name: str, split: str = "train", root: str | os.PathLike[str] | None = None):
    """The whole split in memory as ``(x, y)`` tensors (the fast path for experiments).

    MNIST / Fashion-MNIST: ``x`` uint8 ``(N, 28, 28)``, ``y`` int64 ``(N,)``. USPS: uint8 ``(N, 16, 16)``.
    CIFAR-10 (JPEG copy): uint8 ``(N, 3, 32, 32)``. Files are verified first (size always, sha256 once).

    Raises:
        ValueError: unknown dataset or split.
        DataMissingError / DataCorruptError: see :func:`verify`.
    """
    spec = get_spec(name)
    _check_split(spec, split)
    verify(name, root)
    return spec.loader(LoadContext(spec, data_root(root)), split)


def load_dataset(name: str, split: str = "train", root: str | os.PathLike[str] | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None):
    """A ``torch.utils.data.Dataset`` for ``name``/``split``.

    MNIST and Fashion-MNIST are torchvision ``MNIST`` / ``FashionMNIST`` subclasses reading the
    ``.gz`` files in place; items are ``(PIL image, int)`` unless ``transform`` / ``target_transform``
    say otherwise, exactly as with torchvision. Raises as :func:`load_tensors`.
    """
    spec = get_spec(name)
    _check_split(spec, split)
    verify(name, root)
    ctx = LoadContext(spec, data_root(root))
    if spec.dataset is not None:
        return spec.dataset(ctx, split, transform, target_transform)
    from .vision import TensorImageDataset

    x, y = spec.loader(ctx, split)
    return TensorImageDataset(str(ctx.folder), x, y, transform=transform,
                              target_transform=target_transform, classes=spec.classes)


# ------------------------------------------------------------------------------------------ CLI helpers

def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def format_list(root: str | os.PathLike[str] | None = None) -> str:
    """Table of registered datasets with a quick (existence + size) status, for ``deepcourse data list``."""
    base = data_root(root)
    rows = [("name", "kind", "files", "size", "status", "description")]
    for name in list_datasets():
        spec = get_spec(name)
        res = check(name, root, full=False)
        n_ok = sum(r.status == "ok" for r in res)
        if n_ok == len(res):
            status = "present"
        elif any(r.status == "size mismatch" for r in res):
            status = "bad size"
        elif n_ok == 0:
            status = "missing"
        else:
            status = f"partial {n_ok}/{len(res)}"
        rows.append((name, spec.kind, str(len(spec.files)), _human(spec.total_size), status,
                     spec.description.split(". ")[0].rstrip(".")))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [f"data root: {base}  (from {root_source(root)})", ""]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5])
    lines += ["", "present = files exist with the right size; `deepcourse data check NAME` verifies sha256."]
    return "\n".join(lines)


def format_check(results: Sequence[FileCheck]) -> str:
    """One line per file (``status  path``) plus a summary line, for ``deepcourse data check``."""
    lines = [f"{r.status:<16} {r.file}" for r in results]
    bad = sum(r.status != "ok" for r in results)
    lines.append("all files ok" if bad == 0 else f"{bad} of {len(results)} files not ok")
    return "\n".join(lines)
