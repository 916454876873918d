"""One namespace folder of the embedding cache: its shards, its lock, its repairs.

A namespace is ``<root>/<identity.cache_key(role)>/``.  Shards are published atomically
(``.keys.npy`` and ``.vecs.npy`` renamed into place, then the ``.json`` with their sha256
written last), so a reader never sees a torn shard.  Everything that writes or deletes
(new shards, compaction, repairs, sweeping orphans) happens under the namespace's lock
(``.lock``, ``flock``; the kernel releases it when a process dies, even by kill -9).
Readers take no lock: a shard that vanishes while being read (compacted by another process)
is skipped, and is looked for again under the lock if its texts are needed.

The namespace stays inside itself: shard files, locks and the gate are opened with
``O_NOFOLLOW`` (a symbolic link there is refused, never followed: a dangling ``.lock`` link
creates nothing where it points), and repairs and sweeps only touch names the cache itself
makes (``<32 hex>.json|.keys.npy|.vecs.npy`` and their ``.….tmp`` temporaries): a user's
``notes.json`` is never read as a shard nor deleted.  For an encoder whose identity says rows are
L2-normalised, a shard with a row whose norm is not 1 (nor 0) is damaged, checksum or not.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from xlr.atomic import atomic_save_npy, atomic_write_text

try:  # POSIX; elsewhere processes do not coordinate (each still writes whole shards)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["CacheRepairWarning", "Namespace"]

_COMPACT_AT = 16
_STEM = re.compile(r"[0-9a-f]{32}")
"""shard names the cache writes (``uuid4().hex``): nothing else in a namespace is touched"""
_TEMP = re.compile(r"\.([0-9a-f]{32}\.(json|keys\.npy|vecs\.npy)|identity\.json)\..+\.tmp")
_NORM_TOLERANCE = 1e-2  # float16 models normalise to about 1e-3


class _NotAShardFile(OSError):
    """A shard path that is a symbolic link or not a regular file."""


def _open_regular(path: Path) -> IO[bytes]:
    """Open ``path`` for reading without following a symbolic link; refuse a FIFO, device or folder."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _NotAShardFile(f"{path} is not a regular file")
    return os.fdopen(fd, "rb")


class CacheRepairWarning(UserWarning):
    """The cache held something of the wrong type, or could not be written; it was bypassed."""


def _sha256(path: Path) -> str:
    with _open_regular(path) as fh:
        return _sha256_of(fh)


def _sha256_of(fh: IO[bytes]) -> str:
    """sha256 of the whole file; the position is left at its start."""
    h = hashlib.sha256()
    fh.seek(0)
    for block in iter(lambda: fh.read(1 << 20), b""):
        h.update(block)
    fh.seek(0)
    return h.hexdigest()


def remove_wrong_type(path: Path, expected: str) -> None:
    """Remove ``path`` (a folder where a file belongs, or the reverse) with a warning."""
    warnings.warn(
        f"embedding cache: {path} is a {'folder' if path.is_dir() else 'file'} where a {expected} belongs; removed",
        CacheRepairWarning,
        stacklevel=3,
    )
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class Namespace:
    """The shards of one (identity, role prefix) folder, held in memory.

    ``writable`` is False for a read-only folder: vectors are then kept in memory only;
    ``readable`` is False for a folder that must not be looked into (a symbolic link).
    ``normalized``: rows must have norm 1 (or 0), as the encoder's identity says. ``dtype``: of the
    rows (float32 vectors; int8 or uint8 for quantized codes, :mod:`xlr.retrieval.code_cache`).
    """

    def __init__(
        self,
        folder: Path,
        dim: int,
        writable: bool,
        *,
        normalized: bool = False,
        readable: bool = True,
        dtype: type[np.generic] = np.float32,
    ) -> None:
        self.folder = folder
        self.dim = dim
        self.dtype = np.dtype(dtype)
        self.writable = writable
        self.normalized = normalized
        self.readable = readable
        self.index: dict[bytes, tuple[int, int]] = {}  # key -> (shard number, row)
        self.shards: list[np.ndarray] = []
        self.shard_names: list[str] = []
        self.rebuilt = 0
        self.warned = False
        """True once a warning said this namespace is not written"""
        self._mem = threading.RLock()  # threads of one process (dashboard jobs) share this object
        self.refresh(repair=False)

    # -- reading -------------------------------------------------------------------------

    def refresh(self, *, repair: bool) -> None:
        """Load shards published since the last look.  With ``repair`` (only under the lock),
        damaged shards are deleted and counted in ``rebuilt``; without, they are skipped."""
        with self._mem:
            self._refresh(repair)

    def _refresh(self, repair: bool) -> None:
        if not self.readable:
            return
        try:
            metas = sorted(p for p in self.folder.glob("*.json") if _STEM.fullmatch(p.name[: -len(".json")]))
        except OSError:
            return
        names = {p.name[: -len(".json")] for p in metas}
        if repair and any(stem not in names for stem in self.shard_names):
            # another process compacted: start again from what is on disk now
            self.index, self.shards, self.shard_names = {}, [], []
        known = set(self.shard_names)
        for meta_path in metas:
            stem = meta_path.name[: -len(".json")]
            if stem in known:
                continue
            if meta_path.is_dir() and not meta_path.is_symlink():
                if repair:
                    remove_wrong_type(meta_path, "shard description (.json file)")
                continue
            loaded = self._read(stem, meta_path)
            if loaded is None:
                if repair:
                    self._drop(stem)
                    self.rebuilt += 1
                continue
            self._add(stem, *loaded)

    def _read(self, stem: str, meta_path: Path) -> tuple[np.ndarray, np.ndarray] | None:
        keys_path = self.folder / f"{stem}.keys.npy"
        vecs_path = self.folder / f"{stem}.vecs.npy"
        try:
            with _open_regular(meta_path) as fh:
                meta = json.loads(fh.read(1 << 16).decode("utf-8"))
            with _open_regular(keys_path) as kf, _open_regular(vecs_path) as vf:
                if _sha256_of(kf) != meta["keys_sha256"] or _sha256_of(vf) != meta["vecs_sha256"]:
                    raise ValueError("checksum mismatch")
                keys = np.load(kf, allow_pickle=False)
                vecs = np.load(vf, allow_pickle=False)
            n = int(meta["n"])
            if keys.shape != (n, 16) or keys.dtype != np.uint8:
                raise ValueError("bad keys array")
            if vecs.shape != (n, self.dim) or vecs.dtype != self.dtype:
                raise ValueError("bad vectors array")
            if self.dtype.kind == "f" and not np.isfinite(vecs).all():
                raise ValueError("non-finite vectors")
            if self.normalized and n:
                norms = np.linalg.norm(vecs, axis=1)
                if not ((np.abs(norms - 1.0) <= _NORM_TOLERANCE) | (norms == 0.0)).all():
                    raise ValueError("rows are not unit vectors")
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None
        return keys, vecs

    def _add(self, stem: str, keys: np.ndarray, vecs: np.ndarray) -> None:
        shard = len(self.shards)
        self.shards.append(vecs)
        self.shard_names.append(stem)
        for row, key in enumerate(keys):
            self.index[key.tobytes()] = (shard, row)

    def gather(self, keys: Sequence[bytes]) -> np.ndarray:
        out = np.empty((len(keys), self.dim), dtype=self.dtype)
        with self._mem:
            for i, key in enumerate(keys):
                shard, row = self.index[key]
                out[i] = self.shards[shard][row]
        return out

    # -- writing (under the lock) --------------------------------------------------------

    def _drop(self, stem: str) -> None:
        if not _STEM.fullmatch(stem):  # only what this cache wrote
            return
        for suffix in (".json", ".keys.npy", ".vecs.npy"):
            path = self.folder / f"{stem}{suffix}"
            if path.is_dir() and not path.is_symlink():
                remove_wrong_type(path, "shard file")
            else:
                path.unlink(missing_ok=True)

    def acquire(self, waiting: Callable[[], None] | None = None, poll: float = 0.1) -> int | None:
        """Take the namespace lock; returns the token for :meth:`release` (None when the folder
        is not writable).  ``waiting()`` is called between polls (it may raise, e.g.
        :class:`~xlr.encoders.base.EncodingCancelled`).  Threads of one process exclude each
        other too (each holds its own open file).

        Hand-over is fair: a process waits at ``.lock.gate`` before it waits for ``.lock`` and keeps
        the gate until it has the lock, so a writer that releases the lock after a batch and asks
        again queues behind the waiter instead of taking the lock straight back (without the gate a
        short job of one dashboard session starved behind a long job of another for minutes).
        """
        if not self.writable or fcntl is None:
            return None
        gate = self._open_lock_file(".lock.gate")
        if gate is None:
            return None
        try:
            self._poll(gate, waiting, poll)
            fd = self._open_lock_file(".lock")
            if fd is None:
                return None
            try:
                self._poll(fd, waiting, poll)
            except BaseException:
                os.close(fd)
                raise
        finally:
            self.release(gate)  # unlocks (if held) and closes
        try:
            self.refresh(repair=True)
            with self._mem:
                self._sweep()
        except BaseException:
            self.release(fd)
            raise
        return fd

    def _open_lock_file(self, name: str) -> int | None:
        path = self.folder / name
        if path.is_symlink():
            warnings.warn(
                f"embedding cache: {path} is a symbolic link; it is not followed: vectors are computed in memory "
                "and not written",
                CacheRepairWarning,
                stacklevel=4,
            )
            self.writable, self.warned = False, True
            return None
        if path.is_dir():
            remove_wrong_type(path, "lock file")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError:
            self.writable = False
            return None
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or device planted as the lock
            os.close(fd)
            self.writable = False
            return None
        return fd

    @staticmethod
    def _poll(fd: int, waiting: Callable[[], None] | None, poll: float) -> None:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if waiting is not None:
                    waiting()
                time.sleep(poll)

    @staticmethod
    def release(token: int | None) -> None:
        if token is not None:
            fcntl.flock(token, fcntl.LOCK_UN)
            os.close(token)

    def _sweep(self) -> None:
        """Delete what a killed writer left: temporary files and arrays whose ``.json`` never came."""
        published = set(self.shard_names)
        for path in self.folder.iterdir():
            name = path.name
            if _TEMP.fullmatch(name):
                # identity.json is written without the lock: leave a fresh one being written alone
                if not name.startswith(".identity.json.") or time.time() - path.lstat().st_mtime > 600:
                    path.unlink(missing_ok=True)
            elif name.endswith((".keys.npy", ".vecs.npy")):
                stem = name.rsplit(".", 2)[0]
                if not _STEM.fullmatch(stem):
                    continue  # not a file this cache wrote
                if stem not in published and not os.path.lexists(self.folder / f"{stem}.json"):
                    if path.is_dir() and not path.is_symlink():
                        remove_wrong_type(path, "shard file")
                    else:
                        path.unlink(missing_ok=True)

    def write(self, keys: list[bytes], vecs: np.ndarray) -> None:
        """Publish one shard (to disk when writable, else in memory only)."""
        with self._mem:
            self._write(keys, vecs)

    def _write(self, keys: list[bytes], vecs: np.ndarray) -> None:
        stem = uuid.uuid4().hex
        karr = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
        vecs = np.ascontiguousarray(vecs, dtype=self.dtype)
        if self.writable:
            kpath = self.folder / f"{stem}.keys.npy"
            vpath = self.folder / f"{stem}.vecs.npy"
            try:
                atomic_save_npy(kpath, karr)
                atomic_save_npy(vpath, vecs)
                meta = {"n": len(keys), "dim": self.dim, "keys_sha256": _sha256(kpath), "vecs_sha256": _sha256(vpath)}
                atomic_write_text(self.folder / f"{stem}.json", json.dumps(meta))
            except OSError as exc:  # disk full, quota, I/O error: the vectors are kept in memory
                self._stop_writing(exc, karr.nbytes + vecs.nbytes)
                for path in (kpath, vpath):
                    path.unlink(missing_ok=True)
        self._add(stem, karr, vecs)
        if self.writable and len(self.shards) >= _COMPACT_AT:
            self._compact()

    def _stop_writing(self, exc: OSError, needed: int) -> None:
        """Say once why the cache stops being written (one line); later batches stay in memory."""
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT) or "requested and" in str(exc)  # numpy's short write
        why = (
            f"the cache disk is full: {needed / 1e6:.1f} MB needed at {self.folder}"
            if full
            else f"cannot write in {self.folder} ({exc.strerror or exc})"
        )
        warnings.warn(f"embedding cache: {why}; encoding goes on in memory", CacheRepairWarning, stacklevel=5)
        self.writable, self.warned = False, True

    def _compact(self) -> None:
        """Merge the small shards into one (written before the old ones are removed).

        The largest shard stays when it holds more rows than all others together, so a
        long run of one-batch shards costs about ``n log n`` rows rewritten, not ``n^2``.
        """
        sizes = [s.shape[0] for s in self.shards]
        big = int(np.argmax(sizes))
        keep_big = sizes[big] > sum(sizes) - sizes[big]
        merged = [k for k, (s, _) in self.index.items() if not (keep_big and s == big)]
        vecs = self.gather(merged)
        old = [stem for i, stem in enumerate(self.shard_names) if not (keep_big and i == big)]
        if keep_big:
            index = {k: (0, row) for k, (s, row) in self.index.items() if s == big}
            self.index, self.shards, self.shard_names = index, [self.shards[big]], [self.shard_names[big]]
        else:
            self.index, self.shards, self.shard_names = {}, [], []
        self._write(merged, vecs)
        for stem in old:
            self._drop(stem)
