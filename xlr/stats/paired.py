"""Paired significance tests of a candidate encoder against a baseline.

Both systems are evaluated on the *same* queries of a direction ``s->t``; the
inputs are per-query gold ranks ``r >= 1`` (int arrays of shape ``(n,)``).
Per-query values are ``[r <= k]`` (recall@k) or ``1/r`` (MRR); deltas are always
``candidate - baseline``.  Per direction: paired bootstrap interval, McNemar's
exact test (recall@k) or a sign-flip permutation test (MRR); Holm across
directions.  Stochastic functions take ``random_state`` (int, Generator, None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from xlr.retrieval.metrics import check_ranks, parse_metric, per_query
from xlr.stats.significance import (
    RandomState,
    as_generator,
    check_count,
    holm,
    mcnemar_exact,
    paired_bootstrap,
    paired_values,
    permutation_test,
)

__all__ = [
    "PairedComparison",
    "Verdict",
    "compare_directions",
    "compare_ranks",
    "verdict",
]


@dataclass(frozen=True)
class PairedComparison:
    """Baseline A vs candidate B on the same ``n_queries`` queries.

    ``delta = candidate - baseline``; ``[ci_low, ci_high]`` is the 95 % paired
    bootstrap percentile interval of ``delta``.  ``b`` / ``c`` are McNemar's
    discordant counts (A hit & B miss, A miss & B hit), ``None`` for MRR.
    """

    metric: str
    baseline: float
    candidate: float
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    n_queries: int
    b: int | None
    c: int | None


@dataclass(frozen=True)
class Verdict:
    """Summary of a :func:`compare_directions` table.

    ``ok`` is True iff at least one direction improved significantly and no
    direction degraded significantly.
    """

    improves: tuple[str, ...]
    degrades: tuple[str, ...]
    ok: bool
    sentence: str


# --------------------------------------------------------------------------- comparisons


def compare_ranks(
    ranks_a: np.ndarray,
    ranks_b: np.ndarray,
    *,
    metric: str,
    random_state: RandomState = None,
    n_resamples: int = 10_000,
) -> PairedComparison:
    """Compare baseline gold ranks ``ranks_a`` with candidate ``ranks_b``.

    Both of shape ``(n,)``, same queries in the same order, integer ranks >= 1.
    ``metric``: ``"recall@k"`` or ``"success@k"`` (per-query ``[r <= k]``; McNemar exact test) or
    ``"mrr"`` (per-query ``1/r``; sign-flip permutation test).  The interval
    is :func:`paired_bootstrap` at 95 %.  One generator drives the bootstrap
    and then the permutation test, so an int ``random_state`` is reproducible.
    """
    m = parse_metric(metric, allowed=("recall", "success", "mrr"))
    name, k = m.name, m.n
    if np.size(ranks_a) == 0 and np.size(ranks_b) == 0:
        raise ValueError("ranks_a and ranks_b are empty: at least one query is needed")
    ra = check_ranks(ranks_a, "ranks_a")
    rb = check_ranks(ranks_b, "ranks_b")
    paired_values(ra, rb, ("ranks_a", "ranks_b"))  # same shape
    n_resamples = check_count(n_resamples, "n_resamples")
    rng = as_generator(random_state)
    va, vb = per_query(ra, m), per_query(rb, m)
    lo, hi = paired_bootstrap(va, vb, n_resamples=n_resamples, random_state=rng)
    base, cand = float(va.mean()), float(vb.mean())
    if k is None:
        p = permutation_test(va, vb, n_resamples=n_resamples, random_state=rng)
        test, b, c = "permutation", None, None
    else:
        p, b, c = mcnemar_exact(va, vb)
        test = "mcnemar-exact"
    return PairedComparison(
        metric=name,
        baseline=base,
        candidate=cand,
        delta=cand - base,
        ci_low=lo,
        ci_high=hi,
        p_value=float(p),
        test=test,
        n_queries=int(ra.size),
        b=b,
        c=c,
    )


_COLUMNS = [
    "direction",
    "metric",
    "baseline",
    "candidate",
    "delta",
    "ci_low",
    "ci_high",
    "p_value",
    "p_holm",
    "test",
    "n_queries",
    "b",
    "c",
    "significant",
    "effect",
]


def compare_directions(
    table: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    metric: str,
    alpha: float = 0.05,
    random_state: RandomState = None,
    n_resamples: int = 10_000,
) -> pd.DataFrame:
    """Run :func:`compare_ranks` per direction and Holm-correct across them.

    ``table`` maps a direction name (``"ar->en"``) to ``(ranks_baseline,
    ranks_candidate)``.  Returns one row per direction (input order) with
    columns ``direction, metric, baseline, candidate, delta, ci_low, ci_high,
    p_value, p_holm, test, n_queries, b, c, significant, effect`` where
    ``significant = p_holm < alpha`` and ``effect`` is ``"improved"`` /
    ``"degraded"`` (significant, sign of delta) or ``"no significant change"``.
    ``b``/``c`` are McNemar counts (nullable Int64, <NA> for MRR).
    ``df.attrs["alpha"]`` records alpha.  Each direction gets its own child
    generator spawned from ``random_state`` (reproducible for an int seed).
    """
    if not isinstance(table, Mapping):
        raise ValueError(f"table must map direction -> (ranks_a, ranks_b), got {type(table).__name__}")
    if len(table) == 0:
        raise ValueError("table is empty: at least one direction is needed")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    children = as_generator(random_state).spawn(len(table))
    rows = []
    for (direction, pair), rng in zip(table.items(), children):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"direction {direction!r}: expected a pair (ranks_a, ranks_b)")
        try:
            res = compare_ranks(
                pair[0],
                pair[1],
                metric=metric,
                random_state=rng,
                n_resamples=n_resamples,
            )
        except ValueError as exc:
            raise ValueError(f"direction {direction!r}: {exc}") from exc
        rows.append({"direction": str(direction), **asdict(res)})
    df = pd.DataFrame(rows)
    df["p_holm"] = holm(df["p_value"].to_numpy())
    df["significant"] = df["p_holm"] < alpha
    df["b"] = df["b"].astype("Int64")
    df["c"] = df["c"].astype("Int64")
    df["effect"] = np.where(
        df["significant"] & (df["delta"] > 0),
        "improved",
        np.where(df["significant"] & (df["delta"] < 0), "degraded", "no significant change"),
    )
    df = df[_COLUMNS].reset_index(drop=True)
    df.attrs["alpha"] = float(alpha)
    return df


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def verdict(df: pd.DataFrame) -> Verdict:
    """Summarise a :func:`compare_directions` table in one :class:`Verdict`.

    Needs columns ``direction`` and ``effect`` (``metric`` is used in the
    sentence when present).  ``ok`` = at least one ``"improved"`` and no
    ``"degraded"``.  An empty table gives ``ok=False``.
    """
    missing = [c for c in ("direction", "effect") if c not in df.columns]
    if missing:
        raise ValueError(f"verdict needs a compare_directions table; missing columns {missing}")
    n = len(df)
    if n == 0:
        return Verdict((), (), False, "No directions were compared.")
    dirs = df["direction"].astype(str)
    improves = tuple(dirs[df["effect"] == "improved"])
    degrades = tuple(dirs[df["effect"] == "degraded"])
    ok = bool(improves) and not degrades
    metric = ", ".join(dict.fromkeys(df["metric"].astype(str))) if "metric" in df.columns else "the metric"
    alpha = df.attrs.get("alpha")
    scope = f"{n} direction{'s' if n != 1 else ''}, Holm-adjusted" + (f" p < {alpha:g}" if alpha is not None else "")
    if degrades:
        sentence = f"The candidate is significantly worse on {metric} for {_join(degrades)}"
        sentence += f" (better for {_join(improves)})" if improves else ""
    elif improves:
        sentence = f"The candidate is significantly better on {metric} for {_join(improves)}, worse for none"
    else:
        sentence = f"No significant change in {metric} for any direction"
    return Verdict(improves, degrades, ok, f"{sentence} ({scope}).")
