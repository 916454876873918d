"""Paired significance tests of a candidate encoder against a baseline.

Both systems are evaluated on the *same* queries of a direction ``s->t``; the
inputs are per-query gold ranks ``r >= 1`` (int arrays of shape ``(n,)``).
Per-query values are ``[r <= k]`` (recall@k) or ``1/r`` (MRR); deltas are always
``candidate - baseline``.  Per direction: paired bootstrap interval, McNemar's
exact test (recall@k) or a sign-flip permutation test (MRR); Holm across
directions.  Stochastic functions take ``random_state`` (int, Generator, None).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats as _sps

__all__ = [
    "PairedComparison",
    "Verdict",
    "compare_directions",
    "compare_ranks",
    "holm",
    "mcnemar_exact",
    "paired_bootstrap",
    "permutation_test",
    "verdict",
]

RandomState = int | np.random.Generator | None

#: Upper bound on the number of elements of one resampling block (~32 MB int64).
_BLOCK_ELEMENTS = 1 << 22

_METRIC_RE = re.compile(r"^recall@([0-9]+)$")


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


# --------------------------------------------------------------------------- validation


def _rng(random_state: RandomState) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)):
        return np.random.default_rng(random_state)
    raise ValueError(f"random_state must be an int, a numpy Generator or None, got {type(random_state).__name__}")


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _paired_values(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Validate two paired per-query arrays: 1-D, same shape, non-empty, finite real."""
    out = []
    for arr, name in zip((a, b), names):
        x = np.asarray(arr)
        if x.ndim != 1:
            raise ValueError(f"{name} must be 1-D (one value per query), got shape {x.shape}")
        if x.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric, got dtype {x.dtype}")
        x = x.astype(np.float64)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contains NaN or infinite values")
        out.append(x)
    if out[0].shape != out[1].shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must hold the same queries: shapes {out[0].shape} != {out[1].shape}"
        )
    if out[0].size == 0:
        raise ValueError(f"{names[0]} and {names[1]} are empty: at least one query is needed")
    return out[0], out[1]


def _validate_ranks(ranks: np.ndarray, name: str) -> np.ndarray:
    """1-D integer-valued ranks >= 1 (float arrays holding whole numbers are accepted)."""
    r = np.asarray(ranks)
    if r.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one gold rank per query), got shape {r.shape}")
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
        raise ValueError(f"{name} ranks must be >= 1; query {bad[0]} has rank {r[bad[0]]} ({bad.size} below 1)")
    return r


def _parse_metric(metric: str) -> tuple[str, int | None]:
    """``"mrr"`` -> ("mrr", None); ``"recall@5"`` -> ("recall@5", 5)."""
    if not isinstance(metric, str):
        raise ValueError(f"metric must be a string like 'recall@1' or 'mrr', got {metric!r}")
    name = metric.strip().lower()
    if name == "mrr":
        return "mrr", None
    m = _METRIC_RE.match(name)
    if m is None or int(m.group(1)) < 1:
        raise ValueError(f"unknown metric {metric!r}: expected 'mrr' or 'recall@k' with integer k >= 1")
    k = int(m.group(1))
    return f"recall@{k}", k


# --------------------------------------------------------------------------- tests


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    random_state: RandomState = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(b - a)`` over paired queries.

    ``a``, ``b``: per-query metric values, shape ``(n,)`` (0/1 hits or 1/r).
    Each resample draws ``n`` query indices with replacement and takes the mean
    of ``d = b - a`` over them; the interval is the ``(1-confidence)/2`` and
    ``(1+confidence)/2`` quantiles of the ``n_resamples`` means.  When ``d``
    has few distinct values (``8 * n_distinct <= n``, e.g. recall@k) the same
    distribution is drawn as multinomial counts over the distinct values, in
    ``O(n_distinct)`` per resample.  Draws come in blocks of at most ~4M
    numbers, so memory is bounded for any ``n``.
    With ``n == 1`` (or constant ``d``) the interval collapses to the point.
    """
    x, y = _paired_values(a, b, ("a", "b"))
    n_resamples = _check_count(n_resamples, "n_resamples")
    if not (isinstance(confidence, (int, float)) and 0.0 < float(confidence) < 1.0):
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    rng = _rng(random_state)
    d = y - x
    n = d.size
    vals, counts = np.unique(d, return_counts=True)
    means = np.empty(n_resamples, dtype=np.float64)
    if vals.size * 8 <= n:  # few distinct differences (always for recall@k): multinomial counts
        freq = counts / n
        block = max(1, _BLOCK_ELEMENTS // vals.size)
        for start in range(0, n_resamples, block):
            stop = min(start + block, n_resamples)
            means[start:stop] = rng.multinomial(n, freq, size=stop - start) @ vals / n
    else:
        block = max(1, _BLOCK_ELEMENTS // n)
        for start in range(0, n_resamples, block):
            stop = min(start + block, n_resamples)
            idx = rng.integers(0, n, size=(stop - start, n))
            means[start:stop] = d[idx].mean(axis=1)
    tail = (1.0 - float(confidence)) / 2.0
    lo, hi = np.quantile(means, [tail, 1.0 - tail])
    return float(lo), float(hi)


def mcnemar_exact(a_hit: np.ndarray, b_hit: np.ndarray) -> tuple[float, int, int]:
    """Exact (binomial) McNemar test of paired binary outcomes.

    ``a_hit``, ``b_hit``: bool (or 0/1) arrays of shape ``(n,)``.  With
    ``b = #(A hit, B miss)`` and ``c = #(A miss, B hit)``, under H0 ``b ~
    Binomial(b + c, 1/2)``; the two-sided p-value is
    ``min(1, 2 * P[X <= min(b, c)])`` (equal to ``scipy.stats.binomtest``).
    Returns ``(p, b, c)``; ``p = 1`` when ``b + c == 0``.
    """
    x, y = _paired_values(a_hit, b_hit, ("a_hit", "b_hit"))
    for arr, name in ((x, "a_hit"), (y, "b_hit")):
        if not np.all((arr == 0) | (arr == 1)):
            raise ValueError(f"{name} must be boolean (0/1) per query")
    xa, yb = x.astype(bool), y.astype(bool)
    b = int(np.count_nonzero(xa & ~yb))
    c = int(np.count_nonzero(~xa & yb))
    if b + c == 0:
        return 1.0, b, c
    p = min(1.0, 2.0 * float(_sps.binom.cdf(min(b, c), b + c, 0.5)))
    return p, b, c


def permutation_test(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_resamples: int = 10_000,
    random_state: RandomState = None,
) -> float:
    """Two-sided paired sign-flip permutation test of ``mean(b - a) = 0``.

    Statistic ``T = |sum_i s_i d_i|`` with ``d = b - a`` and signs ``s_i = +-1``
    (observed: all +1).  Queries with ``d_i == 0`` do not change ``T`` under any
    flip, so they are dropped; with ``m`` non-zero differences:

    * ``2**m <= n_resamples``: exact enumeration of all ``2**m`` sign vectors,
      ``p = #{T* >= T} / 2**m`` (identical to enumerating all ``2**n``);
    * otherwise Monte Carlo: ``p = (1 + #{T* >= T}) / (1 + n_resamples)``.

    ``T* >= T`` is compared with a relative tolerance of 1e-9 so that float
    round-off never breaks ties.  Returns 1.0 when all differences are zero.
    """
    x, y = _paired_values(a, b, ("a", "b"))
    n_resamples = _check_count(n_resamples, "n_resamples")
    rng = _rng(random_state)
    d = y - x
    d = d[d != 0]
    m = d.size
    if m == 0:
        return 1.0
    t_obs = abs(d.sum())
    thresh = t_obs - 1e-9 * float(np.abs(d).sum())
    if m < 63 and (1 << m) <= n_resamples:
        codes = np.arange(1 << m, dtype=np.int64)[:, None]
        signs = 1.0 - 2.0 * ((codes >> np.arange(m, dtype=np.int64)) & 1)
        t_all = np.abs(signs @ d)
        return float(np.count_nonzero(t_all >= thresh) / (1 << m))
    block = max(1, _BLOCK_ELEMENTS // m)
    count = 0
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        signs = np.where(rng.random((size, m)) < 0.5, -1.0, 1.0)
        count += int(np.count_nonzero(np.abs(signs @ d) >= thresh))
    return float((1 + count) / (1 + n_resamples))


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values, in the input order.

    With ``p_(1) <= ... <= p_(m)`` sorted ascending,
    ``adj_(i) = min(1, max_{j <= i} (m - j + 1) * p_(j))`` — monotone in the
    sorted order and capped at 1.  Ties keep a stable order.  Empty input ->
    empty array.  Example: ``[0.01, 0.04, 0.03] -> [0.03, 0.06, 0.06]``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape}")
    if p.size and (np.any(np.isnan(p)) or np.any((p < 0) | (p > 1))):
        raise ValueError("p_values must lie in [0, 1] (no NaN)")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]
    adj_sorted = np.minimum(1.0, np.maximum.accumulate(scaled)) if m else scaled
    out = np.empty(m, dtype=np.float64)
    out[order] = adj_sorted
    return out


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
    ``metric``: ``"recall@k"`` (per-query ``[r <= k]``; McNemar exact test) or
    ``"mrr"`` (per-query ``1/r``; sign-flip permutation test).  The interval
    is :func:`paired_bootstrap` at 95 %.  One generator drives the bootstrap
    and then the permutation test, so an int ``random_state`` is reproducible.
    """
    name, k = _parse_metric(metric)
    ra = _validate_ranks(ranks_a, "ranks_a")
    rb = _validate_ranks(ranks_b, "ranks_b")
    _paired_values(ra, rb, ("ranks_a", "ranks_b"))  # same shape, non-empty
    n_resamples = _check_count(n_resamples, "n_resamples")
    rng = _rng(random_state)
    if k is None:
        va, vb = 1.0 / ra, 1.0 / rb
    else:
        va, vb = (ra <= k).astype(np.float64), (rb <= k).astype(np.float64)
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
    children = _rng(random_state).spawn(len(table))
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
