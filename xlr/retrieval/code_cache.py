"""Quantized vectors cached separately: int8 and binary codes in their own namespace of the embedding cache.

The codes of a float32 vector depend on the vector, the precision and (int8) the calibration ranges
(:mod:`xlr.retrieval.quantized`). They are stored in the namespace
:func:`~xlr.retrieval.quantized.quantized_key` of (the encoder's float32 namespaces, the precision,
the calibration data's sha256) as shards of int8 ``(n, dim)`` or uint8 ``(n, ceil(dim / 8))`` rows (ubinary, cbinary),
one per distinct float vector, keyed by the blake2b-128 digest of its float32 bytes. Shards are
``.npy`` (never pickle), published atomically, checksummed and locked exactly as the float32 shards
are (:class:`~xlr.encoders.cache_store.Namespace`), so a second evaluation reads the codes back and
quantizes nothing. The codes are those :func:`~xlr.retrieval.quantized.quantize` gives, so the ranks
(and the kernel's pessimistic tie rule) are unchanged.
"""

from __future__ import annotations

import hashlib

import numpy as np

from xlr.encoders.base import Encoder, EncoderIdentity
from xlr.encoders.cache import EmbeddingCache
from xlr.retrieval import quantized
from xlr.retrieval.quantized import Calibration, VectorSpec, bytes_per_vector, quantized_key

__all__ = ["CodeCache", "codes_key"]


def _row_keys(x: np.ndarray) -> list[bytes]:
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in x]


def _float_key(identity: EncoderIdentity) -> str:
    return "|".join(identity.cache_key(role) for role in ("query", "document"))


def codes_key(identity: EncoderIdentity, precision: str, calibration: Calibration | None) -> str:
    """The namespace of ``identity``'s ``precision`` codes under ``calibration`` (rescoring shares it)."""
    return quantized_key(_float_key(identity), VectorSpec(precision), calibration)


class CodeCache:
    """A ``quantize(x, precision, ranges)`` that reads codes from the cache and computes (and stores) only
    the rows it lacks; ``computed`` counts the rows this object quantized. Pass :meth:`quantize` to
    :func:`~xlr.retrieval.quantized.quantized_ranker`."""

    def __init__(
        self, cache: EmbeddingCache, encoder: Encoder, spec: VectorSpec, calibration: Calibration | None
    ) -> None:
        if spec.precision == "float32":
            raise quantized.VectorPrecisionError("float32 vectors have no codes to cache")
        ident = encoder.identity
        self.cache = cache
        self.precision = spec.precision
        self.key = codes_key(ident, spec.precision, calibration)
        self.desc: dict[str, object] = {
            "codes_of": _float_key(ident),
            "encoder": ident.label,
            "precision": spec.precision,
            "calibration_sha256": calibration.data_sha256 if calibration is not None else None,
        }
        self.width = bytes_per_vector(spec.precision, ident.dim)
        self.dtype: type[np.generic] = np.int8 if spec.precision == "int8" else np.uint8
        self.computed = 0

    def quantize(
        self, x: np.ndarray, precision: str, ranges: np.ndarray | None = None, *, center: np.ndarray | None = None
    ) -> np.ndarray:
        """The codes of ``x`` ``(n, dim)``: cached rows gathered, missing ones quantized and stored
        (``ranges`` and ``center`` come from the calibration whose hash is in the namespace key)."""
        if precision != self.precision:
            raise quantized.VectorPrecisionError(f"this code cache holds {self.precision} codes, not {precision}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        keys = _row_keys(x)
        ns = self.cache.derived(self.key, self.desc, self.width, self.dtype)
        if any(k not in ns.index for k in keys):
            token = ns.acquire()  # refreshes: another process may have stored them meanwhile
            try:
                missing: dict[bytes, int] = {}
                for i, k in enumerate(keys):
                    if k not in ns.index and k not in missing:
                        missing[k] = i
                if missing:
                    rows = np.fromiter(missing.values(), dtype=np.int64, count=len(missing))
                    ns.write(list(missing), quantized.quantize(x[rows], precision, ranges, center=center))
                    self.computed += rows.size
            finally:
                ns.release(token)
        return ns.gather(keys)
