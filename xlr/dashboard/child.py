"""The encoding child process of a dashboard job: how it is started and what it runs.

A job (:mod:`xlr.dashboard.jobs`) encodes what the disk cache lacks in a ``spawn`` child (its own
interpreter, so the server's threads keep the GIL): :func:`start_without_main` starts it without
re-running the page script that is the server's ``__main__``, and :func:`encode_worker` is its
target, committing every chunk to the shared disk cache.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
import threading
import time
from typing import Any

from xlr.encoders.base import Role
from xlr.encoders.cache import EmbeddingCache

__all__ = ["ChildFailed", "encode_worker", "start_without_main"]


class ChildFailed(RuntimeError):
    """The encoding child process ended with an error (its traceback is on the server's stderr)."""


_START_LOCK = threading.Lock()


def start_without_main(proc: Any) -> None:
    """Start a ``spawn`` child that does not re-run the server's ``__main__`` (the page script being run).

    Streamlit runs each page as a module named ``__main__`` with a ``__file__`` and no ``__spec__``;
    ``multiprocessing`` would re-run that file in the child (as ``__mp_main__``), drawing the page
    and starting jobs there. A main module whose spec is named ``__main__`` is left alone by
    ``multiprocessing.spawn``; the worker needs nothing from it (its target lives in this module).
    The spec is put back once the child has its start data.
    """
    with _START_LOCK:
        main = sys.modules.get("__main__")
        spec = getattr(main, "__spec__", None)
        if main is not None and spec is None:
            main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
        try:
            proc.start()
        finally:
            if main is not None and spec is None:
                main.__spec__ = None


def encode_worker(
    name: str,
    root: str,
    texts: list[str],
    role: Role,
    chunk: int,
    batch: int,
    done: Any,
    nice: int = 0,
    ready: Any = None,
) -> None:
    """Child process: encode ``texts`` with encoder ``name`` into the cache at ``root``, ``chunk`` at a time,
    ``nice`` steps below the server's CPU priority. ``name`` is an encoder key (name, device, precision:
    :func:`~xlr.dashboard.state.encoder_key`), so the child's vectors land under the server's cache keys.
    ``ready`` (a shared double) gets the wall-clock time (``time.time()``) at which the encoder was loaded:
    the job books the start-up before it apart from the encoding (:mod:`xlr.dashboard.rates`)."""
    from xlr.dashboard.state import encoder_from_key

    if nice:
        os.nice(nice)

    encoder, cache = encoder_from_key(name), EmbeddingCache(root)
    if ready is not None:
        ready.value = time.time()
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]

        def progress(n: int, total: int, start: int = start) -> None:
            with done.get_lock():
                done.value = start + n

        cache.embed(encoder, part, role=role, batch_size=batch, progress=progress)
