"""Where datasets live on disk.

Resolution order (first that is set wins):

1. an explicit ``override`` (the CLI's ``--data-dir``, or ``Run.data_root``);
2. the environment variable ``$DEEPCOURSE_DATA`` (e.g. ``DEEPCOURSE_DATA=../shared/data``);
3. ``~/.cache/deepcourse``.

Derived files (decoded image arrays, the sha256 cache) go to ``$DEEPCOURSE_CACHE`` when set, else
``~/.cache/deepcourse/derived``; a data root is only ever written by ``download``, so a shared,
read-only root (such as ``shared/data``) works unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_root", "root_source", "derived_dir", "user_cache_dir", "ENV_DATA", "ENV_CACHE"]

ENV_DATA = "DEEPCOURSE_DATA"
ENV_CACHE = "DEEPCOURSE_CACHE"


def _default_root() -> Path:
    return Path.home() / ".cache" / "deepcourse"


def _as_path(value: str | os.PathLike[str]) -> Path:
    # abspath (not resolve()): "../shared/data" becomes a clean absolute path anchored at the current
    # directory once (a later chdir cannot change its meaning) while symlinks stay as the user named them.
    return Path(os.path.abspath(Path(value).expanduser()))


def data_root(override: str | os.PathLike[str] | None = None) -> Path:
    """Return the data root: ``override`` > ``$DEEPCOURSE_DATA`` > ``~/.cache/deepcourse``.

    An empty string (``DEEPCOURSE_DATA=``) counts as unset. The folder is not created.
    """
    if override is not None and str(override) != "":
        return _as_path(override)
    env = os.environ.get(ENV_DATA, "")
    if env:
        return _as_path(env)
    return _default_root()


def root_source(override: str | os.PathLike[str] | None = None) -> str:
    """Say where :func:`data_root` took its answer from, for messages.

    A caller may pass the already resolved root as ``override`` (the CLI does); when it equals what
    ``$DEEPCOURSE_DATA`` or the default would give, that source is named instead of ``--data-dir``.
    """
    env = os.environ.get(ENV_DATA, "")
    fallback = (_as_path(env), f"${ENV_DATA}") if env else (_default_root(), "default ~/.cache/deepcourse")
    if override is not None and str(override) != "" and _as_path(override) != fallback[0]:
        return "--data-dir"
    return fallback[1]


def user_cache_dir() -> Path:
    """``$DEEPCOURSE_CACHE`` if set, else ``~/.cache/deepcourse/derived`` (not created)."""
    env = os.environ.get(ENV_CACHE, "")
    if env:
        return _as_path(env)
    return _default_root() / "derived"


def derived_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """Folder for files computed from the raw data (decoded arrays, the sha256 cache); created on demand.

    ``$DEEPCOURSE_CACHE`` if set, else ``~/.cache/deepcourse/derived``. Data roots are never written to:
    they are often shared, read-only copies (and a root user's write test would succeed even on those),
    so ``root`` is accepted for symmetry with the other functions but does not change the answer.
    """
    path = user_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path
