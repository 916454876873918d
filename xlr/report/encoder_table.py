"""Encoders side by side: per direction a value, its 95 % interval, ties, and a ranking the data supports.

Input: the per-query gold ranks of several encoders on the same directions
(:class:`~xlr.retrieval.evaluate.DirectionResult`; same queries in the same order per
direction, which the dashboard and CLI guarantee). For one ``metric``:

* **value** = mean per-query metric (``[r <= k]`` or ``1/r``);
* **interval**: the 95 % percentile bootstrap interval of the mean,
  :func:`xlr.stats.paired.paired_bootstrap` against a zero baseline (so ``mean(b - 0)``),
  ``random_state`` the same int for every cell (each cell reproducible on its own);
* **ties**: per direction every pair of encoders is compared with
  :func:`xlr.stats.paired.compare_directions` (McNemar exact for recall@k, sign-flip
  permutation for MRR), Holm across that row's pairs; an encoder is *tied with the best*
  when it is the best or its pair with the best is not significant at ``alpha``;
* **ranking**: wins - losses over significant pairs of all rows; encoders with equal
  scores share a rank (so the ranking separates only what the tests separate);
* **ceiling**: rows where every encoder scores >= 0.99;
* **overall** (the mean row): per encoder the mean of its row values, with the 95 % interval of
  :func:`xlr.stats.significance.stratified_bootstrap` (queries resampled within each direction);
* **fair rows** (``fair_only=True``, the default): the ranking and the mean row count only rows where
  every compared encoder's model card lists both languages; the others are ``excluded`` (named) but
  their cells are still shown; ``separating``: the counted rows with at least one significant pair
  (a ranking resting on fewer than two of them is fragile, and the dashboard says so).

Edge cases: one encoder -> no pairs, everyone tied with itself, rank 1. Best value ties
(exactly equal means) all count as best.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from xlr.data.languages import match_key
from xlr.encoders.catalogue import card, unsupported
from xlr.retrieval.evaluate import DirectionResult
from xlr.retrieval.metrics import per_query
from xlr.stats.paired import compare_directions
from xlr.stats.significance import paired_bootstrap, stratified_bootstrap

__all__ = ["CEILING", "EncoderComparison", "compare_encoders", "published_figure"]

CEILING = 0.99


@dataclass(frozen=True)
class EncoderComparison:
    """``cells``: one row per (direction, model) with ``value, ci_low, ci_high, best, tied, unsupported,
    published``; ``pairs``: the per-row pair tests; ``ranking``: ``model, wins, losses, score, rank, mean``;
    ``ceiling``: directions at the ceiling for every encoder; ``overall``: per model the mean of its counted
    rows (``value``) with ``ci_low, ci_high`` and ``n_directions``; ``excluded``: rows left out of the
    ranking and the mean row (an encoder lacks a language; only with ``fair_only``); ``separating``:
    counted rows where some pair differs significantly."""

    metric: str
    models: tuple[str, ...]
    directions: tuple[str, ...]
    cells: pd.DataFrame
    pairs: pd.DataFrame
    ranking: pd.DataFrame
    ceiling: tuple[str, ...]
    alpha: float
    overall: pd.DataFrame
    fair_only: bool = True
    excluded: tuple[str, ...] = ()
    separating: tuple[str, ...] = ()


def published_figure(model: str, source: str, target: str, metric: str, dataset: str) -> float | None:
    """The model card's published Tatoeba accuracy (= recall@1, English pool) for ``source->en``, if any."""
    c = card(model)
    if c is None or metric != "recall@1" or not dataset.lower().startswith("tatoeba"):
        return None
    if match_key(target) != "en":
        return None
    return c.published.get(f"{match_key(source)}-en")


def compare_encoders(
    results: Sequence[DirectionResult],
    metric: str,
    *,
    alpha: float = 0.05,
    n_resamples: int = 2000,
    random_state: int = 0,
    dataset: str = "",
    fair_only: bool = True,
    cards: Mapping[str, str] | None = None,
) -> EncoderComparison:
    """Compare the encoders of ``results`` direction by direction (see the module docstring).

    ``fair_only``: rank and average over the rows every encoder supports (model cards); when no row
    is fair, nothing is counted (every encoder rank 1, empty mean row). ``cards``: the encoder name
    whose model card flags a results label (``minilm-en · torch fp32`` -> ``minilm-en``; default the
    label itself)."""
    cards = cards or {}
    if not results:
        raise ValueError("no results to compare")
    models = tuple(dict.fromkeys(r.model for r in results))
    directions = tuple(dict.fromkeys(r.direction.label for r in results))
    by = {(r.direction.label, r.model): r for r in results}
    rows, pair_rows = [], []
    per_model: dict[str, list[np.ndarray]] = {m: [] for m in models}
    excluded = []
    for label in directions:
        present = [m for m in models if (label, m) in by]
        d = by[label, present[0]].direction
        if fair_only and any(unsupported(cards.get(m, m), (d.source, d.target)) for m in present):
            excluded.append(label)
        values = {m: per_query(by[label, m].ranks, metric) for m in present}
        for m in present:
            if label not in excluded:
                per_model[m].append(values[m])  # the mean row's strata, in row order
        means = {m: float(v.mean()) for m, v in values.items()}
        top = max(means.values())
        best = [m for m in present if means[m] == top]
        sig: dict[frozenset[str], bool] = {}
        if len(present) > 1:
            table = {f"{a} | {b}": (by[label, a].ranks, by[label, b].ranks) for a, b in combinations(present, 2)}
            df = compare_directions(
                table, metric=metric, alpha=alpha, random_state=random_state, n_resamples=n_resamples
            )
            for (a, b), (_, row) in zip(combinations(present, 2), df.iterrows()):
                sig[frozenset((a, b))] = bool(row["significant"])
                pair_rows.append({"direction": label, "model_a": a, "model_b": b, **row.drop("direction").to_dict()})
        for m in present:
            lo, hi = paired_bootstrap(
                np.zeros_like(values[m]), values[m], n_resamples=n_resamples, random_state=random_state
            )
            tied = m in best or any(not sig.get(frozenset((m, b)), False) for b in best)
            rows.append(
                {
                    "direction": label,
                    "source": d.source,
                    "target": d.target,
                    "model": m,
                    "value": means[m],
                    "ci_low": lo,
                    "ci_high": hi,
                    "n_queries": int(values[m].size),
                    "best": m in best,
                    "tied": tied,
                    "unsupported": ",".join(unsupported(cards.get(m, m), (d.source, d.target))),
                    "published": published_figure(m, d.source, d.target, metric, dataset),
                }
            )
    cells = pd.DataFrame(rows)
    pairs = pd.DataFrame(pair_rows)
    wins = dict.fromkeys(models, 0)
    losses = dict.fromkeys(models, 0)
    counted = [row for row in pair_rows if row["direction"] not in excluded]
    for row in counted:
        if row["significant"]:
            a, b = row["model_a"], row["model_b"]
            winner, loser = (b, a) if row["delta"] > 0 else (a, b)
            wins[winner] += 1
            losses[loser] += 1
    score = {m: wins[m] - losses[m] for m in models}
    ranking = pd.DataFrame(
        {
            "model": list(models),
            "wins": [wins[m] for m in models],
            "losses": [losses[m] for m in models],
            "score": [score[m] for m in models],
            "rank": [1 + sum(score[o] > score[m] for o in models) for m in models],
            "mean": [
                float(cells.loc[(cells["model"] == m) & ~cells["direction"].isin(excluded), "value"].mean())
                for m in models
            ],
        }
    ).sort_values(["rank", "mean"], ascending=[True, False], kind="stable")
    at_top = cells.groupby("direction", sort=False)["value"].min()
    ceiling = tuple(d for d in directions if at_top[d] >= CEILING)
    overall_rows = []
    for m, groups in per_model.items():
        if not groups:
            continue
        lo, hi = stratified_bootstrap(groups, n_resamples=n_resamples, random_state=random_state)
        value = float(np.mean([g.mean() for g in groups]))
        overall_rows.append({"model": m, "value": value, "ci_low": lo, "ci_high": hi, "n_directions": len(groups)})
    return EncoderComparison(
        metric,
        models,
        directions,
        cells,
        pairs,
        ranking.reset_index(drop=True),
        ceiling,
        alpha,
        pd.DataFrame(overall_rows, columns=["model", "value", "ci_low", "ci_high", "n_directions"]),
        fair_only,
        tuple(excluded),
        tuple(dict.fromkeys(row["direction"] for row in counted if row["significant"])),
    )


def wide(comparison: EncoderComparison, digits: int = 3) -> pd.DataFrame:
    """Directions as rows, encoders as columns: ``0.912 [0.885, 0.938]`` with markers, plus the mean row
    (with its stratified interval).

    Markers: ``★`` best of the row, ``=`` tied with the best (not significant), ``⚠ no el`` a language
    outside the model card's list. ``MTEB <model>`` columns hold published figures where they exist.
    """
    c = comparison.cells
    f = f"{{:.{digits}f}}"
    out: dict[str, list[str]] = {"direction": list(comparison.directions)}
    for m in comparison.models:
        col = []
        for d in comparison.directions:
            row = c[(c["direction"] == d) & (c["model"] == m)]
            if row.empty:
                col.append("")
                continue
            r = row.iloc[0]
            mark = " ★" if r["best"] else (" =" if r["tied"] else "")
            warn = f" ⚠ no {r['unsupported']}" if r["unsupported"] else ""
            col.append(f"{f.format(r['value'])} [{f.format(r['ci_low'])}, {f.format(r['ci_high'])}]{mark}{warn}")
        out[m] = col
    for m in comparison.models:
        pub = c[c["model"] == m].set_index("direction")["published"]
        if pub.notna().any():
            out[f"MTEB {m}"] = [
                f.format(pub[d]) if d in pub and pd.notna(pub[d]) else "" for d in comparison.directions
            ]
    table = pd.DataFrame(out)
    n = len(comparison.directions) - len(comparison.excluded)
    mean = {"direction": f"mean of {n} fair rows" if comparison.excluded else "mean of rows"}
    for r in comparison.overall.itertuples():
        mean[str(r.model)] = f"{f.format(r.value)} [{f.format(r.ci_low)}, {f.format(r.ci_high)}]"
    return pd.concat([table, pd.DataFrame([mean])], ignore_index=True).fillna("")
