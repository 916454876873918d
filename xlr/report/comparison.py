"""Comparison (split from stats.compare)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from xlr.report.results import read_results
from xlr.stats.compare import Comparison, RankRecord, compare_results, pair_ranks


def read_rank_records(path: str | Path, model: str | None = None) -> tuple[str, dict[str, RankRecord]]:
    """``(model, {direction: RankRecord})`` from the ``per_query`` section of a results JSON.

    ``model`` may be omitted when the file holds exactly one model; otherwise (or when it is
    not in the file) ``ValueError`` lists the models the file holds.
    """
    data = read_results(Path(path))
    per_query = data.get("per_query") or {}
    if not isinstance(per_query, dict) or not per_query:
        raise ValueError(f"{path}: no per-query ranks (write it with a current 'python -m xlr eval --json')")
    if model is None:
        if len(per_query) != 1:
            raise ValueError(f"{path} holds {len(per_query)} models ({', '.join(per_query)}); choose one")
        model = next(iter(per_query))
    elif model not in per_query:
        raise ValueError(f"{path}: no model {model!r} (models: {', '.join(per_query)})")
    out = {}
    for d, rec in per_query[model].items():
        try:
            out[d] = RankRecord(
                d,
                tuple(str(q) for q in rec["query_ids"]),
                np.asarray(rec["ranks"], dtype=np.int64),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"{path}: model {model!r}, direction {d}: needs 'query_ids' and integer 'ranks' "
                f"({type(exc).__name__}: {exc})"
            ) from None
    return model, out


def compare_files(
    baseline_path: str | Path,
    candidate_path: str | Path,
    *,
    baseline_model: str | None = None,
    candidate_model: str | None = None,
    **kwargs: Any,
) -> Comparison:
    """:func:`compare_results` on two results JSON files (``kwargs``: metrics, alpha, random_state, n_resamples).

    The same file may be given twice with two different models.
    """
    ma, ra = read_rank_records(baseline_path, baseline_model)
    mb, rb = read_rank_records(candidate_path, candidate_model)
    if ma == mb and Path(baseline_path).resolve() == Path(candidate_path).resolve():
        raise ValueError(f"baseline and candidate are the same model {ma!r} of {baseline_path}")
    try:
        pair_ranks(ra, rb, names=(f"baseline {baseline_path}", f"candidate {candidate_path}"))
    except ValueError as exc:
        raise ValueError(f"{ma} vs {mb}: {exc}") from None
    return compare_results(ra, rb, baseline_label=ma, candidate_label=mb, **kwargs)
