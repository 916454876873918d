"""Copies of the tiny upstream-layout fixtures under their upstream file names.

The fixtures in ``tests/fixtures`` are stored without upstream names (``de.json``,
``xyz-eng.xyz``) so that nothing tracked looks like a file of ../shared/data;
the loaders need the real names (``xquad.de.json``, ``tatoeba.xyz-eng.xyz``).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parent / "fixtures"


@functools.cache
def upstream_named(folder: str, prefix: str) -> Path:
    """A temporary copy of ``tests/fixtures/<folder>`` with ``prefix`` put before each file name."""
    root = Path(tempfile.mkdtemp(prefix=f"xlr-{folder}-"))
    atexit.register(shutil.rmtree, root, True)
    out = root / folder
    out.mkdir()
    for f in (DATA / folder).iterdir():
        shutil.copy(f, out / f"{prefix}{f.name}")
    return out
