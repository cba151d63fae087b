"""Exceptions raised by :mod:`deepcourse.data`.

Every error here derives from :class:`DataError`, so a command-line front end can catch that one class,
print ``str(error)`` (a complete, multi-line message meant for people) and exit non-zero. Each class
also derives from the builtin exception a caller would naturally expect:

==========================  ===================================  ======================================
class                       also a                               raised when
==========================  ===================================  ======================================
``DataMissingError``        ``FileNotFoundError``                a dataset's files are not on disk
``DataCorruptError``        ``ValueError``                       a file has the wrong size or sha256
``DownloadError``           ``OSError``                          HTTP error (404...), network failure,
                                                                 or no URL is known for a file
``UnsafeArchiveError``      ``ValueError``                       an archive member would escape the
                                                                 extraction folder
==========================  ===================================  ======================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

__all__ = ["DataError", "DataMissingError", "DataCorruptError", "DownloadError", "UnsafeArchiveError"]


class DataError(Exception):
    """Base class of every data error; ``str(err)`` is a message ready to print."""


class DataMissingError(DataError, FileNotFoundError):
    """A dataset is not on disk.

    Attributes: ``dataset`` (registry name), ``searched`` (every path looked at), ``hint`` (how to get it).
    The experiment runner treats this error as "skipped", not as a failure.
    """

    def __init__(self, message: str, *, dataset: str | None = None,
                 searched: Sequence[Path] = (), hint: str = "") -> None:
        super().__init__(message)
        self.dataset = dataset
        self.searched = [Path(p) for p in searched]
        self.hint = hint

    def __str__(self) -> str:  # OSError would otherwise format "[Errno ...]" when given several args
        return self.args[0] if self.args else ""


class DataCorruptError(DataError, ValueError):
    """A file exists but has the wrong size or sha256.

    Attributes: ``path``, ``expected`` and ``actual`` (sha256 hex digests, or sizes for a size mismatch).
    """

    def __init__(self, message: str, *, path: Path | None = None,
                 expected: object = None, actual: object = None) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual


class DownloadError(DataError, OSError):
    """A download failed (HTTP status, network error) or no download URL is known. ``url`` names it."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class UnsafeArchiveError(DataError, ValueError):
    """An archive member has an absolute path, a ``..`` component, or a link pointing outside."""

    def __init__(self, message: str, *, member: str | None = None) -> None:
        super().__init__(message)
        self.member = member
