"""Atomic file writes: write to a temporary file in the same folder, fsync, rename.

A reader sees either the old file or the complete new one, never a partial
write; on any failure the temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

__all__ = ["atomic_save_npy", "atomic_write", "atomic_write_text"]


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
