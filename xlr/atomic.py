"""Atomic file writes: write to a temporary file in the same folder, fsync, rename.

A reader sees either the old file or the complete new one, never a partial
write; on any failure the temporary file is removed.  Folders (a saved model) are
written the same way: into a temporary folder beside the destination, then renamed
onto it, which must be absent or empty (:func:`check_new_folder`, :func:`publish_folder`).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

try:  # POSIX; elsewhere file_lock only serialises threads of this process
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FolderInUseError",
    "atomic_save_npy",
    "atomic_write",
    "atomic_write_text",
    "check_new_folder",
    "file_lock",
    "publish_folder",
]


class FolderInUseError(ValueError):
    """A folder to save into exists and is not an empty folder (or is a symbolic link)."""


def check_new_folder(path: str | os.PathLike[str]) -> Path:
    """``path`` when it is absent or an empty folder; else :class:`FolderInUseError` naming it.

    A symbolic link is refused (never followed), a file or a non-empty folder too, so that
    nothing already there is overwritten or mixed with the new files.
    """
    path = Path(path)
    if path.is_symlink():
        raise FolderInUseError(f"{path} is a symbolic link; links are not followed, give the folder's own path")
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return path
    if not stat.S_ISDIR(mode):
        raise FolderInUseError(f"{path} is a file; give an absent or empty folder")
    with os.scandir(path) as entries:
        if any(True for _ in entries):
            raise FolderInUseError(f"{path} is not empty; give an absent or empty folder")
    return path


def publish_folder(path: str | os.PathLike[str], save: Callable[[Path], object]) -> Path:
    """Create folder ``path`` from ``save(temporary_folder)``: the files appear together, by one rename.

    ``path`` is checked with :func:`check_new_folder` before and (by the rename itself) after
    ``save``: if something appeared there meanwhile, :class:`FolderInUseError` says where the
    saved files were kept instead; on an error inside ``save`` the temporary folder is removed.
    """
    path = check_new_folder(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        save(tmp)
        os.chmod(tmp, 0o755)  # mkdtemp creates 0700
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        check_new_folder(path)
        os.rename(tmp, path)  # replaces an empty folder only (ENOTEMPTY otherwise)
    except (OSError, FolderInUseError) as exc:
        raise FolderInUseError(f"{path} was filled during the run ({exc}); the saved files are in {tmp}") from None
    return path


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Create ``path`` atomically from ``write(binary_file)``; parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    data = text.encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data))


def atomic_save_npy(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Save ``array`` as ``.npy`` (never pickled) to ``path`` atomically."""
    return atomic_write(path, lambda fh: np.save(fh, array, allow_pickle=False))


_THREAD_LOCK = threading.Lock()


@contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if absent) for a read-modify-write.

    Processes (and threads: each takes its own open file) wait for each other; the kernel
    releases the lock when a process dies.  Where ``flock`` is missing (not POSIX), or the
    lock file cannot be created (a read-only folder), threads of this process are still
    serialised and other processes are not.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        fd = -1
    try:
        if fd < 0 or fcntl is None:
            with _THREAD_LOCK:
                yield
        else:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
    finally:
        if fd >= 0:
            os.close(fd)  # closing the last descriptor releases the lock
