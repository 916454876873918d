"""Paths typed by a user, and input files read from them with bounds.

``Path("~nouser/x").expanduser()`` raises ``RuntimeError`` (a traceback in a CLI); :func:`user_path`
raises :class:`UserPathError` (a ``ValueError``) naming the path instead.

:func:`read_bounded` reads an input file whole only when it is a regular file (a FIFO or
``/dev/zero`` is refused by name, without blocking) of at most ``cap`` bytes (the size and the
cap are stated, nothing is read); every failure is one :class:`InputFileError` sentence.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

__all__ = [
    "InputFileError",
    "UserPathError",
    "file_kind",
    "human_size",
    "read_bounded",
    "user_cache_dir",
    "user_path",
]


def user_cache_dir(app: str = "xlr") -> Path:
    """The user's cache directory for ``app``, where ``platformdirs.user_cache_dir(app)`` puts it
    (so xlr needs no extra package for it): ``$XDG_CACHE_HOME/<app>`` or ``~/.cache/<app>`` (Linux
    and other Unix), ``~/Library/Caches/<app>`` (macOS), ``%LOCALAPPDATA%\\<app>\\<app>\\Cache`` (Windows).
    Not created here.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA", "").strip() or str(Path.home() / "AppData" / "Local")
        return Path(base) / app / app / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / app
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return Path(xdg if xdg else Path.home() / ".cache") / app


class InputFileError(ValueError):
    """An input file cannot be read: missing, not a regular file, or over its size cap."""


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


def file_kind(mode: int) -> str:
    """What a non-regular file is, from its ``st_mode`` (``"a FIFO (named pipe)"``, ``"a device"`` ...)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def human_size(n: int) -> str:
    """``"314,572,800 bytes (315 MB)"``: exact bytes and a rounded decimal unit."""
    if n >= 10**9:
        return f"{n:,} bytes ({n / 1e9:.1f} GB)"
    if n >= 10**6:
        return f"{n:,} bytes ({n / 1e6:.0f} MB)"
    return f"{n:,} bytes"


def read_bounded(path: str | os.PathLike[str], cap: int, kind: str, label: str | None = None) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``cap`` bytes.

    ``kind`` names the file in the cap sentence (``"a results file"``); ``label`` (default: the
    path) starts every message.  Opened without blocking (a FIFO is refused, not waited on) and
    read to at most ``cap + 1`` bytes, so a file that grows meanwhile is refused too.
    """
    label = str(path) if label is None else label
    try:
        fd = os.open(user_path(path), os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise InputFileError(f"{label}: no such file") from None
    except OSError as exc:
        raise InputFileError(f"{label}: cannot read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputFileError(f"{label}: {file_kind(st.st_mode)}, not a regular file")
        if st.st_size > cap:
            raise InputFileError(f"{label}: {human_size(st.st_size)}; {kind} may be at most {human_size(cap)}")
        try:
            data = fh.read(cap + 1)
        except OSError as exc:
            raise InputFileError(f"{label}: cannot read ({exc.strerror or exc})") from None
    if len(data) > cap:
        raise InputFileError(f"{label}: more than {human_size(cap)}; {kind} may be at most that")
    return data
