"""Gold ranks of a fusion of several encoders, computed in query chunks.

For M encoders over the *same* queries and pool (dimensions may differ), each
chunk of queries gets one score block per encoder, ``S_m = scoring_m(Q_m[chunk]
@ P_m.T)`` of shape ``(chunk, n_pool)`` (cosine, CSLS or margin, see
:mod:`xlr.retrieval.scoring`), the cosines computed in the ranking kernel's pool tiles
(:func:`xlr.retrieval.ranks.tiled_cosines`, so every score is bit-identical to the
kernel's, past 16,384 documents too), the blocks are fused and the gold is ranked in
the fused block:

    rrf      F[q, d] = sum_m 1 / (k + rank_m[q, d])       (:func:`xlr.strategies.transforms.reciprocal_rank_fusion`)
    zscore   Z[q, d] = sum_m w_m (S_m[q, d] - mean_d S_m[q]) / std_d S_m[q]   (:func:`xlr.strategies.transforms.zscore_fusion`)
    rrf-z    F, with exact ties of F broken by Z (lexicographic order on (F, Z))

Both fusions act row by row (one query at a time), so chunking never changes
a score.  The gold rank uses the rule of :func:`xlr.retrieval.ranks.gold_ranks`
(pessimistic ties): ``r = #{d : F[q, d] >= F[q, gold]}``.  Note that RRF over
two encoders produces exact ties whenever two documents swap ranks between
the encoders (1/(k+a) + 1/(k+b) is the same float in either order); the
pessimistic rule counts such a tie against the gold.  ``rrf-z`` breaks those
ties by the z-score sum; ties left on both keys stay pessimistic.

Memory: ``M + 1`` blocks of ``chunk x n_pool`` float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xlr.retrieval.ranks import TILE, tiled_cosines, validate_embeddings
from xlr.retrieval.scoring import Scorer, ScoringSpec
from xlr.strategies.transforms import reciprocal_rank_fusion, zscore_fusion

__all__ = ["FUSION_METHODS", "FusionSpec", "fused_gold_ranks"]

FUSION_METHODS = ("rrf", "rrf-z", "zscore")
DEFAULT_CHUNK = 512


@dataclass(frozen=True)
class FusionSpec:
    """How to fuse the score blocks of several encoders.

    ``method``: ``"rrf"`` (reciprocal rank fusion with constant ``k``, default 60),
    ``"rrf-z"`` (RRF, exact ties broken by the z-score sum) or ``"zscore"`` (sum of
    per-query z-scored scores, ``weights`` one per encoder, default equal).
    """

    method: str = "rrf"
    k: float = 60
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.method not in FUSION_METHODS:
            raise ValueError(f"unknown fusion {self.method!r}; choose one of {', '.join(FUSION_METHODS)}")
        k = self.k
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not (np.isfinite(k) and k >= 0):
            raise ValueError(f"fusion k must be a finite number >= 0, got {self.k!r}")
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))

    @property
    def label(self) -> str:
        if self.method != "zscore":
            return f"{self.method}(k={self.k:g})"
        return "zscore" if self.weights is None else f"zscore(w={','.join(f'{w:g}' for w in self.weights)})"

    def fuse(self, blocks: Sequence[np.ndarray]) -> np.ndarray:
        """Fuse M score blocks of equal shape ``(n, m)`` into one ``(n, m)`` float64 block (rrf-z: the RRF part)."""
        if self.method == "zscore":
            return zscore_fusion(blocks, weights=self.weights)
        return reciprocal_rank_fusion(blocks, k=self.k)


def _finite(block: np.ndarray) -> np.ndarray:
    """Replace any ``-inf`` a score block holds by (row minimum - 1): order kept, fusion-safe."""
    if np.isfinite(block).all():
        return block
    finite = np.where(np.isfinite(block), block, np.inf)
    floor = finite.min(axis=1, keepdims=True)
    floor = np.where(np.isfinite(floor), floor, 0.0) - 1.0
    return np.where(np.isfinite(block), block, floor)


def fused_gold_ranks(
    queries: Sequence[np.ndarray],
    pools: Sequence[np.ndarray],
    gold: np.ndarray,
    *,
    fusion: FusionSpec,
    scoring: ScoringSpec | None = None,
    reference_queries: Sequence[np.ndarray] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    tile: int = TILE,
) -> np.ndarray:
    """1-based rank of each query's gold in the fused ranking (pessimistic ties).

    Shapes: ``queries[m]`` ``(n, d_m)`` and ``pools[m]`` ``(p, d_m)`` for encoder m
    (same n and p for every encoder, rows aligned), ``gold`` ``(n,)`` indices into
    the pool.  ``scoring`` (default cosine) is applied to every encoder before
    fusion; CSLS/margin take r_S from ``reference_queries[m]`` (default
    ``queries[m]``).  Returns ``(n,)`` int64 in ``[1, p]``.  With one encoder,
    z-score fusion ranks exactly like the scoring alone (a positive affine map
    per query), and RRF gives exactly :func:`~xlr.retrieval.ranks.gold_ranks` (same tiles
    of ``tile`` pool documents, same pessimistic count).
    """
    if isinstance(queries, np.ndarray) or isinstance(pools, np.ndarray):
        raise ValueError("queries and pools must be sequences of arrays, one per encoder")
    if len(queries) == 0 or len(queries) != len(pools):
        raise ValueError(f"need one query matrix and one pool per encoder, got {len(queries)} and {len(pools)}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    spec = scoring if scoring is not None else ScoringSpec()
    if reference_queries is not None and len(reference_queries) != len(queries):
        raise ValueError(
            f"reference_queries must hold one matrix per encoder ({len(queries)}), got {len(reference_queries)}"
        )
    qs: list[np.ndarray] = []
    scorers: list[tuple[Scorer, np.ndarray]] = []
    n = int(np.asarray(queries[0]).shape[0]) if np.ndim(queries[0]) == 2 else -1
    p = int(np.asarray(pools[0]).shape[0]) if np.ndim(pools[0]) == 2 else -1
    for m, (q, pool) in enumerate(zip(queries, pools)):
        pool = validate_embeddings(f"pools[{m}]", pool)
        q = validate_embeddings(f"queries[{m}]", q, pool.shape[1])
        if m == 0:
            n, p = q.shape[0], pool.shape[0]
        elif (q.shape[0], pool.shape[0]) != (n, p):
            raise ValueError(
                f"encoder {m} has {q.shape[0]} queries and a pool of {pool.shape[0]}, "
                f"encoder 0 has {n} and {p}: fusion needs the same queries and pool"
            )
        if p == 0:
            raise ValueError("the pool is empty")
        ref = None
        if spec.method != "cosine":
            ref = (
                q
                if reference_queries is None
                else validate_embeddings(f"reference_queries[{m}]", reference_queries[m], pool.shape[1])
            )
        qs.append(q)
        scorers.append((Scorer(spec, pool, ref), pool))
    gold = np.asarray(gold)
    if gold.shape != (n,):
        raise ValueError(f"gold must have shape ({n},), got {gold.shape}")
    if gold.size and (not np.issubdtype(gold.dtype, np.integer) or gold.min() < 0 or gold.max() >= p):
        raise ValueError(f"gold must hold integer indices in [0, {p})")
    ranks = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        blocks = [
            _finite(scorer.transform(tiled_cosines(q[start:stop], pool, tile)))
            for q, (scorer, pool) in zip(qs, scorers)
        ]
        fused = fusion.fuse(blocks)
        rows = np.arange(stop - start)
        g = fused[rows, gold[start:stop]][:, None]
        if fusion.method == "rrf-z":
            z = zscore_fusion(blocks, weights=fusion.weights)
            above = (fused > g) | ((fused == g) & (z >= z[rows, gold[start:stop]][:, None]))
            ranks[start:stop] = np.count_nonzero(above, axis=1)
        else:
            ranks[start:stop] = np.count_nonzero(fused >= g, axis=1)
    return ranks
