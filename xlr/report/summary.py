"""The short text report of many directions (``xlr eval --summary``): per-language marginals and
the worst directions of each model, instead of one row per direction (16,256 at 128 languages)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from xlr.report.marginals import language_marginals, worst_directions
from xlr.report.matrix import MATRIX_RESAMPLES, RankedDirection, models_of
from xlr.report.text import format_frame
from xlr.stats.significance import RandomState

__all__ = ["marginal_table", "summary_text"]


def _cell(mean: float, lo: float, hi: float) -> str:
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def marginal_table(marginals: pd.DataFrame) -> pd.DataFrame:
    """One row per language: ``as query`` and ``as document`` as ``mean [low, high]`` and their direction counts."""
    out: dict[str, dict[str, str | int]] = {}
    for row in marginals.itertuples():
        entry = out.setdefault(str(row.language), {"language": str(row.language)})
        entry[f"as {row.role}"] = _cell(row.mean, row.ci_low, row.ci_high)
        entry[f"n {row.role}"] = int(row.n_directions)
    cols = ["language", "as query", "n query", "as document", "n document"]
    return pd.DataFrame(list(out.values())).reindex(columns=cols).fillna("")


def summary_text(
    results: Sequence[RankedDirection],
    table: pd.DataFrame,
    metric: str,
    *,
    worst: int = 10,
    n_resamples: int = MATRIX_RESAMPLES,
    random_state: RandomState = 0,
) -> str:
    """Per model: each language as query / as document (mean over directions, 95 % stratified
    bootstrap interval), then the ``worst`` directions by ``metric`` from the tidy ``table``."""
    parts = []
    for model in models_of(results):
        marg = language_marginals(results, model, metric, n_resamples=n_resamples, random_state=random_state)
        parts.append(f"{model}: {metric} per language (mean over directions, 95 % interval)")
        parts.append(format_frame(marginal_table(marg)))
        rows = table[table["model"] == model]
        low = worst_directions(rows, metric, worst)
        parts.append(f"\n{model}: the {len(low)} worst directions by {metric}")
        shown = low.assign(direction=low["source"] + "->" + low["target"])[["direction", "value", "n_queries"]]
        parts.append(format_frame(shown.rename(columns={"value": metric})))
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"
