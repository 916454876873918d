"""Scoring rules over L2-normalised embeddings: cosine, CSLS and margin.

With x a query, y a pool document, N_k^T(x) the k pool documents nearest x and
N_k^S(y) the k reference queries nearest y:

    r_T(x) = mean_{y' in N_k^T(x)} cos(x, y')      (query's neighbourhood in the pool)
    r_S(y) = mean_{x' in N_k^S(y)} cos(x', y)      (document's neighbourhood among queries)

    cosine            cos(x, y)
    csls              2 cos(x, y) - r_T(x) - r_S(y)                 (Conneau et al. 2018)
    margin-ratio      cos(x, y) / max(|m(x, y)|, 1e-6),  m = (r_T(x) + r_S(y)) / 2   (Artetxe & Schwenk 2019)
    margin-distance   cos(x, y) - (r_T(x) + r_S(y)) / 2

Margin-ratio divides by the *magnitude* of the mean neighbourhood: in an anti-correlated
space ``m`` can be negative, and dividing by it would flip the sign, so that a document at
cosine -0.5 outranked one at cosine 0.5.  With ``|m|`` the score has the sign of the cosine
(a negative cosine never outranks a positive one), equals Artetxe & Schwenk's ratio whenever
``m > 0`` (every real encoder's case), and ``m = 0`` is floored at ``MARGIN_FLOOR`` (finite).

Neighbourhoods are taken in the pool being searched (r_T) and among the
reference queries (r_S): in an evaluation the reference queries are the
direction's query documents; for an ad-hoc query they are the evaluated
documents of the query's language (the caller states which).  k is clipped
to the size of the set it is taken in.  For a fixed query r_T is constant,
so CSLS and distance margin rank a pool alike, and with k equal to the pool
size CSLS ranks like cosine only up to the r_S(y) term (which then is the
mean over all queries, still per document).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MARGIN_FLOOR", "SCORING_METHODS", "Scorer", "ScoringSpec", "mean_topk_similarity"]

SCORING_METHODS = ("cosine", "csls", "margin-ratio", "margin-distance")
MARGIN_FLOOR = 1e-6
"""Smallest |mean neighbourhood| margin-ratio divides by (keeps every score finite)."""


@dataclass(frozen=True)
class ScoringSpec:
    """A scoring rule and its neighbourhood size ``k`` (ignored by cosine)."""

    method: str = "cosine"
    k: int = 10

    def __post_init__(self) -> None:
        if self.method not in SCORING_METHODS:
            raise ValueError(f"unknown scoring {self.method!r}; choose one of {', '.join(SCORING_METHODS)}")
        if not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise ValueError(f"scoring k must be a positive integer, got {self.k!r}")

    @property
    def label(self) -> str:
        return "cosine" if self.method == "cosine" else f"{self.method}(k={self.k})"


def _row_topk_mean(sims: np.ndarray, k: int) -> np.ndarray:
    """Mean of the k largest values of each row of ``sims`` (k clipped to the width)."""
    k = min(k, sims.shape[1])
    if k == sims.shape[1]:
        return np.asarray(sims.mean(axis=1))
    part = np.partition(sims, sims.shape[1] - k, axis=1)[:, sims.shape[1] - k :]
    return np.asarray(part.mean(axis=1))


def mean_topk_similarity(a: np.ndarray, b: np.ndarray, k: int, *, chunk_size: int = 2048) -> np.ndarray:
    """For each row of ``a`` (n, d), the mean cosine of its k nearest rows of ``b`` (m, d).

    Computed in chunks of ``a`` (memory ``chunk_size x m``).  Returns (n,) float32.
    """
    out = np.empty(a.shape[0], dtype=np.float32)
    for start in range(0, a.shape[0], chunk_size):
        out[start : start + chunk_size] = _row_topk_mean(a[start : start + chunk_size] @ b.T, k)
    return out


class Scorer:
    """A scoring rule fitted to one pool and its reference queries.

    ``Scorer(spec, pool, reference_queries)`` precomputes r_S for every pool
    document; :meth:`transform` turns a chunk of cosines (queries x pool) into
    scores, computing r_T of those queries from the chunk itself (the chunk
    spans the whole pool).
    """

    def __init__(
        self,
        spec: ScoringSpec,
        pool: np.ndarray,
        reference_queries: np.ndarray | None = None,
    ) -> None:
        self.spec = spec
        self.r_s: np.ndarray | None = None
        if spec.method != "cosine":
            if reference_queries is None or len(reference_queries) == 0:
                raise ValueError(f"{spec.method} scoring needs reference queries to compute r_S")
            self.r_s = mean_topk_similarity(pool, reference_queries, spec.k)

    def transform(self, cos: np.ndarray) -> np.ndarray:
        """Scores for a (n_queries, n_pool) cosine block; returns a new array (or ``cos`` itself for cosine)."""
        method = self.spec.method
        if method == "cosine":
            return cos
        assert self.r_s is not None  # fitted in __init__ for every method but cosine
        r_t = _row_topk_mean(cos, self.spec.k)[:, None]
        r_s = self.r_s[None, :]
        if method == "csls":
            return np.asarray(2 * cos - r_t - r_s)
        denom = (r_t + r_s) / 2
        if method == "margin-distance":
            return np.asarray(cos - denom)
        # margin-ratio: divide by |m| (floored), so the score keeps the cosine's sign
        return np.asarray(cos / np.maximum(np.abs(denom), MARGIN_FLOOR)).astype(cos.dtype, copy=False)
