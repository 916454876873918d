"""Embedding precision: float32, calibrated int8 and unsigned binary vectors, and their ranks.

Quantization follows sentence-transformers' ``quantize_embeddings`` exactly:

* ``int8``: per dimension ``j`` the calibration set gives ``lo_j = min``, ``hi_j = max`` and
  ``step_j = (hi_j - lo_j) / 255`` (``1`` where ``hi_j = lo_j``); a value ``x`` becomes
  ``clip(floor((x - lo_j) / step_j), 0, 255) - 128`` (int8).  Values outside the calibration
  range are clipped.  Similarity: the integer dot product of the codes.
* ``ubinary``: ``packbits(x > 0)`` (``ceil(dim / 8)`` uint8 per vector).  Similarity:
  ``-hamming(a, b)``; on ``±1`` vectors ``a.b = dim - 2 hamming``, so ranking by the dot
  product of the ``±1`` vectors is ranking by Hamming distance, exactly (integers).
* ``cbinary`` (centred binary, xlr's; not in sentence-transformers): ``packbits(x - mu > 0)``
  with ``mu_j`` the calibration mean per dimension, then Hamming as ``ubinary``.  Anisotropic
  encoders (multilingual-e5: mean cosine of unrelated texts about 0.77) put most dimensions on
  one side of 0 for nearly every text, so ``x > 0`` carries few bits; thresholding at the mean
  gives each bit about half the texts.  Same bytes as ``ubinary`` plus one shared ``mu``.

Both sides (queries and pool) are quantized with the same ranges, so the ranks come from the
one ranking kernel (:func:`~xlr.retrieval.ranks.gold_ranks`) with its pessimistic tie rule; the
codes are exact integers in float32 as long as ``127^2 * dim < 2^24`` (``dim <= 1040``; above
that sums may round, as any float32 BLAS product does).

Rescoring (``rescore = R > 0``), as sentence-transformers' ``semantic_search_*`` does: the
R best pool documents by the quantized similarity (score desc, index asc) are rescored with
the float32 query against the stored document (int8 dequantized to the calibration grid;
ubinary unpacked to ``{0, 1}``; cbinary: the centred query ``q - mu`` against the ``±1`` code).  A gold among the R candidates gets its pessimistic rank among
them by the rescored score; a gold outside them keeps its quantized rank (at least ``R + 1``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from xlr.retrieval.ranks import gold_ranks, top_k
from xlr.retrieval.scoring import ScoringSpec

__all__ = [
    "VECTOR_PRECISIONS",
    "Calibration",
    "VectorSpec",
    "bytes_per_vector",
    "calibrate",
    "dequantize",
    "hamming_gold_ranks",
    "quantize",
    "quantized_key",
    "quantized_ranker",
    "scoring_vectors",
]

VECTOR_PRECISIONS = ("float32", "int8", "ubinary", "cbinary")
BINARY = ("ubinary", "cbinary")


class VectorPrecisionError(ValueError):
    """An unknown embedding precision or rescore count."""


@dataclass(frozen=True)
class VectorSpec:
    """How stored vectors are represented: ``precision`` (float32, int8, ubinary) and ``rescore``
    (0: none; R > 0: rescore the R best candidates with the float32 query)."""

    precision: str = "float32"
    rescore: int = 0

    def __post_init__(self) -> None:
        if self.precision not in VECTOR_PRECISIONS:
            raise VectorPrecisionError(
                f"unknown vector precision {self.precision!r}; choose {', '.join(VECTOR_PRECISIONS)}"
            )
        if not isinstance(self.rescore, (int, np.integer)) or self.rescore < 0:
            raise VectorPrecisionError(f"rescore must be an integer >= 0, got {self.rescore!r}")
        if self.precision == "float32" and self.rescore:
            raise VectorPrecisionError("rescoring applies to int8 or ubinary vectors, not float32")

    @property
    def label(self) -> str:
        """``""`` for float32, else ``int8``, ``ubinary``, ``int8-rescore40``, ..."""
        if self.precision == "float32":
            return ""
        return self.precision + (f"-rescore{self.rescore}" if self.rescore else "")


@dataclass(frozen=True)
class Calibration:
    """Per-dimension ``(2, dim)`` float32 ranges (row 0 min, row 1 max), the hash of the data and the
    per-dimension mean ``(dim,)`` (the ``cbinary`` threshold)."""

    ranges: np.ndarray
    data_sha256: str
    center: np.ndarray | None = None

    def key(self, float_key: str, spec: VectorSpec) -> str:
        """See :func:`quantized_key`."""
        return quantized_key(float_key, spec, self)


def quantized_key(float_key: str, spec: VectorSpec, calibration: Calibration | None) -> str:
    """Key of quantized vectors: the float vectors' cache key + precision + rescore + calibration hash."""
    blob = json.dumps([float_key, spec.precision, spec.rescore, calibration.data_sha256 if calibration else None])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def calibrate(data: np.ndarray) -> Calibration:
    """Ranges (min and max per dimension, as sentence-transformers) and mean of ``data`` ``(n, dim)``, n >= 2."""
    data = np.ascontiguousarray(data, dtype=np.float32)
    if data.ndim != 2 or data.shape[0] < 2:
        raise VectorPrecisionError(f"int8 calibration needs at least 2 vectors (n, dim), got shape {data.shape}")
    ranges = np.vstack((data.min(axis=0), data.max(axis=0))).astype(np.float32)
    center = data.mean(axis=0, dtype=np.float64).astype(np.float32)
    return Calibration(ranges, hashlib.sha256(data.tobytes()).hexdigest(), center)


def _steps(ranges: np.ndarray) -> np.ndarray:
    steps = (ranges[1] - ranges[0]) / 255
    return np.where(steps == 0, 1, steps).astype(np.float32)


def quantize(
    x: np.ndarray, precision: str, ranges: np.ndarray | None = None, *, center: np.ndarray | None = None
) -> np.ndarray:
    """``x`` ``(n, dim)`` float as stored: float32 (n, dim), int8 (n, dim) or uint8 (n, ceil(dim / 8)).

    ``ranges`` (``(2, dim)``, from :func:`calibrate`) is required for int8, ``center`` (``(dim,)``) for cbinary.
    """
    x = np.asarray(x, dtype=np.float32)
    if precision == "float32":
        return x
    if precision == "int8":
        if ranges is None:
            raise VectorPrecisionError("int8 quantization needs calibration ranges (see calibrate)")
        ranges = np.asarray(ranges, dtype=np.float32)
        q = np.clip(np.floor((x - ranges[0]) / _steps(ranges)), 0, 255)
        codes: np.ndarray = (q - 128).astype(np.int8)
        return codes
    if precision == "ubinary":
        bits: np.ndarray = np.packbits(x > 0, axis=-1)
        return bits
    if precision == "cbinary":
        if center is None:
            raise VectorPrecisionError("cbinary quantization needs the calibration mean (see calibrate)")
        centred: np.ndarray = np.packbits(x - np.asarray(center, dtype=np.float32) > 0, axis=-1)
        return centred
    raise VectorPrecisionError(f"unknown vector precision {precision!r}; choose {', '.join(VECTOR_PRECISIONS)}")


def dequantize(codes: np.ndarray, precision: str, dim: int, ranges: np.ndarray | None = None) -> np.ndarray:
    """What rescoring multiplies the float query with: int8 back on the calibration grid
    (``(code + 128) * step + lo``), ubinary unpacked to ``{0, 1}`` (as sentence-transformers), cbinary
    to ``±1`` (scored against the centred query)."""
    if precision == "int8":
        if ranges is None:
            raise VectorPrecisionError("dequantizing int8 needs the calibration ranges")
        ranges = np.asarray(ranges, dtype=np.float32)
        grid: np.ndarray = ((codes.astype(np.float32) + 128) * _steps(ranges) + ranges[0]).astype(np.float32)
        return grid
    if precision == "ubinary":
        return np.unpackbits(codes, axis=-1)[..., :dim].astype(np.float32)
    if precision == "cbinary":
        return scoring_vectors(codes, precision, dim)
    return np.asarray(codes, dtype=np.float32)


def scoring_vectors(codes: np.ndarray, precision: str, dim: int) -> np.ndarray:
    """Float32 rows whose dot products rank as the stored codes do: int8 codes as floats (the
    integer dot product), ubinary and cbinary as ``±1`` (``dim - 2 hamming``); float32 unchanged."""
    if precision in BINARY:
        signs: np.ndarray = np.unpackbits(codes, axis=-1)[..., :dim].astype(np.float32) * 2 - 1
        return signs
    return np.asarray(codes, dtype=np.float32)


def bytes_per_vector(precision: str, dim: int) -> int:
    """Stored bytes of one ``dim``-wide vector: ``4 dim``, ``dim`` or ``ceil(dim / 8)``."""
    return {"float32": 4 * dim, "int8": dim, "ubinary": (dim + 7) // 8, "cbinary": (dim + 7) // 8}[precision]


def hamming_gold_ranks(
    query_bits: np.ndarray, pool_bits: np.ndarray, gold: np.ndarray, *, chunk_size: int = 256
) -> np.ndarray:
    """Pessimistic 1-based gold ranks by Hamming distance of packed bits (popcount kernel).

    ``rank = #{j : hamming(q, p_j) <= hamming(q, p_gold)}``: equal to :func:`gold_ranks` on the
    ``±1`` vectors.  Shapes: ``(n, b)``, ``(m, b)`` uint8, ``gold`` ``(n,)``; memory
    ``chunk x m x b`` bytes.
    """
    q = np.ascontiguousarray(query_bits, dtype=np.uint8)
    p = np.ascontiguousarray(pool_bits, dtype=np.uint8)
    gold = np.asarray(gold, dtype=np.int64)
    if q.ndim != 2 or p.ndim != 2 or q.shape[1] != p.shape[1] or gold.shape != (q.shape[0],):
        raise ValueError(f"shapes do not match: queries {q.shape}, pool {p.shape}, gold {gold.shape}")
    pad = (-q.shape[1]) % 8  # view the bytes as uint64 words
    if pad:
        q = np.pad(q, ((0, 0), (0, pad)))
        p = np.pad(p, ((0, 0), (0, pad)))
    qw, pw = q.view(np.uint64), p.view(np.uint64)
    out = np.empty(q.shape[0], dtype=np.int64)
    for start in range(0, q.shape[0], chunk_size):
        block = qw[start : start + chunk_size]
        dist = np.bitwise_count(block[:, None, :] ^ pw[None, :, :]).sum(axis=2, dtype=np.int64)
        g = dist[np.arange(block.shape[0]), gold[start : start + chunk_size]]
        out[start : start + chunk_size] = np.count_nonzero(dist <= g[:, None], axis=1)
    return out


def quantized_ranker(
    spec: VectorSpec, calibration: Calibration | None, quantizer: Callable[..., np.ndarray] | None = None
) -> Callable[..., np.ndarray]:
    """A ``ranker(queries, pool, gold, *, scoring)`` (float32 inputs, as
    :func:`~xlr.retrieval.evaluate.evaluate_vectors` passes them) that quantizes both sides with
    ``calibration`` and ranks the stored codes; float32 gives :func:`gold_ranks` itself.
    ``quantizer``: what turns float rows into codes (default :func:`quantize`; the embedding cache's
    :meth:`~xlr.retrieval.code_cache.CodeCache.quantize` gives the same codes, stored)."""
    if spec.precision == "float32":
        return gold_ranks
    if spec.precision in ("int8", "cbinary") and calibration is None:  # checked here, not at the first direction
        raise VectorPrecisionError(f"{spec.precision} vectors need a calibration (see calibrate)")
    ranges = calibration.ranges if calibration is not None else None
    center = calibration.center if calibration is not None else None
    if spec.precision == "cbinary" and center is None:
        raise VectorPrecisionError("cbinary vectors need the calibration mean (see calibrate)")

    def ranker(
        queries: np.ndarray, pool: np.ndarray, gold: np.ndarray, *, scoring: ScoringSpec | None = None
    ) -> np.ndarray:
        dim = pool.shape[1]
        quant = quantizer or quantize
        q_codes = quant(queries, spec.precision, ranges, center=center)
        p_codes = quant(pool, spec.precision, ranges, center=center)
        qs, ps = scoring_vectors(q_codes, spec.precision, dim), scoring_vectors(p_codes, spec.precision, dim)
        ranks = gold_ranks(qs, ps, gold, scoring=scoring)
        if not spec.rescore:
            return ranks
        fine_q = queries - center if spec.precision == "cbinary" else queries
        return _rescore(fine_q, qs, ps, dequantize(p_codes, spec.precision, dim, ranges), gold, ranks, spec.rescore)

    return ranker


def _rescore(
    queries: np.ndarray,
    q_scoring: np.ndarray,
    p_scoring: np.ndarray,
    p_rescore: np.ndarray,
    gold: np.ndarray,
    ranks: np.ndarray,
    r: int,
) -> np.ndarray:
    """Ranks after rescoring the ``r`` best candidates with the float query (see the module doc)."""
    r = min(r, p_scoring.shape[0])
    cand, _ = top_k(q_scoring, p_scoring, r)  # (n, r): score desc, index asc
    out: np.ndarray = np.maximum(ranks, r + 1)
    hit = cand == np.asarray(gold)[:, None]
    rows = np.flatnonzero(hit.any(axis=1))
    if rows.size:
        fine = np.einsum("nd,nrd->nr", np.asarray(queries, dtype=np.float64)[rows], p_rescore[cand[rows]])
        g = fine[np.arange(rows.size), hit[rows].argmax(axis=1)]
        out[rows] = np.count_nonzero(fine >= g[:, None], axis=1)
    return out
