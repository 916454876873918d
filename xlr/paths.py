"""Paths typed by a user: ``~`` expanded with one sentence when it cannot be.

``Path("~nouser/x").expanduser()`` raises ``RuntimeError`` (a traceback in a CLI); :func:`user_path`
raises :class:`UserPathError` (a ``ValueError``) naming the path instead.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["UserPathError", "user_path"]


class UserPathError(ValueError):
    """A ``~user`` path names a user this machine does not know (or has no home directory)."""


def user_path(value: str | os.PathLike[str]) -> Path:
    """``value`` as a :class:`~pathlib.Path` with ``~`` / ``~user`` expanded.

    >>> user_path("results/r.json")
    PosixPath('results/r.json')

    Raises :class:`UserPathError` for ``~nouser/...`` (no such user), never ``RuntimeError``.
    """
    path = Path(value)
    try:
        return path.expanduser()
    except RuntimeError:
        head = str(value).split("/", 1)[0]
        raise UserPathError(
            f"{value}: cannot expand {head} (no such user on this machine); give the full path"
        ) from None
