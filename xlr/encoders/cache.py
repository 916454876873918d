"""On-disk embedding cache, keyed on encoder identity and a hash of each text.

Layout (one folder per encoder identity and role prefix)::

    <root>/<identity.cache_key(role)>/
        identity.json          what the vectors are (human-readable)
        .lock                  flock'ed by the one process writing here
        <shard>.keys.npy       uint8 (n, 16): blake2b-128 of each text (UTF-8)
        <shard>.vecs.npy       float32 (n, dim)
        <shard>.json           {"n", "dim", "keys_sha256", "vecs_sha256"}: written last

Texts are first cut to the encoder's input limit; the cut text is what is hashed and
encoded.  Only texts whose hash is absent are sent to the encoder, longest first, one batch
at a time, and **each finished batch is committed as a shard**: a process killed (even by
kill -9) loses at most the batch in flight, and the rerun encodes only the rest.

Processes sharing a cache coordinate through the namespace lock: whoever holds it encodes
what is missing; the others wait (reporting how much of their texts appeared meanwhile), then
find their texts cached, so each text is encoded once in total.  A shard counts only once its
``.json`` exists and every file is renamed into place, so readers never see a torn shard;
a shard whose files are missing, truncated or altered (checked against the sha256 in its
``.json``) is deleted and its texts encoded again; orphans of killed writers are swept.
No pickle is ever read (``allow_pickle=False``).  Many small shards are compacted into one.

A namespace that is a symbolic link is never followed (not read, repaired nor written: one
:class:`CacheRepairWarning` line and vectors in memory); see :mod:`xlr.encoders.cache_store` for
what else keeps the cache inside its root.

Self-repair: an entry of the wrong type (a folder where a shard file belongs, a file where a
namespace folder belongs) is removed with a :class:`CacheRepairWarning`; a cache root that is
a file, or a read-only cache, is bypassed: vectors are computed in memory, the warning names
the path and ``CacheStats.written`` is False.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xlr import settings
from xlr.atomic import atomic_write_text
from xlr.encoders.base import Encoder, Progress, Role, length_order, prepare_texts
from xlr.encoders.cache_store import CacheRepairWarning, Namespace, remove_wrong_type
from xlr.paths import user_cache_dir, user_path

__all__ = ["CacheRepairWarning", "CacheStats", "EmbeddingCache", "default_cache_dir", "text_key"]


def default_cache_dir() -> Path:
    """``$XLR_CACHE_DIR``, else the user's cache directory + ``xlr/embeddings``."""
    env = settings.cache_dir()
    if env is not None:
        return env
    return user_cache_dir() / "embeddings"


def text_key(text: str) -> bytes:
    """16-byte blake2b digest of the UTF-8 text (the cache key of one text)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass(frozen=True)
class CacheStats:
    """How one :meth:`EmbeddingCache.embed` call was served."""

    encoded: int
    """distinct texts sent to the encoder (by this process)"""
    cached: int
    """distinct texts read from the cache (including those another process encoded meanwhile)"""
    rebuilt_shards: int = 0
    """corrupt shards found, deleted and re-encoded"""
    truncated: int = 0
    """texts cut to the encoder's input limit"""
    written: bool = True
    """False when the cache could not be written (vectors were kept in memory only)"""

    def summary(self) -> str:
        """``"N texts encoded, M from the cache"`` plus cuts and an unwritten cache, if any."""
        out = f"{self.encoded} texts encoded, {self.cached} from the cache"
        if self.truncated:
            out += f", {self.truncated} cut to the input limit"
        if not self.written:
            out += " (the cache was not written)"
        return out

    def __add__(self, other: CacheStats) -> CacheStats:
        return CacheStats(
            self.encoded + other.encoded,
            self.cached + other.cached,
            self.rebuilt_shards + other.rebuilt_shards,
            self.truncated + other.truncated,
            self.written and other.written,
        )


class EmbeddingCache:
    """Embeddings of texts, cached on disk per encoder identity and role.

    >>> import tempfile
    >>> import numpy as np
    >>> from xlr.encoders.base import BatchEncoder, EncoderIdentity
    >>> class Ones(BatchEncoder):
    ...     identity = EncoderIdentity("ones", "example", "1", "none", True, 2)
    ...     def _encode_batch(self, texts, role):
    ...         return np.ones((len(texts), 2), dtype=np.float32)
    >>> cache = EmbeddingCache(tempfile.mkdtemp())
    >>> vecs, stats = cache.embed(Ones(), ["a", "b"], role="query")
    >>> stats.encoded, stats.cached, vecs.shape
    (2, 0, (2, 2))
    >>> cache.embed(Ones(), ["b", "c"], role="query")[1].cached  # "b" is on disk now
    1
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = user_path(root) if root is not None else default_cache_dir()
        self._namespaces: dict[str, Namespace] = {}
        self._opening = threading.Lock()  # threads sharing this object open each namespace once

    def _bypass(self, why: str) -> bool:
        warnings.warn(
            f"embedding cache: {why}: vectors are computed in memory and not written", CacheRepairWarning, stacklevel=4
        )
        return False

    def _open_folder(self, folder: Path, desc: dict[str, object]) -> bool:
        """Create/repair the namespace folder (``identity.json`` says what it holds: ``desc``); True when
        it can be written."""
        if self.root.exists() and not self.root.is_dir():
            return self._bypass(f"the cache root {self.root} is a file, not a folder")
        if folder.exists() and not folder.is_dir():
            remove_wrong_type(folder, "cache folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return self._bypass(f"cannot create {folder} ({exc.strerror or exc})")
        ident = folder / "identity.json"
        if ident.is_dir():
            try:
                remove_wrong_type(ident, "identity.json file")
            except OSError:
                pass
        if not os.access(folder, os.W_OK | os.X_OK):
            return self._bypass(f"{folder} is read-only")
        if not ident.exists():
            try:
                atomic_write_text(ident, json.dumps(desc, indent=1))
            except OSError as exc:
                return self._bypass(f"cannot write in {folder} ({exc.strerror or exc})")
        return True

    def _namespace(self, encoder: Encoder, role: Role) -> Namespace:
        key = encoder.identity.cache_key(role)
        with self._opening:
            return self._namespaces.get(key) or self._open_namespace(key, encoder, role)

    def _open_namespace(self, key: str, encoder: Encoder, role: Role) -> Namespace:
        desc = encoder.identity.describe() | {"prefix": encoder.identity.prefix(role)}
        ident = encoder.identity
        return self._open(key, desc, ident.dim, normalized=ident.normalize)

    def _open(
        self, key: str, desc: dict[str, object], dim: int, *, normalized: bool, dtype: type[np.generic] = np.float32
    ) -> Namespace:
        ns = self._namespaces.get(key)
        if ns is None:
            folder = self.root / key
            linked = folder.is_symlink()  # never followed: not read, not repaired, not written
            if linked:
                self._bypass(f"{folder} is a symbolic link (to {os.readlink(folder)}); it is not followed")
            writable = not linked and self._open_folder(folder, desc)
            ns = Namespace(folder, dim, writable, normalized=normalized, readable=not linked, dtype=dtype)
            ns.warned = not writable  # _open_folder said why already
            self._namespaces[key] = ns
        return ns

    def derived(self, key: str, desc: dict[str, object], width: int, dtype: type[np.generic]) -> Namespace:
        """The namespace ``<root>/<key>/`` of arrays derived from cached vectors (e.g. quantized codes,
        :mod:`xlr.retrieval.code_cache`): rows of ``width`` ``dtype`` values, published, verified and
        locked as the vectors' shards are; ``identity.json`` holds ``desc``."""
        with self._opening:
            ns = self._namespaces.get(key) or self._open(key, desc, width, normalized=False, dtype=dtype)
        ns.refresh(repair=False)
        return ns

    @staticmethod
    def _missing(ns: Namespace, keys: list[bytes], texts: list[str]) -> dict[bytes, str]:
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts):
            if key not in ns.index and key not in missing:
                missing[key] = text
        return missing

    def missing(self, encoder: Encoder, texts: Sequence[str], *, role: Role = "document") -> list[str]:
        """The distinct ``texts`` (as given, in first-seen order) whose vectors this cache lacks for
        ``encoder`` and ``role``, as the cache's files stand now.

        The namespace's index is kept in memory and brought up to date first (:meth:`refresh`: only
        shards published since the last look are read), so asking again costs no re-hashing.
        Nothing is encoded; texts are cut to the encoder's input limit first, exactly as :meth:`embed`
        does (which can load the encoder's tokenizer for texts that may be too long).
        """
        prepared, _ = prepare_texts(encoder, texts)
        ns = self.refresh(encoder, role)
        return list(self._missing(ns, [text_key(t) for t in prepared], list(texts)).values())

    def refresh(self, encoder: Encoder, role: Role = "document") -> Namespace:
        """Read the shards another process (or another cache object) published in ``encoder``'s
        namespace for ``role`` since this object last looked; shards already indexed are not read again.
        Returns the namespace (opened on first use)."""
        ns = self._namespace(encoder, role)
        ns.refresh(repair=False)
        return ns

    def embed(
        self,
        encoder: Encoder,
        texts: Sequence[str],
        *,
        role: Role = "document",
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, CacheStats]:
        """Vectors of ``texts`` (``(len(texts), dim)`` float32), encoding only unseen texts.

        Texts are cut to the encoder's input limit first.  Duplicate texts are encoded once.
        ``progress(done, total)`` counts the missing texts (after each committed batch, and
        while waiting for another process that encodes into the same namespace); raising
        :class:`~xlr.encoders.base.EncodingCancelled` from it stops after the last commit.
        ``batch_size`` defaults to the encoder's ``preferred_batch_size`` (per device).
        Counts in the returned :class:`CacheStats` are of distinct texts.
        """
        prepared, truncated = prepare_texts(encoder, texts)
        ns = self._namespace(encoder, role)
        keys = [text_key(t) for t in prepared]
        missing = self._missing(ns, keys, prepared)
        encoded = 0
        if missing:
            total, last = len(missing), [time.monotonic()]

            def waiting() -> None:  # another process holds the lock: show what it has done for us
                if time.monotonic() - last[0] >= 1.0:
                    last[0] = time.monotonic()
                    ns.refresh(repair=False)
                    if progress is not None:
                        progress(sum(k in ns.index for k in missing), total)

            token = ns.acquire(waiting)
            try:
                missing = self._missing(ns, keys, prepared)
                if missing and not ns.writable and not ns.warned:
                    ns.warned = self._bypass(f"{ns.folder} cannot be written") or True
                encoded = self._encode(ns, encoder, missing, role, batch_size, progress, total - len(missing), total)
            finally:
                ns.release(token)
        rebuilt, ns.rebuilt = ns.rebuilt, 0
        n_distinct = len(set(keys))
        stats = CacheStats(encoded, n_distinct - encoded, rebuilt, truncated, ns.writable)
        return ns.gather(keys), stats

    @staticmethod
    def _encode(
        ns: Namespace,
        encoder: Encoder,
        missing: dict[bytes, str],
        role: Role,
        batch_size: int | None,
        progress: Progress | None,
        done: int,
        total: int,
    ) -> int:
        """Encode ``missing`` longest first, committing each batch; returns how many were encoded."""
        items = list(missing.items())
        order = length_order([t for _, t in items])
        start = 0
        while start < len(items):
            size: int = batch_size or int(getattr(encoder, "preferred_batch_size", None) or 32)
            idx = order[start : start + size]
            vecs = encoder.encode([items[i][1] for i in idx], role=role, batch_size=size)
            ns.write([items[i][0] for i in idx], vecs)
            start += len(idx)
            if progress is not None:
                progress(done + start, total)
        return start
