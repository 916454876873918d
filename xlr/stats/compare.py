"""Paired comparison of two sets of per-query gold ranks (a baseline and a candidate).

Inputs are per-direction rank records: in memory the ``DirectionResult`` (or
``QueryResult``) lists that :func:`xlr.retrieval.evaluate.evaluate` and friends return,
on disk the ``per_query`` section of a results JSON (:mod:`xlr.report`).
Records are matched by direction label, then by query id: both sides must
hold the same directions and, per direction, the same query ids (order may
differ; the candidate is re-ordered to the baseline).  Anything else is a
``ValueError`` that names the direction and the first differing ids.

Per metric (default ``recall@1`` and ``mrr``), :func:`xlr.stats.compare.compare_directions`
gives per direction ``delta = candidate - baseline``, a paired bootstrap 95 %
interval, McNemar's exact test (recall@k) or a sign-flip permutation test
(MRR), Holm-adjusted across the directions; :func:`xlr.stats.compare.verdict` says
whether the candidate improves at least one direction significantly and
degrades none significantly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from xlr.stats.paired import Verdict, compare_directions, verdict

__all__ = [
    "DEFAULT_METRICS",
    "Comparison",
    "RankRecord",
    "compare_results",
    "pair_ranks",
]

DEFAULT_METRICS = ("recall@1", "mrr")


@dataclass(frozen=True, eq=False)
class RankRecord:
    """The gold rank of every query of one direction (``ranks[i]`` belongs to ``query_ids[i]``)."""

    direction: str
    query_ids: tuple[str, ...]
    ranks: np.ndarray


def _records(results: Sequence[Any] | Mapping[str, RankRecord], side: str) -> dict[str, RankRecord]:
    if isinstance(results, Mapping):
        return dict(results)
    out: dict[str, RankRecord] = {}
    for r in results:
        label = r.direction.label
        if label in out:
            raise ValueError(f"{side}: direction {label} occurs twice (one model per side)")
        out[label] = RankRecord(label, tuple(r.query_ids), np.asarray(r.ranks))
    return out


def _shown(ids: Sequence[str], n: int = 3) -> str:
    return ", ".join(repr(i) for i in list(ids)[:n]) + (", ..." if len(ids) > n else "")


def pair_ranks(
    baseline: Mapping[str, RankRecord],
    candidate: Mapping[str, RankRecord],
    *,
    names: tuple[str, str] = ("baseline", "candidate"),
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{direction: (baseline ranks, candidate ranks)}`` over the same queries in baseline order.

    ``ValueError`` when the direction sets differ, a record has repeated query ids or a
    rank count that does not match its ids, or a direction's query-id sets differ.
    """
    only_a = [d for d in baseline if d not in candidate]
    only_b = [d for d in candidate if d not in baseline]
    if only_a or only_b:
        parts = [f"only in {n}: {', '.join(x)}" for n, x in zip(names, (only_a, only_b)) if x]
        raise ValueError(f"the directions do not match ({'; '.join(parts)})")
    if not baseline:
        raise ValueError("no direction to compare")
    out = {}
    for d, rec_a in baseline.items():
        rec_b = candidate[d]
        for name, rec in zip(names, (rec_a, rec_b)):
            if len(rec.query_ids) != np.asarray(rec.ranks).size:
                raise ValueError(
                    f"{name}, direction {d}: {len(rec.query_ids)} query ids but {np.asarray(rec.ranks).size} ranks"
                )
            if len(set(rec.query_ids)) != len(rec.query_ids):
                raise ValueError(f"{name}, direction {d}: repeated query ids")
        if rec_a.query_ids == rec_b.query_ids:
            out[d] = (np.asarray(rec_a.ranks), np.asarray(rec_b.ranks))
            continue
        set_a, set_b = set(rec_a.query_ids), set(rec_b.query_ids)
        if set_a != set_b:
            miss_a = [q for q in rec_b.query_ids if q not in set_a]
            miss_b = [q for q in rec_a.query_ids if q not in set_b]
            detail = "; ".join(f"{len(m)} only in {n} ({_shown(m)})" for n, m in zip(names, (miss_b, miss_a)) if m)
            raise ValueError(
                f"direction {d}: the queries differ ({len(set_a)} in {names[0]}, {len(set_b)} in {names[1]}; {detail})"
            )
        where = {q: i for i, q in enumerate(rec_b.query_ids)}
        order = np.fromiter((where[q] for q in rec_a.query_ids), dtype=np.int64, count=len(where))
        out[d] = (np.asarray(rec_a.ranks), np.asarray(rec_b.ranks)[order])
    return out


@dataclass(frozen=True, eq=False)
class Comparison:
    """Baseline vs candidate: one :func:`~xlr.stats.compare.compare_directions` table and verdict per metric.

    ``ok`` is the verdict of the first metric (recall@1 by default).
    """

    baseline: str
    candidate: str
    metrics: tuple[str, ...]
    tables: tuple[pd.DataFrame, ...]
    verdicts: tuple[Verdict, ...]

    def table(self, metric: str) -> pd.DataFrame:
        return self.tables[self._index(metric)]

    def verdict(self, metric: str) -> Verdict:
        return self.verdicts[self._index(metric)]

    def _index(self, metric: str) -> int:
        if metric not in self.metrics:
            raise ValueError(f"metric {metric!r} was not compared (compared: {', '.join(self.metrics)})")
        return self.metrics.index(metric)

    @property
    def ok(self) -> bool:
        return self.verdicts[0].ok


def compare_results(
    baseline: Sequence[Any] | Mapping[str, RankRecord],
    candidate: Sequence[Any] | Mapping[str, RankRecord],
    *,
    baseline_label: str = "baseline",
    candidate_label: str = "candidate",
    metrics: Sequence[str] = DEFAULT_METRICS,
    alpha: float = 0.05,
    random_state: int | np.random.Generator | None = 0,
    n_resamples: int = 10_000,
) -> Comparison:
    """Compare two result lists (or rank-record mappings) direction by direction, for each metric.

    Each metric gets the same ``random_state`` (an int makes every table reproducible).
    """
    metrics = tuple(metrics)
    if not metrics:
        raise ValueError("no metric to compare")
    paired = pair_ranks(
        _records(baseline, baseline_label),
        _records(candidate, candidate_label),
        names=(baseline_label, candidate_label),
    )
    seeds = (
        random_state.spawn(len(metrics))
        if isinstance(random_state, np.random.Generator)
        else [random_state] * len(metrics)
    )
    tables = tuple(
        compare_directions(paired, metric=m, alpha=alpha, random_state=s, n_resamples=n_resamples)
        for m, s in zip(metrics, seeds)
    )
    return Comparison(
        baseline_label,
        candidate_label,
        metrics,
        tables,
        tuple(verdict(t) for t in tables),
    )
