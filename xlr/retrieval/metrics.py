"""Metrics over per-query gold ranks; averaging is a separate step.

Per-query values (what significance tests and the failed-query page read), with r_q the
rank of the first relevant document and p_1 < ... < p_R the *positions* of the query's
R relevant documents (see :func:`relevant_positions`):

    success@k(q) = [r_q <= k]                      (some relevant document in the top k)
    recall@k(q)  = #{i : p_i <= k} / R             (share of the relevant documents in the top k)
    rr(q)        = 1 / r_q
    ap@n(q)      = (1 / min(R, n)) * sum_{i : p_i <= n} i / p_i

With one relevant document (every direction of a linked corpus) recall@k = success@k,
which is also accuracy@k, the seed notebook's R@k and what ranx calls ``hit_rate@k``;
ap@n = rr if r <= n else 0.  With several (a query set against the ``all`` pool) they
differ: success@k is the hit rate, recall@k the share found (ranx's ``recall@k``).

Ties: a relevant document's kernel rank is pessimistic (every document scored higher or
*tied* counts above it).  Relevant documents never count against each other: tied ones
take consecutive positions, ``p_i = r_i - #{j : r_j <= r_i} + i`` (ranks sorted), so two
relevant documents tied at the top have positions 1 and 2 (AP 1), while a tie with an
irrelevant document still counts against them.

Averages: metric = mean over queries of the per-query value.  An empty rank array has no
mean: ``ValueError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Metric",
    "average_precision",
    "check_ranks",
    "parse_metric",
    "metric_names",
    "per_query",
    "recall_at_k",
    "reciprocal_rank",
    "relevant_positions",
    "summarize",
]

_METRIC = re.compile(r"^(recall|success|map)@([0-9]+)$")


@dataclass(frozen=True)
class Metric:
    """A parsed metric name: ``kind`` is ``"recall"``, ``"success"``, ``"mrr"`` or ``"map"``; ``n`` is k
    (or n of mAP@n)."""

    kind: str
    n: int | None = None

    @property
    def name(self) -> str:
        return "mrr" if self.kind == "mrr" else f"{self.kind}@{self.n}"


def parse_metric(metric: str, *, allowed: Iterable[str] = ("recall", "success", "mrr", "map")) -> Metric:
    """``"recall@5"`` -> Metric("recall", 5), ``"success@5"`` -> Metric("success", 5), ``"mrr"`` -> Metric("mrr"), ``"map@20"`` -> Metric("map", 20).

    Case and surrounding blanks are ignored; k and n are integers >= 1. ``allowed`` limits the kinds
    (paired tests take recall and MRR only). Anything else: ``ValueError`` naming the accepted forms.
    """
    allowed = tuple(allowed)
    forms = " or ".join("mrr" if a == "mrr" else f"{a}@<k>" for a in allowed)
    if not isinstance(metric, str):
        raise ValueError(f"metric must be a string such as {forms}, got {metric!r}")
    name = metric.strip().lower()
    m = _METRIC.match(name)
    parsed = Metric("mrr") if name == "mrr" else Metric(m.group(1), int(m.group(2))) if m else None
    if parsed is None or parsed.kind not in allowed or (parsed.n is not None and parsed.n < 1):
        raise ValueError(f"unknown metric {metric!r}: expected {forms} with integer k >= 1")
    return parsed


def check_ranks(ranks: np.ndarray, name: str = "ranks") -> np.ndarray:
    """Validated gold ranks: 1-D, non-empty, whole numbers >= 1 (floats holding whole numbers are
    accepted, e.g. ranks read back from JSON), returned as int64 ``(n,)``.

    The one validator of ranks: metrics, paired tests and comparisons call it.
    """
    r = np.asarray(ranks)
    if r.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one gold rank per query), got shape {r.shape}")
    if r.size == 0:
        raise ValueError(f"{name} is empty: no queries to average over")
    if r.dtype.kind == "f":
        if not np.all(np.isfinite(r)):
            raise ValueError(f"{name} contains NaN or infinite ranks")
        bad = np.flatnonzero(r != np.floor(r))
        if bad.size:
            raise ValueError(
                f"{name} must hold integer ranks; query {bad[0]} has rank {r[bad[0]]!r} ({bad.size} non-integer)"
            )
    elif r.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer ranks, got dtype {r.dtype}")
    r = r.astype(np.int64)
    bad = np.flatnonzero(r < 1)
    if bad.size:
        raise ValueError(
            f"{name} ranks must be >= 1; query {bad[0]} has rank {r[bad[0]]} ({bad.size} below 1; ranks are 1-based)"
        )
    return r


def recall_at_k(ranks: np.ndarray, k: int) -> float:
    """Fraction of queries whose gold rank is at most ``k`` (``k >= 1``)."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return float(np.mean(check_ranks(ranks) <= k))


def reciprocal_rank(ranks: np.ndarray) -> float:
    """Mean reciprocal rank: mean of 1 / r."""
    return float(np.mean(1.0 / check_ranks(ranks)))


def relevant_positions(ranks: np.ndarray) -> np.ndarray:
    """Positions of a query's relevant documents in the pessimistic order, ascending, int64 ``(R,)``.

    ``ranks`` are the kernel's pessimistic ranks (any order, at least one): each counts every
    document tied with it, the other relevant ones included.  Relevant documents should not
    penalise each other, so tied ones take consecutive positions behind the irrelevant
    documents they tie with: ``p_i = r_i - #{j : r_j <= r_i} + i`` for ranks sorted ascending
    (``[2, 2] -> [1, 2]``, ``[3, 3] -> [2, 3]``; distinct ranks are kept).
    """
    r = np.sort(np.asarray(ranks, dtype=np.int64))
    if r.size == 0:
        raise ValueError("a query needs at least one relevant document")
    return r - np.searchsorted(r, r, side="right") + np.arange(1, r.size + 1)


def average_precision(relevant_ranks: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Per-query AP@n from the 1-based ranks of each query's relevant documents.

    ``relevant_ranks[q]`` holds the ranks of all documents relevant to query q (any order, at
    least one; tied relevant documents are given positions by :func:`relevant_positions`).
    Returns ``(n_queries,)`` float64.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    out = np.empty(len(relevant_ranks), dtype=np.float64)
    for q, rr in enumerate(relevant_ranks):
        if np.size(rr) == 0:
            raise ValueError(f"query {q} has no relevant document")
        p = relevant_positions(rr)
        i = np.arange(1, p.size + 1)
        keep = p <= n
        out[q] = float(np.sum(i[keep] / p[keep])) / min(p.size, n)
    return out


def per_query(
    ranks: np.ndarray, metric: str | Metric, relevant_ranks: Sequence[np.ndarray] | None = None
) -> np.ndarray:
    """Per-query values of ``metric``, float64 (n,): ``success@k`` -> [r <= k], ``recall@k`` -> share of
    the relevant documents in the top k, ``mrr`` -> 1/r, ``map@n`` -> AP@n.

    ``relevant_ranks[q]`` are the ranks of query q's relevant documents (default: the one gold
    rank of each query, so recall@k = success@k); when given, success@k and mrr read each query's
    first position from them (``relevant_positions(relevant_ranks[q])[0]``), not ``ranks``.
    """
    m = metric if isinstance(metric, Metric) else parse_metric(metric)
    ranks = check_ranks(ranks)
    if relevant_ranks is not None:
        if len(relevant_ranks) != ranks.size:
            raise ValueError(f"relevant_ranks holds {len(relevant_ranks)} queries, ranks {ranks.size}")
        if m.kind in ("mrr", "success"):
            ranks = check_ranks(np.array([relevant_positions(r)[0] for r in relevant_ranks], dtype=np.int64))
    if m.kind == "mrr":
        return 1.0 / ranks
    assert m.n is not None
    if m.kind == "success" or (m.kind == "recall" and relevant_ranks is None):
        return (ranks <= m.n).astype(np.float64)
    rel = relevant_ranks if relevant_ranks is not None else [np.array([r]) for r in ranks]
    if m.kind == "recall":
        return np.array([float(np.mean(relevant_positions(r) <= m.n)) for r in rel], dtype=np.float64)
    return average_precision(rel, m.n)


def metric_names(ks: Iterable[int]) -> list[str]:
    """``recall@k`` for each k (sorted, unique), then ``mrr`` (one relevant document: recall@k = success@k)."""
    ks = sorted(set(int(k) for k in ks))
    if not ks or ks[0] < 1:
        raise ValueError(f"k values must be positive integers, got {ks}")
    return [f"recall@{k}" for k in ks] + ["mrr"]


def summarize(ranks: np.ndarray, ks: Iterable[int]) -> dict[str, float]:
    """``{"recall@k": ..., "mrr": ...}`` for the given k values."""
    return {name: float(per_query(ranks, name).mean()) for name in metric_names(ks)}
