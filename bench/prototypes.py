"""Prototypes of core changes, measured against the core in the same run.

:func:`symmetric_block_ranks`: when queries and documents share vectors (every
registered encoder but ``e5-small-asym``), the score block of ``a->b`` is the
transpose of the block of ``b->a``.  One product per language pair then gives
the ranks of both directions (rows, then columns), and for CSLS and margin the
same block gives r_T of one direction and r_S of the other (row and column
top-k means), so a pair costs one product instead of four.

Rows of every language must be aligned by id (row i of each language = the
same id), as in the benchmarks' corpora.
"""

from __future__ import annotations

import numpy as np

from xlr.retrieval.scoring import ScoringSpec, _row_topk_mean

__all__ = ["pair_scores", "symmetric_block_ranks"]


def pair_scores(s: np.ndarray, spec: ScoringSpec) -> np.ndarray:
    """Scores of the ``a->b`` block from its cosines; ``b->a`` scores are their transpose.

    CSLS is written ``2 cos - (r_T + r_S)`` (symmetric in the two terms), so
    the transpose is bit-identical to scoring ``b->a`` directly.
    """
    if spec.method == "cosine":
        return s
    rows = _row_topk_mean(s, spec.k)[:, None]  # r_T of a-queries = r_S of a-documents
    cols = _row_topk_mean(np.ascontiguousarray(s.T), spec.k)[None, :]  # r_S of b-docs = r_T of b-queries
    if spec.method == "csls":
        return 2 * s - (rows + cols)
    denom = (rows + cols) / 2
    if spec.method == "margin-distance":
        return s - denom
    with np.errstate(divide="ignore", invalid="ignore"):
        out = s / denom
    return np.where(np.isfinite(out), out, -np.inf).astype(s.dtype, copy=False)


def symmetric_block_ranks(by_lang: dict[str, np.ndarray], spec: ScoringSpec | None = None) -> dict[str, np.ndarray]:
    """Gold ranks (pessimistic ties) of every direction, one product per language pair."""
    spec = spec or ScoringSpec()
    langs = sorted(by_lang)
    out = {}
    for i, a in enumerate(langs):
        for b in langs[i + 1 :]:
            scores = pair_scores(by_lang[a] @ by_lang[b].T, spec)
            gold = np.diagonal(scores)
            out[f"{a}->{b}"] = np.count_nonzero(scores >= gold[:, None], axis=1).astype(np.int64)
            out[f"{b}->{a}"] = np.count_nonzero(scores >= gold[None, :], axis=0).astype(np.int64)
    return out
