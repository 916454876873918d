"""Fusion scores with the ranking kernel's tiles (bit-identical past one tile of documents)."""

from __future__ import annotations

import numpy as np

from xlr.retrieval.ranks import TILE, gold_ranks
from xlr.strategies.fusion import FusionSpec, fused_gold_ranks


def test_one_encoder_rrf_ranks_exactly_like_the_kernel_past_one_tile():
    """Bug: fusion scored with ``q @ pool.T`` (one product), the kernel with pool tiles of 16,384:
    past one tile the last bits differ, and exact ties with the gold (a duplicate of the gold in
    the second tile) came out differently.  RRF of one encoder counts ``score >= gold score``
    exactly like the kernel, so with the kernel's tiles the ranks are identical."""
    rng = np.random.default_rng(0)
    pool = rng.standard_normal((TILE + 700, 48)).astype(np.float32)
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    queries = (pool[:300] + 0.9 * rng.standard_normal((300, 48))).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    pool[TILE : TILE + 300] = pool[:300]  # each gold has a twin in the second tile
    gold = np.arange(300)
    want = gold_ranks(queries, pool, gold)
    got = fused_gold_ranks([queries], [pool], gold, fusion=FusionSpec("rrf"), chunk_size=300)
    np.testing.assert_array_equal(got, want)


def test_small_tiles_give_the_kernel_ranks_too():
    rng = np.random.default_rng(1)
    pool = rng.standard_normal((90, 8)).astype(np.float32)
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    pool[40:60] = pool[:20]
    queries = pool[:20] + 0.5 * rng.standard_normal((20, 8)).astype(np.float32)
    gold = np.arange(20)
    want = gold_ranks(queries, pool, gold, tile=16, chunk_size=7)
    got = fused_gold_ranks([queries], [pool], gold, fusion=FusionSpec("rrf"), tile=16, chunk_size=7)
    np.testing.assert_array_equal(got, want)
