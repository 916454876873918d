"""One product per language pair (fast tier): a->b ranks IDENTICAL to the per-direction kernel, b->a ranks
identical up to near-ties within BLAS rounding (the transposed product rounds differently)."""

from __future__ import annotations

import numpy as np
import pytest

from xlr.retrieval.pairwise import PairBuffer, pair_gold_ranks
from xlr.retrieval.ranks import gold_ranks, tiled_cosines


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def with_ties(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Unit vectors with duplicated rows (exact ties) and a few coarse rows (ties by value)."""
    x = rng.standard_normal((n, d)).astype(np.float32)
    dup = rng.choice(n, size=n // 5, replace=False)
    x[dup] = x[rng.choice(n, size=dup.size)]
    coarse = rng.choice(n, size=n // 10, replace=False)
    x[coarse] = np.sign(x[coarse])
    return unit(x)


NEAR = 1e-6
"""Scores this close are near-ties that BLAS rounding alone can break (measured discrepancy ~1e-7)."""


def test_the_transposed_product_agrees_within_the_near_tie_band():
    """The b->a promise rests on this: both orientations of a product differ by BLAS rounding only."""
    rng = np.random.default_rng(0)
    a, b = unit(rng.standard_normal((200, 384))), unit(rng.standard_normal((200, 384)))
    diff = np.abs(a @ b.T - (b @ a.T).T)
    assert diff.max() < NEAR


@pytest.mark.parametrize(
    ("n", "d", "chunk", "tile"),
    [(1, 4, 1024, 16384), (37, 8, 7, 16384), (300, 64, 1024, 16384), (333, 384, 128, 100), (1100, 48, 1024, 16384)],
)
def test_identical_to_the_per_direction_kernel(n, d, chunk, tile):
    rng = np.random.default_rng(n)
    a, b = with_ties(rng, n, d), with_ties(rng, n, d)
    gold = np.arange(n)
    ab, ba = pair_gold_ranks(a, b, chunk_size=chunk, tile=tile)
    np.testing.assert_array_equal(ab, gold_ranks(a, b, gold, chunk_size=chunk, tile=tile))
    s = np.vstack([tiled_cosines(a[i : i + chunk], b, tile) for i in range(0, n, chunk)])  # the kernel's block
    np.testing.assert_array_equal(ba, (s >= np.diagonal(s)[None, :]).sum(axis=0))
    per_direction = gold_ranks(b, a, gold, chunk_size=chunk, tile=tile)
    near = (np.abs(s - np.diagonal(s)[None, :]) <= NEAR).sum(axis=0) - 1  # near-ties of each b-query's gold
    off = np.flatnonzero(ba != per_direction)
    assert (np.abs(ba - per_direction)[off] <= near[off]).all()
    assert ab.dtype == ba.dtype == np.int64


def test_ties_are_pessimistic_both_ways():
    same = np.full((6, 4), 0.5, dtype=np.float32)
    ab, ba = pair_gold_ranks(same, same)
    assert ab.tolist() == ba.tolist() == [6] * 6
    rng = np.random.default_rng(3)
    a = rng.integers(-1, 2, size=(50, 3)).astype(np.float32)  # coarse: many exact ties
    b = rng.integers(-1, 2, size=(50, 3)).astype(np.float32)
    a[a.sum(axis=1) == 0, 0] = 1
    ab, ba = pair_gold_ranks(a, b)
    s = a @ b.T
    np.testing.assert_array_equal(ab, (s >= np.diagonal(s)[:, None]).sum(axis=1))
    np.testing.assert_array_equal(ba, (s.T >= np.diagonal(s)[:, None]).sum(axis=1))


def test_buffer_reuse_and_fallback_give_the_same_ranks():
    rng = np.random.default_rng(5)
    buf = PairBuffer()
    pairs = [(with_ties(rng, n, 16), with_ties(rng, n, 16)) for n in (90, 40, 120)]
    for a, b in pairs:
        got = pair_gold_ranks(a, b, buffer=buf)
        small = pair_gold_ranks(a, b, max_block_bytes=1)  # two per-direction calls
        np.testing.assert_array_equal(got[0], small[0])
        np.testing.assert_array_equal(got[1], pair_gold_ranks(a, b)[1])


def test_bad_input():
    a = np.ones((3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="same ids row for row"):
        pair_gold_ranks(a, np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="dimension 4, expected 5"):
        pair_gold_ranks(a, np.ones((3, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="chunk_size"):
        pair_gold_ranks(a, a, chunk_size=0)
