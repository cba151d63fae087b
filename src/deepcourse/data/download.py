"""Verified downloads and safe archive extraction (standard library only: ``urllib``, ``zipfile``, ``tarfile``).

``download_file`` streams a URL into a temporary file *in the destination folder*, hashes it while
writing, checks size and sha256, ``fsync``s it and only then ``os.replace``s it onto the final name, so
the destination is either the complete verified file or absent: an interrupted or corrupted download
never leaves a half-written or wrong file under the real name (the temp file is deleted on every error).

``safe_extract`` checks every member of a zip or tar(.gz/.bz2/.xz) archive *before* extracting anything
and refuses absolute paths, ``..`` components, and symbolic/hard links whose target leaves the
destination; tar device files and FIFOs are refused too ("tar slip", CVE-2007-4559).

Errors: :class:`DownloadError` (HTTP status such as 404, network failure; names the URL),
:class:`DataCorruptError` (size or sha256 mismatch; names URL, file, expected and actual values),
:class:`UnsafeArchiveError` (names the offending member).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import posixpath
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Collection, Iterable

from .errors import DataCorruptError, DownloadError, UnsafeArchiveError

__all__ = ["download_file", "safe_extract", "sha256_file"]

_CHUNK = 1 << 20
_USER_AGENT = "deepcourse-data/1 (+urllib)"


def sha256_file(path: str | os.PathLike[str]) -> str:
    """sha256 hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _as_set(value: str | int | Iterable | None) -> set | None:
    if value is None:
        return None
    if isinstance(value, (str, int)):
        return {value.lower() if isinstance(value, str) else value}
    out = {v.lower() if isinstance(v, str) else v for v in value}
    return out or None


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not supported on every platform (Windows), hence best effort.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def download_file(url: str, dest: str | os.PathLike[str], sha256: str | Collection[str] | None = None,
                  size: int | Collection[int] | None = None, progress: bool = True,
                  timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` atomically and verify it.

    Args:
        url: ``http://`` or ``https://`` URL (other schemes raise ``ValueError``).
        dest: final file path; its folder is created. An existing file is replaced only on success.
        sha256: expected hex digest, or a collection of acceptable digests (a file published in
            several byte-different but equivalent forms); ``None`` skips the check.
        size: expected size in bytes (or a collection of acceptable sizes); ``None`` skips it.
        progress: show a tqdm progress bar (on stderr); ``$DEEPCOURSE_PROGRESS=0`` turns it off.
        timeout: socket timeout in seconds.

    Returns:
        ``Path(dest)``.

    Raises:
        DownloadError: HTTP error status (the message names the URL and the status, e.g. 404), a
            network failure, or a body shorter (or longer) than the announced ``Content-Length``.
        DataCorruptError: the bytes received do not have an accepted size or sha256; nothing is left
            in the destination folder.
    """
    if os.environ.get("DEEPCOURSE_PROGRESS") == "0":  # the project-wide switch for quiet runs/tests
        progress = False
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"url must start with http:// or https://, got {url!r}")
    dest = Path(dest)
    want_sha = _as_set(sha256)
    want_size = _as_set(size)

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (scheme checked above)
    except urllib.error.HTTPError as e:
        e.close()  # the error carries the open response; close it rather than leak the socket
        extra = " (not found on the server: check the URL or try another mirror)" if e.code == 404 else ""
        raise DownloadError(f"download failed: HTTP {e.code} {e.reason} for {url}{extra}",
                            url=url, status=e.code) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"download failed: cannot reach {url}: {reason} "
                            "(no network? behind a proxy? set https_proxy)", url=url) from None

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)  # only once the server answered
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError:
        response.close()
        raise
    tmp = Path(tmp_name)
    ok = False
    try:
        with response, os.fdopen(fd, "wb") as out:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            h = hashlib.sha256()
            n = 0
            from tqdm.auto import tqdm  # lazy: keeps `import deepcourse.data` cheap

            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name,
                      disable=not progress, leave=False) as bar:
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except (OSError, http.client.HTTPException) as e:
                        raise DownloadError(f"download failed: connection lost while reading {url}: {e}",
                                            url=url) from None
                    if not chunk:
                        break
                    out.write(chunk)
                    h.update(chunk)
                    n += len(chunk)
                    bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if total is not None and n != total:  # the server closed the connection early (or sent too much)
            raise DownloadError(f"download failed: {url} announced {total} bytes (Content-Length) but sent {n}; "
                                "the connection was cut. The file was discarded; try again or another mirror.",
                                url=url)
        digest = h.hexdigest()
        if want_size is not None and n not in want_size:
            raise DataCorruptError(
                f"downloaded file has the wrong size: {url} -> {dest}\n"
                f"  expected size: {' or '.join(str(s) for s in sorted(want_size))} bytes\n"
                f"  actual size:   {n} bytes\n"
                "The file was discarded. The server may serve a different version; try again or another mirror.",
                path=dest, expected=sorted(want_size), actual=n)
        if want_sha is not None and digest not in want_sha:
            raise DataCorruptError(
                f"downloaded file failed its sha256 check: {url} -> {dest}\n"
                f"  expected sha256: {' or '.join(sorted(want_sha))}\n"
                f"  actual sha256:   {digest}\n"
                "The file was discarded. The server may serve a different version; try again or another mirror.",
                path=dest, expected=sorted(want_sha), actual=digest)
        os.replace(tmp, dest)
        ok = True
        _fsync_dir(dest.parent)
        return dest
    finally:
        if not ok:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass


# ----------------------------------------------------------------------------------------------- archives

def _check_member_name(name: str, archive: Path) -> str:
    """Return the normalised relative POSIX path of a member, or raise UnsafeArchiveError."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise UnsafeArchiveError(f"unsafe archive {archive}: member {name!r} has an absolute path", member=name)
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"unsafe archive {archive}: member {name!r} contains '..'", member=name)
    return "/".join(parts)


def _inside(target: str) -> bool:
    """Does the relative POSIX path ``target`` stay inside the extraction folder once normalised?"""
    norm = posixpath.normpath(target)
    return not (norm == ".." or norm.startswith("../") or posixpath.isabs(norm))


class _Resolver:
    """Where each member of an archive would really land: the destination as the archive builds it up,
    member by member, with the symbolic links its earlier members create (and any links already on disk
    under ``dest``). Each path is resolved component by component, following links and chains of links,
    before anything is written, so ``a -> x/..``, ``b -> a/..``, ``b/evil.txt`` is caught: ``b/evil.txt``
    resolves to ``dest/../evil.txt``."""

    _MAX_HOPS = 64  # more link expansions than this in one path: a loop

    def __init__(self, archive: Path, dest: Path) -> None:
        self.archive = archive
        self.dest = dest
        self.dest_real = os.path.realpath(dest)
        self.links: dict[str, str] = {}  # resolved location of a link member -> its raw target

    def _escape(self, member: str, detail: str) -> UnsafeArchiveError:
        return UnsafeArchiveError(f"unsafe archive {self.archive}: member {member!r} {detail}", member=member)

    def resolve(self, rel: str, member: str, follow_last: bool = True) -> str:
        """The relative path inside ``dest`` that ``rel`` names once every link is followed (the last
        component too when ``follow_last``); ``UnsafeArchiveError`` if it leaves ``dest``."""
        todo = [p for p in rel.split("/") if p not in ("", ".")][::-1]  # a stack: next component last
        done: list[str] = []
        hops = 0
        while todo:
            part = todo.pop()
            if part == "..":
                if not done:
                    raise self._escape(member, f"resolves outside the destination (through {rel!r})")
                done.pop()
                continue
            done.append(part)
            if not (todo or follow_last):
                break
            key = "/".join(done)
            if key in self.links:
                target = self.links[key]
            elif os.path.islink(os.path.join(self.dest, *done)):  # a link already on disk
                real = os.path.realpath(os.path.join(self.dest, *done))
                if os.path.commonpath([real, self.dest_real]) != self.dest_real:
                    raise self._escape(member, f"goes through {key!r}, an existing link outside the destination")
                done = [] if real == self.dest_real else os.path.relpath(real, self.dest_real).split(os.sep)
                continue
            else:
                continue
            hops += 1
            if hops > self._MAX_HOPS:
                raise self._escape(member, "goes through a loop of links")
            if target.replace("\\", "/").startswith("/"):
                raise self._escape(member, f"goes through {key!r} -> {target!r}, an absolute link")
            done.pop()  # the link's own folder: its target is relative to that
            todo.extend([p for p in target.replace("\\", "/").split("/") if p not in ("", ".")][::-1])
        return "/".join(done)

    def add_symlink(self, rel: str, target: str, member: str) -> None:
        where = self.resolve(rel, member, follow_last=False)
        if target.replace("\\", "/").startswith("/"):
            raise self._escape(member, f"is a link to {target!r}, which points outside")
        self.resolve(posixpath.join(posixpath.dirname(where), target), member)  # raises when it points outside
        self.links[where] = target

    def check_links(self) -> None:
        """Every link, resolved with the links of the whole archive, still points inside."""
        for where, target in self.links.items():
            self.resolve(posixpath.join(posixpath.dirname(where), target), where)


def safe_extract(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[Path]:
    """Extract a zip or tar archive (``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz``) into ``dest``.

    All members are checked first; nothing is written if any is unsafe. Every member's final path is
    resolved, following the links that earlier members create (chains included) and the links already
    under ``dest``, so the check does not depend on the standard library's tar filter (missing on
    Python 3.10.0-3.10.11 and 3.11.0-3.11.3). Returns the extracted paths (files and folders) in
    archive order.

    Raises:
        UnsafeArchiveError: absolute path, ``..`` component, link target outside ``dest``, or a tar
            device file / FIFO.
        ValueError: ``archive`` is neither a zip nor a tar file.
    """
    archive = Path(archive)
    dest = Path(dest)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = []
            tree = _Resolver(archive, dest)
            for info in zf.infolist():
                rel = _check_member_name(info.filename, archive)
                tree.resolve(rel, info.filename)  # through a link already on disk?
                # zipfile writes a symlink member as a plain file holding the target text, so
                # links cannot escape; they are still refused when they point outside, for clarity.
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    target = zf.read(info).decode("utf-8", "replace")
                    if target.startswith("/") or not _inside(posixpath.join(posixpath.dirname(rel), target)):
                        raise UnsafeArchiveError(
                            f"unsafe archive {archive}: link {info.filename!r} -> {target!r} points outside",
                            member=info.filename)
                names.append(rel)
            dest.mkdir(parents=True, exist_ok=True)
            zf.extractall(dest)
        return [dest / n for n in names if n]
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            names = []
            tree = _Resolver(archive, dest)
            for m in members:
                rel = _check_member_name(m.name, archive)
                if m.issym() or m.islnk():
                    target = m.linkname.replace("\\", "/")
                    # symlink targets are relative to the link's folder, hard-link targets to the root
                    joined = posixpath.join(posixpath.dirname(rel), target) if m.issym() else target
                    if target.startswith("/") or not _inside(joined):
                        raise UnsafeArchiveError(
                            f"unsafe archive {archive}: link {m.name!r} -> {m.linkname!r} points outside",
                            member=m.name)
                    if m.issym():
                        tree.add_symlink(rel, target, m.name)  # resolved through the links before it
                    else:
                        tree.resolve(rel, m.name, follow_last=False)
                        tree.resolve(target, m.name)
                    names.append(rel)
                    continue
                if m.isfile() or m.isdir():
                    tree.resolve(rel, m.name)  # its final path, links and chains of links followed
                if not (m.isfile() or m.isdir()):
                    raise UnsafeArchiveError(
                        f"unsafe archive {archive}: member {m.name!r} is a device file or FIFO", member=m.name)
                names.append(rel)
            tree.check_links()
            dest.mkdir(parents=True, exist_ok=True)
            if hasattr(tarfile, "data_filter"):
                # Python >= 3.12 (and patched 3.10/3.11): the stdlib filter as a second line of defence
                tf.extractall(dest, members=members, filter="data")
            else:  # pragma: no cover - old interpreters
                tf.extractall(dest, members=members)
        return [dest / n for n in names if n]
    raise ValueError(f"archive must be a zip or tar file, got {archive}")
