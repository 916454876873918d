"""On-disk embedding cache, keyed on encoder identity and a hash of each text.

Layout (one folder per encoder identity and role prefix)::

    <root>/<identity.cache_key(role)>/
        identity.json          what the vectors are (human-readable)
        <shard>.keys.npy       uint8 (n, 16): blake2b-128 of each text (UTF-8)
        <shard>.vecs.npy       float32 (n, dim)
        <shard>.json           {"n", "dim", "keys_sha256", "vecs_sha256"}: written last

A shard counts only once its ``.json`` exists, and every file is written to a
temporary name and renamed into place, so a crash never leaves a half shard
that is read.  A shard whose files are missing, truncated or altered (checked
against the sha256 in its ``.json``) is deleted and its texts encoded again.
No pickle is ever read (``allow_pickle=False``).  Encoding is incremental: only
texts whose hash is absent are sent to the encoder.  Many shards are compacted
into one.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xlr.atomic import atomic_save_npy, atomic_write_text
from xlr.encoders.base import Encoder, Progress, Role

__all__ = ["CacheStats", "EmbeddingCache", "default_cache_dir", "text_key"]

_COMPACT_AT = 16


def default_cache_dir() -> Path:
    """``$XLR_CACHE_DIR``, else the user's cache directory + ``xlr/embeddings``."""
    env = os.environ.get("XLR_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("xlr")) / "embeddings"


def text_key(text: str) -> bytes:
    """16-byte blake2b digest of the UTF-8 text (the cache key of one text)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass(frozen=True)
class CacheStats:
    """How one :meth:`EmbeddingCache.embed` call was served."""

    encoded: int
    """distinct texts sent to the encoder"""
    cached: int
    """distinct texts read from the cache"""
    rebuilt_shards: int = 0
    """corrupt shards found, deleted and re-encoded"""

    def __add__(self, other: CacheStats) -> CacheStats:
        return CacheStats(
            self.encoded + other.encoded,
            self.cached + other.cached,
            self.rebuilt_shards + other.rebuilt_shards,
        )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _Namespace:
    """The shards of one (identity, role prefix) folder, loaded into memory."""

    def __init__(self, folder: Path, dim: int) -> None:
        self.folder = folder
        self.dim = dim
        self.index: dict[bytes, tuple[int, int]] = {}  # key -> (shard number, row)
        self.shards: list[np.ndarray] = []
        self.shard_names: list[str] = []
        self.rebuilt = 0
        self._load()

    def _drop(self, stem: str) -> None:
        for suffix in (".json", ".keys.npy", ".vecs.npy"):
            (self.folder / f"{stem}{suffix}").unlink(missing_ok=True)

    def _load(self) -> None:
        for meta_path in sorted(self.folder.glob("*.json")):
            stem = meta_path.name[: -len(".json")]
            if stem == "identity":
                continue
            keys_path = self.folder / f"{stem}.keys.npy"
            vecs_path = self.folder / f"{stem}.vecs.npy"
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
                if _sha256(keys_path) != meta["keys_sha256"] or _sha256(vecs_path) != meta["vecs_sha256"]:
                    raise ValueError("checksum mismatch")
                keys = np.load(keys_path, allow_pickle=False)
                vecs = np.load(vecs_path, allow_pickle=False)
                n = int(meta["n"])
                if keys.shape != (n, 16) or keys.dtype != np.uint8:
                    raise ValueError("bad keys array")
                if vecs.shape != (n, self.dim) or vecs.dtype != np.float32:
                    raise ValueError("bad vectors array")
                if not np.isfinite(vecs).all():
                    raise ValueError("non-finite vectors")
            except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
                self._drop(stem)
                self.rebuilt += 1
                continue
            self._add(stem, keys, vecs)

    def _add(self, stem: str, keys: np.ndarray, vecs: np.ndarray) -> None:
        shard = len(self.shards)
        self.shards.append(vecs)
        self.shard_names.append(stem)
        for row, key in enumerate(keys):
            self.index[key.tobytes()] = (shard, row)

    def write(self, keys: list[bytes], vecs: np.ndarray) -> None:
        stem = uuid.uuid4().hex
        karr = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        kpath = self.folder / f"{stem}.keys.npy"
        vpath = self.folder / f"{stem}.vecs.npy"
        atomic_save_npy(kpath, karr)
        atomic_save_npy(vpath, vecs)
        meta = {
            "n": len(keys),
            "dim": self.dim,
            "keys_sha256": _sha256(kpath),
            "vecs_sha256": _sha256(vpath),
        }
        atomic_write_text(self.folder / f"{stem}.json", json.dumps(meta))
        self._add(stem, karr, vecs)
        if len(self.shards) >= _COMPACT_AT:
            self._compact()

    def _compact(self) -> None:
        """Merge all shards into one (written before the old ones are removed)."""
        keys = list(self.index)
        vecs = self.gather(keys)
        old = list(self.shard_names)
        self.index, self.shards, self.shard_names = {}, [], []
        self.write(keys, vecs)
        for stem in old:
            self._drop(stem)

    def gather(self, keys: Sequence[bytes]) -> np.ndarray:
        out = np.empty((len(keys), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            shard, row = self.index[key]
            out[i] = self.shards[shard][row]
        return out


class EmbeddingCache:
    """Embeddings of texts, cached on disk per encoder identity and role.

    >>> cache = EmbeddingCache(tmp_dir)
    >>> vecs, stats = cache.embed(encoder, ["a", "b"], role="query")
    >>> stats.encoded, stats.cached
    (2, 0)
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self._namespaces: dict[str, _Namespace] = {}

    def _namespace(self, encoder: Encoder, role: Role) -> _Namespace:
        key = encoder.identity.cache_key(role)
        ns = self._namespaces.get(key)
        if ns is None:
            folder = self.root / key
            folder.mkdir(parents=True, exist_ok=True)
            ident = folder / "identity.json"
            if not ident.exists():
                desc = encoder.identity.describe() | {"prefix": encoder.identity.prefix(role)}
                atomic_write_text(ident, json.dumps(desc, indent=1))
            ns = _Namespace(folder, encoder.identity.dim)
            self._namespaces[key] = ns
        return ns

    def embed(
        self,
        encoder: Encoder,
        texts: Sequence[str],
        *,
        role: Role = "document",
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, CacheStats]:
        """Vectors of ``texts`` (``(len(texts), dim)`` float32), encoding only unseen texts.

        Duplicate texts are encoded once.  ``progress(done, total)`` counts the
        texts actually encoded.  Counts in the returned :class:`CacheStats` are
        of distinct texts.
        """
        ns = self._namespace(encoder, role)
        rebuilt, ns.rebuilt = ns.rebuilt, 0
        keys = [text_key(t) for t in texts]
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts):
            if key not in ns.index and key not in missing:
                missing[key] = text
        n_distinct = len(set(keys))
        if missing:
            vecs = encoder.encode(
                list(missing.values()),
                role=role,
                batch_size=batch_size,
                progress=progress,
            )
            ns.write(list(missing), vecs)
        stats = CacheStats(
            encoded=len(missing),
            cached=n_distinct - len(missing),
            rebuilt_shards=rebuilt,
        )
        return ns.gather(keys), stats
