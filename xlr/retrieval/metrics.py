"""Metrics over per-query gold ranks; averaging is a separate step.

Per-query values (what significance tests and the failed-query page read):

    hit@k(q)  = [r_q <= k]
    rr(q)     = 1 / r_q
    ap@n(q)   = (1 / min(R_q, n)) * sum_{i : rank_i <= n} i / rank_i   (ranks of the R_q relevant
                documents sorted ascending, i = 1..R_q); with one relevant document ap@n = rr if r <= n else 0

Averages: recall@k = mean_q hit@k(q) (with one gold per query this equals
accuracy@k, hit-rate@k and the seed notebook's R@k), MRR = mean_q rr(q),
mAP@n = mean_q ap@n(q).  An empty rank array has no mean: ``ValueError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "average_precision",
    "metric_names",
    "per_query",
    "recall_at_k",
    "reciprocal_rank",
    "summarize",
]

_RECALL = re.compile(r"^recall@([1-9][0-9]*)$")
_MAP = re.compile(r"^map@([1-9][0-9]*)$")


def _check_ranks(ranks: np.ndarray) -> np.ndarray:
    ranks = np.asarray(ranks)
    if ranks.ndim != 1:
        raise ValueError(f"ranks must be 1-D, got shape {ranks.shape}")
    if ranks.size == 0:
        raise ValueError("ranks is empty: no queries to average over")
    if not np.issubdtype(ranks.dtype, np.integer):
        raise ValueError(f"ranks must be integers, got {ranks.dtype}")
    if ranks.min() < 1:
        raise ValueError(f"ranks are 1-based; found {int(ranks.min())}")
    return ranks


def recall_at_k(ranks: np.ndarray, k: int) -> float:
    """Fraction of queries whose gold rank is at most ``k`` (``k >= 1``)."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return float(np.mean(_check_ranks(ranks) <= k))


def reciprocal_rank(ranks: np.ndarray) -> float:
    """Mean reciprocal rank: mean of 1 / r."""
    return float(np.mean(1.0 / _check_ranks(ranks)))


def average_precision(relevant_ranks: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Per-query AP@n from the 1-based ranks of each query's relevant documents.

    ``relevant_ranks[q]`` holds the ranks of all documents relevant to query q
    (any order, at least one).  Returns ``(n_queries,)`` float64.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    out = np.empty(len(relevant_ranks), dtype=np.float64)
    for q, rr in enumerate(relevant_ranks):
        r = np.sort(np.asarray(rr))
        if r.size == 0:
            raise ValueError(f"query {q} has no relevant document")
        i = np.arange(1, r.size + 1)
        keep = r <= n
        out[q] = float(np.sum(i[keep] / r[keep])) / min(r.size, n)
    return out


def per_query(ranks: np.ndarray, metric: str) -> np.ndarray:
    """Per-query values of ``metric`` (``recall@k`` -> 0/1, ``mrr`` -> 1/r), float64 (n,)."""
    ranks = _check_ranks(ranks)
    if metric == "mrr":
        return 1.0 / ranks
    m = _RECALL.match(metric)
    if m:
        return (ranks <= int(m.group(1))).astype(np.float64)
    raise ValueError(f"unknown metric {metric!r}; use recall@<k> or mrr")


def metric_names(ks: Iterable[int]) -> list[str]:
    """``recall@k`` for each k (sorted, unique), then ``mrr``."""
    ks = sorted(set(int(k) for k in ks))
    if not ks or ks[0] < 1:
        raise ValueError(f"k values must be positive integers, got {ks}")
    return [f"recall@{k}" for k in ks] + ["mrr"]


def summarize(ranks: np.ndarray, ks: Iterable[int]) -> dict[str, float]:
    """``{"recall@k": ..., "mrr": ...}`` for the given k values."""
    return {name: float(per_query(ranks, name).mean()) for name in metric_names(ks)}
