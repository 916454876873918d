"""Exact gold ranks and top-k with the pool split into shards: per-shard parts and their merge.

An engine that cannot hold a direction's pool in one process (:mod:`xlr.engines.ray_engine`)
gives each task one shard, a run of whole score tiles ``[start, stop)`` of the pool, and
merges what the tasks return into the ranks :func:`xlr.retrieval.ranks.gold_ranks` computes
(cosine scoring).  With ``S`` the cosine of a query and a pool document:

1. **gold pass** (:func:`shard_gold_scores`): the shard holding query ``i``'s gold
   reads ``g_i = S[i, gold_i]`` from the tile that holds the gold (only tiles holding a
   gold are scored);
2. **count pass** (:func:`shard_part`): every shard returns, per query,
   ``above = #{j in shard : S_ij > g_i}`` and ``tied = #{j in shard : S_ij == g_i}``
   (the gold itself included, in its own shard) and its partial top-k (score desc,
   pool index asc);
3. **merge** (:func:`merge_parts`): ``rank_i = sum above + sum tied``, i.e.
   ``1 + #greater + #ties other than the gold`` -- the pessimistic rule of
   :mod:`xlr.retrieval.ranks` -- and the top-k lists merged by (score desc, index asc),
   the order of :func:`xlr.retrieval.ranks.top_k`.

Identity with the local kernels rests on computing the very same products: scores come
from :func:`xlr.retrieval.ranks.tiled_cosines` over the same ``chunk_size x tile`` tiles
(shards start at tile boundaries), so each score is bit-identical to the one the local
kernel compares -- provided the BLAS runs with the same thread count (the Ray engine sets
it in each task).  :func:`merge_parts` checks that every gold was counted exactly as tied
with itself and raises :class:`ShardMismatch` otherwise, so a difference never passes
silently.  Memory per task: the shard, the queries and one ``chunk_size x tile`` block.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from xlr.retrieval.ranks import DEFAULT_CHUNK, TILE, tiled_cosines, validate_embeddings
from xlr.retrieval.streaming import _SENTINEL, _candidates, _merge

__all__ = [
    "ShardMismatch",
    "ShardPart",
    "merge_gold_scores",
    "merge_parts",
    "shard_bounds",
    "shard_gold_scores",
    "shard_part",
    "sharded_gold_ranks",
]


class ShardMismatch(ValueError):
    """Shards scored a gold differently from the tile that holds it (different BLAS rounding)."""


@dataclass(frozen=True)
class ShardPart:
    """What one shard returns for a direction: counts against each gold and a partial top-k.

    ``above``/``tied``: ``(n,)`` int64; ``top_idx`` ``(n, k)`` int64 indices into the full
    pool (``_SENTINEL`` pads a shard smaller than k) and ``top_val`` ``(n, k)`` float32
    (``-inf`` pads); ``k = 0`` when no top-k was asked for.
    """

    start: int
    stop: int
    above: np.ndarray
    tied: np.ndarray
    top_idx: np.ndarray
    top_val: np.ndarray


def shard_bounds(m: int, n_shards: int, tile: int = TILE) -> list[tuple[int, int]]:
    """Split ``m`` pool rows into at most ``n_shards`` contiguous runs of whole tiles.

    Tiles are spread as evenly as possible (the first shards get one more tile);
    never more shards than tiles, never an empty shard.
    """
    if m < 1:
        raise ValueError("the pool is empty")
    if n_shards < 1:
        raise ValueError(f"the number of shards must be >= 1, got {n_shards}")
    n_tiles = -(-m // tile)
    n = min(n_shards, n_tiles)
    per, extra = divmod(n_tiles, n)
    out, t = [], 0
    for s in range(n):
        t2 = t + per + (1 if s < extra else 0)
        out.append((t * tile, min(t2 * tile, m)))
        t = t2
    return out


def _check(queries: np.ndarray, shard: np.ndarray, start: int, tile: int) -> tuple[np.ndarray, np.ndarray]:
    shard = validate_embeddings("pool shard", shard)
    queries = validate_embeddings("queries", queries, shard.shape[1])
    if start % tile:
        raise ValueError(f"a shard must start at a multiple of the tile ({tile}), got {start}")
    return queries, shard


def shard_gold_scores(
    queries: np.ndarray,
    shard: np.ndarray,
    start: int,
    gold: np.ndarray,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    tile: int = TILE,
) -> np.ndarray:
    """``(n,)`` float32: the cosine of each query with its gold where the gold lies in this shard, NaN elsewhere.

    ``gold`` holds indices into the full pool; the shard holds rows ``[start, start + len(shard))``.
    Only the tiles holding a gold of a query chunk are scored (for ``gold = arange(n)``, one or
    two tiles per chunk).
    """
    queries, shard = _check(queries, shard, start, tile)
    gold = np.asarray(gold, dtype=np.int64)
    out = np.full(queries.shape[0], np.nan, dtype=np.float32)
    local = gold - start
    inside = (local >= 0) & (local < shard.shape[0])
    for c0 in range(0, queries.shape[0], chunk_size):
        c1 = min(c0 + chunk_size, queries.shape[0])
        rows = np.flatnonzero(inside[c0:c1])
        if rows.size == 0:
            continue
        for t0 in np.unique(local[c0:c1][rows] // tile * tile):
            block = tiled_cosines(queries[c0:c1], shard[t0 : t0 + tile], tile)
            sel = rows[(local[c0:c1][rows] >= t0) & (local[c0:c1][rows] < t0 + tile)]
            out[c0 + sel] = block[sel, local[c0 + sel] - t0]
    return out


def merge_gold_scores(parts: Iterable[np.ndarray]) -> np.ndarray:
    """Combine the shards' :func:`shard_gold_scores` (exactly one shard holds each gold)."""
    parts = list(parts)
    have = np.stack([~np.isnan(p) for p in parts])
    if not (have.sum(axis=0) == 1).all():
        raise ShardMismatch("the shards do not cover every gold exactly once")
    merged: np.ndarray = np.choose(np.argmax(have, axis=0), parts).astype(np.float32)
    return merged


def shard_part(
    queries: np.ndarray,
    shard: np.ndarray,
    start: int,
    gold_scores: np.ndarray,
    k: int = 0,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    tile: int = TILE,
) -> ShardPart:
    """Counts above / tied with each gold score, and the top-``k`` of this shard (``k = 0``: none).

    Cost: one ``n x len(shard)`` product in ``chunk_size x tile`` tiles.
    """
    queries, shard = _check(queries, shard, start, tile)
    n, s = queries.shape[0], shard.shape[0]
    g = np.asarray(gold_scores, dtype=np.float32)
    if g.shape != (n,):
        raise ValueError(f"gold_scores must have shape ({n},), got {g.shape}")
    above = np.zeros(n, dtype=np.int64)
    tied = np.zeros(n, dtype=np.int64)
    val = np.full((n, k), -np.inf, dtype=np.float32)
    idx = np.full((n, k), _SENTINEL, dtype=np.int64)
    for c0 in range(0, n, chunk_size):
        c1 = min(c0 + chunk_size, n)
        gc = g[c0:c1, None]
        for t0 in range(0, s, tile):
            block = tiled_cosines(queries[c0:c1], shard[t0 : t0 + tile], tile)
            above[c0:c1] += np.count_nonzero(block > gc, axis=1)
            tied[c0:c1] += np.count_nonzero(block == gc, axis=1)
            if k:
                rows, cols = _candidates(block, val[c0:c1, -1:], k)
                if rows.size:
                    v, i = _merge(val[c0:c1], idx[c0:c1], rows, cols + start + t0, block[rows, cols], k)
                    val[c0:c1], idx[c0:c1] = v, i
    return ShardPart(start, start + s, above, tied, idx, val)


def merge_parts(parts: Sequence[ShardPart], m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gold ranks ``(n,)`` and the merged top-k ``(indices (n, min(k, m)), scores)`` from every shard's part.

    Raises :class:`ShardMismatch` if the parts do not tile ``[0, m)`` or if some gold was not
    found tied with its own score (the shards rounded differently from the gold's tile).
    """
    parts = sorted(parts, key=lambda p: p.start)
    if (
        not parts
        or parts[0].start != 0
        or parts[-1].stop != m
        or any(a.stop != b.start for a, b in zip(parts, parts[1:]))
    ):
        raise ShardMismatch(f"the shards do not cover the pool [0, {m}) exactly once")
    above = np.sum([p.above for p in parts], axis=0)
    tied = np.sum([p.tied for p in parts], axis=0)
    if (tied < 1).any():
        bad = int(np.flatnonzero(tied < 1)[0])
        raise ShardMismatch(
            f"query {bad}: no shard scored its gold as the gold's own tile did "
            "(workers round dot products differently, e.g. another BLAS thread count)"
        )
    ranks = above + tied
    k = parts[0].top_idx.shape[1]
    val, idx = parts[0].top_val, parts[0].top_idx
    n = above.shape[0]
    for p in parts[1:] if k else ():
        rows = np.repeat(np.arange(n), k)
        val, idx = _merge(val, idx, rows, p.top_idx.ravel(), p.top_val.ravel(), k)
    kk = min(k, m)
    return ranks, idx[:, :kk].copy(), val[:, :kk].copy()


def sharded_gold_ranks(
    queries: np.ndarray,
    pool: np.ndarray,
    gold: np.ndarray,
    *,
    n_shards: int,
    k: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
    tile: int = TILE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole protocol in this process, shard after shard: ``(ranks, top_idx, top_val)``.

    Equals ``gold_ranks(queries, pool, gold, chunk_size=chunk_size, tile=tile)`` and, for
    ``k > 0``, ``top_k(queries, pool, k)`` (cosine); the reference the Ray engine is tested
    against, and what it runs inside each task.
    """
    pool = validate_embeddings("pool", pool)
    gold = np.asarray(gold)
    if gold.shape != (queries.shape[0],):
        raise ValueError(f"gold must have shape ({queries.shape[0]},), got {gold.shape}")
    if gold.size and (not np.issubdtype(gold.dtype, np.integer) or gold.min() < 0 or gold.max() >= pool.shape[0]):
        raise ValueError(f"gold must hold integer indices in [0, {pool.shape[0]})")
    bounds = shard_bounds(pool.shape[0], n_shards, tile)
    opts = {"chunk_size": chunk_size, "tile": tile}
    g = merge_gold_scores(shard_gold_scores(queries, pool[a:b], a, gold, **opts) for a, b in bounds)
    parts = [shard_part(queries, pool[a:b], a, g, k, **opts) for a, b in bounds]
    return merge_parts(parts, pool.shape[0])
