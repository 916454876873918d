"""Both directions of a language pair from one score product (cosine, aligned ids).

When queries and documents share vectors (a symmetric encoder), the cosine block of
``b->a`` is the transpose of the block of ``a->b``: with ``A`` (n, d) the vectors of
language a and ``B`` (n, d) those of b, row i of both being the same id,

    S = A @ B.T                                   (one n x n product, in the kernel's tiles)
    rank(a->b, i) = #{j : S[i, j] >= S[i, i]}     (row i, pessimistic ties)
    rank(b->a, j) = #{i : S[i, j] >= S[j, j]}     (column j, pessimistic ties)

so one product per pair serves both directions (half the products of
:func:`~xlr.retrieval.ranks.gold_ranks` twice).  ``S`` is computed exactly as
:func:`~xlr.retrieval.ranks.gold_ranks` computes ``a->b`` (the same ``chunk_size`` row
chunks, the same pool tiles of :func:`~xlr.retrieval.ranks.tiled_cosines`), so the ``a->b``
ranks are **bit-identical** to the per-direction kernel by construction.

The ``b->a`` ranks are not always: BLAS rounds element ``(i, j)`` of ``A @ B.T`` and
element ``(j, i)`` of ``B @ A.T`` in a different order (OpenBLAS 0.3.31, Haswell, d = 384:
about 5 % of the elements differ, by at most ~1e-7).  A ``b->a`` rank can therefore
differ from the per-direction kernel's only where another document scores within that
rounding of the gold (a near-tie that either kernel breaks by rounding alone);
``tests/retrieval/test_pairwise.py`` checks exactly that on random data with ties.  This
is why :func:`~xlr.retrieval.evaluate.evaluate` uses the pair kernel only when asked
(``pairwise=True``, ``xlr eval --pairwise``): the default stays the per-direction kernel.

Memory: one ``n x n`` float32 block (reused from pair to pair by :class:`PairBuffer`)
plus an ``n x n`` boolean; above ``max_block_bytes`` the pair falls back to two
per-direction calls (same ranks, bounded memory).
"""

from __future__ import annotations

import numpy as np

from xlr.retrieval.ranks import DEFAULT_CHUNK, TILE, gold_ranks, tiled_cosines, validate_embeddings

__all__ = ["MAX_BLOCK_BYTES", "PairBuffer", "pair_gold_ranks"]

MAX_BLOCK_BYTES = 512 * 2**20
"""Largest pair block held at once (512 MiB: n up to ~11,500 aligned ids); beyond, two per-direction calls."""


class PairBuffer:
    """Score and comparison buffers reused across pairs (one allocation for every pair of a corpus)."""

    def __init__(self) -> None:
        self._scores = np.empty(0, dtype=np.float32)
        self._mask = np.empty(0, dtype=np.bool_)

    def take(self, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
        """An ``(n, m)`` float32 block and an ``(n, m)`` boolean block (contents undefined)."""
        if self._scores.size < n * m:
            self._scores = np.empty(n * m, dtype=np.float32)
            self._mask = np.empty(n * m, dtype=np.bool_)
        return self._scores[: n * m].reshape(n, m), self._mask[: n * m].reshape(n, m)


def pair_gold_ranks(
    a: np.ndarray,
    b: np.ndarray,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    tile: int = TILE,
    buffer: PairBuffer | None = None,
    max_block_bytes: int = MAX_BLOCK_BYTES,
) -> tuple[np.ndarray, np.ndarray]:
    """Gold ranks of ``a->b`` and ``b->a`` (cosine, gold = the same row), from one product.

    ``a``, ``b``: ``(n, d)`` float arrays, row i of both = the same id (query and document
    vectors equal: a symmetric encoder).  Returns two ``(n,)`` int64 arrays: the first equal
    to ``gold_ranks(a, b, arange(n))`` with the same ``chunk_size`` and ``tile``, the second
    to ``gold_ranks(b, a, arange(n))`` up to near-ties within BLAS rounding (module docstring);
    both with pessimistic ties on the one block they are read from.
    """
    b = validate_embeddings("b", b)
    a = validate_embeddings("a", a, b.shape[1])
    n = a.shape[0]
    if b.shape[0] != n or n == 0:
        raise ValueError(f"a and b must hold the same ids row for row, got {n} and {b.shape[0]} rows")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    gold = np.arange(n, dtype=np.int64)
    if n * n * 4 > max_block_bytes:
        return (
            gold_ranks(a, b, gold, chunk_size=chunk_size, tile=tile),
            gold_ranks(b, a, gold, chunk_size=chunk_size, tile=tile),
        )
    scores, mask = (buffer or PairBuffer()).take(n, n)
    for start in range(0, n, chunk_size):  # the chunks and tiles of gold_ranks(a, b, ...)
        stop = min(start + chunk_size, n)
        scores[start:stop] = tiled_cosines(a[start:stop], b, tile)
    diag = scores[gold, gold]
    np.greater_equal(scores, diag[:, None], out=mask)
    rows = mask.view(np.uint8).sum(axis=1, dtype=np.int64)
    np.greater_equal(scores, diag[None, :], out=mask)
    cols = mask.view(np.uint8).sum(axis=0, dtype=np.int64)
    return rows, cols
