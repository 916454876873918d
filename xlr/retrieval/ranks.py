"""Array kernels: the gold rank of every query, and the top-k of every query.

Both work in chunks of queries (one ``chunk x pool`` score block at a time),
never sort a whole row, and accept any :class:`~xlr.retrieval.scoring.Scorer`.

Tie rules (deterministic, documented):

* **Gold rank** is pessimistic: ``r = 1 + #{j : s_j > s_gold} + #{j != gold : s_j = s_gold}``.
  A document that ties with the gold counts as ranked above it, so a degenerate
  encoder (all vectors equal) gets rank ``n_pool`` for every query, never 1.
  The gold score is read from the same score block, so it is bit-identical to
  the scores it is compared with.
* **Top-k** lists are ordered by score descending, then pool index ascending
  (for cosine over pools of ``STREAM_ABOVE`` rows or more, :mod:`xlr.retrieval.streaming`
  walks the pool in chunks and returns the identical lists).
  (So when the gold ties with an earlier-indexed document, it can appear in
  the list at a position better than its pessimistic rank.)
"""

from __future__ import annotations

import numpy as np

from xlr.retrieval.scoring import Scorer, ScoringSpec
from xlr.retrieval.streaming import STREAM_ABOVE, streaming_top_k

__all__ = ["TILE", "gold_ranks", "relevant_ranks", "tiled_cosines", "top_k", "validate_embeddings"]

DEFAULT_CHUNK = 1024

TILE = 16384
"""Pool documents per score tile (the pool chunk of :mod:`xlr.retrieval.streaming` too)."""


def tiled_cosines(queries: np.ndarray, pool: np.ndarray, tile: int = TILE) -> np.ndarray:
    """``queries @ pool.T`` (``(n, m)`` float32), computed one ``n x tile`` product at a time.

    A BLAS product rounds each dot product in an order that depends on the
    matrix shapes (and on the BLAS thread count), so the same pair can score
    differently in the last bit in two products of different widths.  Every
    kernel therefore scores a chunk of queries (rows from query 0 in steps of
    ``chunk_size``) against pool tiles that start at multiples of ``tile``: a
    pool shard made of whole tiles (:mod:`xlr.retrieval.sharded`) gets scores
    bit-identical to the whole-pool kernels.  ``pool`` must start at a tile
    boundary of the full pool.  With ``m <= tile`` this is one product.
    """
    if tile < 1:
        raise ValueError(f"tile must be >= 1, got {tile}")
    m = pool.shape[0]
    if m <= tile:
        one: np.ndarray = queries @ pool.T
        return one
    out = np.empty((queries.shape[0], m), dtype=np.result_type(queries, pool))
    for start in range(0, m, tile):
        out[:, start : start + tile] = queries @ pool[start : start + tile].T
    return out


def validate_embeddings(name: str, x: np.ndarray, dim: int | None = None) -> np.ndarray:
    """Check ``x`` is a finite 2-D float array (of width ``dim``); return it as float32."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, dim), got shape {x.shape}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} has dimension {x.shape[1]}, expected {dim}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must be a float array, got {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        bad = int(np.argwhere(~np.isfinite(x))[0, 0])
        raise ValueError(f"{name} row {bad} contains NaN or infinity")
    return x


def _prepare(
    queries: np.ndarray,
    pool: np.ndarray,
    scoring: ScoringSpec | None,
    reference_queries: np.ndarray | None,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray, Scorer]:
    """Validated ``(queries, pool, scorer)``; the scorer's r_S uses ``reference_queries`` (default: the queries)."""
    pool = validate_embeddings("pool", pool)
    if pool.shape[0] == 0:
        raise ValueError("the pool is empty")
    queries = validate_embeddings("queries", queries, pool.shape[1])
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    spec = scoring if scoring is not None else ScoringSpec()
    if spec.method != "cosine":
        ref = (
            queries
            if reference_queries is None
            else validate_embeddings("reference_queries", reference_queries, pool.shape[1])
        )
        scorer = Scorer(spec, pool, ref)
    else:
        scorer = Scorer(spec, pool)
    return queries, pool, scorer


def gold_ranks(
    queries: np.ndarray,
    pool: np.ndarray,
    gold: np.ndarray,
    *,
    scoring: ScoringSpec | None = None,
    reference_queries: np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    tile: int = TILE,
) -> np.ndarray:
    """1-based rank of each query's gold document in the pool (pessimistic ties).

    Shapes: ``queries`` (n, d), ``pool`` (m, d), ``gold`` (n,) integer indices
    into ``pool``.  Returns ``(n,)`` int64 with values in ``[1, m]``.
    ``scoring`` defaults to cosine (the dot product of normalised rows);
    ``reference_queries`` (default: ``queries``) are the queries CSLS/margin
    take r_S from.  Cost: one ``n x m`` product in chunks; memory ``chunk x m``.
    Scores are computed in ``chunk_size x tile`` tiles (see :func:`tiled_cosines`).
    """
    gold = np.asarray(gold)
    n = np.shape(queries)[0] if np.ndim(queries) == 2 else -1
    if gold.shape != (n,):
        raise ValueError(f"gold must have shape ({n},), got {gold.shape}")
    return relevant_ranks(
        queries,
        pool,
        gold[:, None],
        scoring=scoring,
        reference_queries=reference_queries,
        chunk_size=chunk_size,
        tile=tile,
    )[:, 0]


def relevant_ranks(
    queries: np.ndarray,
    pool: np.ndarray,
    relevant: np.ndarray,
    *,
    scoring: ScoringSpec | None = None,
    reference_queries: np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    tile: int = TILE,
) -> np.ndarray:
    """The ranking kernel: 1-based pessimistic rank of each relevant pool document of each query.

    ``relevant`` is ``(n, R)`` integer indices into ``pool``, padded with ``-1`` where a query
    has fewer than R relevant documents.  Returns ``(n, R)`` int64: for a real entry
    ``rank = #{pool documents j : score(q, j) >= score(q, relevant)}`` (the document itself
    counts once; every other document scored higher *or tied* counts against it: the
    pessimistic tie rule), ``0`` for padding.  :func:`gold_ranks` is the case R = 1.
    Cost: one ``n x m`` product in chunks; memory ``chunk x m x R`` booleans.  Scores are
    computed in ``chunk_size x tile`` tiles (see :func:`tiled_cosines`).
    """
    queries, pool, scorer = _prepare(queries, pool, scoring, reference_queries, chunk_size)
    relevant = np.asarray(relevant)
    if relevant.ndim != 2 or relevant.shape[0] != queries.shape[0] or relevant.shape[1] < 1:
        raise ValueError(f"relevant must have shape ({queries.shape[0]}, R >= 1), got {relevant.shape}")
    if relevant.size and (
        not np.issubdtype(relevant.dtype, np.integer) or relevant.min() < -1 or relevant.max() >= pool.shape[0]
    ):
        raise ValueError(f"gold must hold integer indices in [0, {pool.shape[0]}) (or -1 for padding)")
    if relevant.size and (relevant[:, 0] < 0).any():
        raise ValueError("every query needs at least one relevant document (relevant[:, 0] >= 0)")
    out = np.zeros(relevant.shape, dtype=np.int64)
    for start in range(0, queries.shape[0], chunk_size):
        stop = min(start + chunk_size, queries.shape[0])
        scores = scorer.transform(tiled_cosines(queries[start:stop], pool, tile))
        rel = relevant[start:stop]
        g = np.take_along_axis(scores, np.maximum(rel, 0), axis=1)  # (c, R)
        if rel.shape[1] == 1:  # the common case, without the (c, R, m) temporary
            counts = np.count_nonzero(scores >= g, axis=1)[:, None]
        else:
            counts = np.count_nonzero(scores[:, None, :] >= g[:, :, None], axis=2)
        out[start:stop] = np.where(rel >= 0, counts, 0)
    return out


def _topk_block(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best columns of each row: score desc, then index asc."""
    n, m = scores.shape
    if k >= m:
        cand = np.broadcast_to(np.arange(m), (n, m))
    else:
        cand = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(scores, cand, axis=1).min(axis=1, keepdims=True)
        # Rows where ties straddle the k-th place: argpartition chose among them
        # arbitrarily, so take the lowest indices among the tied documents instead.
        straddle = np.count_nonzero(scores >= kth, axis=1) > k
        for r in np.flatnonzero(straddle):
            above = np.flatnonzero(scores[r] > kth[r, 0])
            tied = np.flatnonzero(scores[r] == kth[r, 0])[: k - above.size]
            cand[r] = np.concatenate([above, tied])
    vals = np.take_along_axis(scores, cand, axis=1)
    order = np.lexsort((cand, -vals), axis=1)
    return np.take_along_axis(cand, order, axis=1)


def top_k(
    queries: np.ndarray,
    pool: np.ndarray,
    k: int,
    *,
    scoring: ScoringSpec | None = None,
    reference_queries: np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    tile: int = TILE,
) -> tuple[np.ndarray, np.ndarray]:
    """The k best pool documents of each query and their scores.

    Returns ``(indices, scores)``, both ``(n, min(k, m))``; indices int64 into
    ``pool``, ordered by score descending then index ascending.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    queries, pool, scorer = _prepare(queries, pool, scoring, reference_queries, chunk_size)
    kk = min(int(k), pool.shape[0])
    if scorer.spec.method == "cosine" and pool.shape[0] >= STREAM_ABOVE:
        # large pool: walk it in chunks with running top-k lists (same order, less memory)
        return streaming_top_k(queries, pool, kk, query_chunk=min(chunk_size, 1024), pool_chunk=tile)
    idx = np.empty((queries.shape[0], kk), dtype=np.int64)
    val = np.empty((queries.shape[0], kk), dtype=np.float32)
    for start in range(0, queries.shape[0], chunk_size):
        stop = min(start + chunk_size, queries.shape[0])
        scores = scorer.transform(tiled_cosines(queries[start:stop], pool, tile))
        best = _topk_block(scores, kk)
        idx[start:stop] = best
        val[start:stop] = np.take_along_axis(scores, best, axis=1)
    return idx, val
