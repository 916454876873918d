"""The pool-sharded kernel against the local kernels, on data full of exact ties (fast tier, no Ray)."""

from __future__ import annotations

import numpy as np
import pytest

from xlr.retrieval.ranks import gold_ranks, tiled_cosines, top_k
from xlr.retrieval.sharded import (
    ShardMismatch,
    ShardPart,
    merge_gold_scores,
    merge_parts,
    shard_bounds,
    shard_gold_scores,
    shard_part,
    sharded_gold_ranks,
)


def _tied(n_pool: int, n_queries: int, dim: int, seed: int, *, distinct: int = 7) -> tuple[np.ndarray, ...]:
    """Pool drawn from few distinct unit vectors (many exact duplicates), queries likewise, random golds."""
    rng = np.random.default_rng(seed)
    base = rng.integers(-2, 3, size=(distinct, dim)).astype(np.float32)
    base[np.linalg.norm(base, axis=1) == 0, 0] = 1
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    pool = base[rng.integers(0, distinct, n_pool)]
    queries = base[rng.integers(0, distinct, n_queries)] + rng.integers(0, 2, (n_queries, dim)) * 0.25
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    gold = rng.integers(0, n_pool, n_queries)
    return queries, pool, gold


@pytest.mark.parametrize("n_shards", [1, 2, 3, 7, 50])
@pytest.mark.parametrize("tile,chunk", [(16, 8), (5, 3), (64, 1024), (1, 1)])
def test_sharded_ranks_and_topk_equal_the_local_kernels_with_many_ties(n_shards, tile, chunk):
    q, p, gold = _tied(203, 41, 6, seed=tile * 100 + n_shards)
    want = gold_ranks(q, p, gold, chunk_size=chunk, tile=tile)
    ranks, idx, val = sharded_gold_ranks(q, p, gold, n_shards=n_shards, k=10, chunk_size=chunk, tile=tile)
    np.testing.assert_array_equal(ranks, want)
    # there were ties: the pessimistic rule counts duplicates of the gold above it
    assert (want > 1).mean() > 0.5
    want_idx, want_val = top_k(q, p, 10, chunk_size=chunk, tile=tile)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(val, want_val)


def test_degenerate_pool_gives_the_last_rank_everywhere():
    p = np.tile(np.eye(1, 8, dtype=np.float32), (50, 1))
    q = np.tile(np.eye(1, 8, dtype=np.float32), (9, 1))
    ranks, _, _ = sharded_gold_ranks(q, p, np.arange(9), n_shards=4, tile=8)
    np.testing.assert_array_equal(ranks, np.full(9, 50))


def test_real_valued_vectors_match_local_with_default_tiles():
    rng = np.random.default_rng(3)
    p = rng.standard_normal((2500, 48)).astype(np.float32)
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    q = (p[:300] + 0.3 * rng.standard_normal((300, 48))).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    gold = np.arange(300)
    p[1000] = p[0]  # a duplicate of a gold in another shard
    for tile in (256, 1000, 4096):
        want = gold_ranks(q, p, gold, tile=tile, chunk_size=128)
        got, idx, _ = sharded_gold_ranks(q, p, gold, n_shards=3, k=5, tile=tile, chunk_size=128)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(idx, top_k(q, p, 5, chunk_size=128, tile=tile)[0])


def test_tiled_cosines_equal_one_product_up_to_rounding_and_tile_validation():
    rng = np.random.default_rng(0)
    q, p = rng.standard_normal((5, 16)).astype(np.float32), rng.standard_normal((37, 16)).astype(np.float32)
    np.testing.assert_allclose(tiled_cosines(q, p, 8), q @ p.T, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="tile"):
        tiled_cosines(q, p, 0)


def test_shard_bounds_are_whole_tiles_covering_the_pool():
    assert shard_bounds(10, 3, tile=4) == [(0, 4), (4, 8), (8, 10)]
    assert shard_bounds(10, 2, tile=4) == [(0, 8), (8, 10)]
    assert shard_bounds(10, 9, tile=4) == [(0, 4), (4, 8), (8, 10)]  # never more shards than tiles
    assert shard_bounds(5, 1) == [(0, 5)]
    with pytest.raises(ValueError, match="empty"):
        shard_bounds(0, 2)
    with pytest.raises(ValueError, match="shards"):
        shard_bounds(3, 0)


def test_a_shard_off_the_tile_grid_is_refused():
    q, p, gold = _tied(20, 4, 4, seed=1)
    with pytest.raises(ValueError, match="multiple of the tile"):
        shard_gold_scores(q, p[3:], 3, gold, tile=4)


def test_merge_refuses_gaps_and_a_gold_scored_differently():
    q, p, gold = _tied(30, 5, 4, seed=2)
    bounds = shard_bounds(30, 2, tile=16)
    g = merge_gold_scores(shard_gold_scores(q, p[a:b], a, gold, tile=16) for a, b in bounds)
    parts = [shard_part(q, p[a:b], a, g, 3, tile=16) for a, b in bounds]
    with pytest.raises(ShardMismatch, match="cover"):
        merge_parts(parts[:1], 30)
    # a gold score one ulp off (as another BLAS rounding would give): never a silent wrong rank
    g2 = g.copy()
    g2[0] = np.nextafter(g2[0], np.float32(2))
    bad = [shard_part(q, p[a:b], a, g2, 3, tile=16) for a, b in bounds]
    with pytest.raises(ShardMismatch, match="query 0"):
        merge_parts(bad, 30)
    with pytest.raises(ShardMismatch, match="exactly once"):
        merge_gold_scores([g, g])


def test_shard_part_is_a_frozen_record():
    part = ShardPart(0, 1, np.zeros(1), np.ones(1), np.zeros((1, 0)), np.zeros((1, 0)))
    with pytest.raises(AttributeError):
        part.start = 3  # type: ignore[misc]
