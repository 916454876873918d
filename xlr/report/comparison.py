"""``xlr compare``'s side of a paired comparison: rank records read from two results files
(ranks validated as integers >= 1), the comparison run on them (:mod:`xlr.stats.compare`), and
its table, text and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from xlr.data.reading import json_type
from xlr.report.results import read_results
from xlr.report.text import format_frame
from xlr.retrieval.results_io import ranks_from_json
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
    directions = per_query[model]
    if not isinstance(directions, dict):
        raise ValueError(f"{path}: model {model!r}: expected an object of directions, got {json_type(directions)}")
    for d, rec in directions.items():
        where = f"{path}: model {model!r}, direction {d}"
        if not isinstance(rec, dict) or not isinstance(rec.get("query_ids"), list) or "ranks" not in rec:
            raise ValueError(f"{where}: needs 'query_ids' and integer 'ranks' (a list of ids, a list of ranks >= 1)")
        ids = rec["query_ids"]
        ranks = ranks_from_json(rec["ranks"], where)
        if len(ranks) != len(ids):
            raise ValueError(f"{where}: {len(ranks)} ranks for {len(ids)} query ids")
        out[d] = RankRecord(d, tuple(str(q) for q in ids), ranks)
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


def _ci(lo: float, hi: float) -> str:
    return f"[{lo * 100:+.1f}, {hi * 100:+.1f}]"


def comparison_frame(comparison: Comparison) -> pd.DataFrame:
    """One row per direction and metric, for printing.

    ``baseline``/``candidate``: the metric (a fraction, e.g. recall@1 = 0.885); ``delta`` and
    ``95% CI`` in points (x100, e.g. +1.2); ``p`` raw, ``p_holm`` Holm-adjusted; ``effect``.
    """
    rows = []
    for metric, table in zip(comparison.metrics, comparison.tables):
        for r in table.itertuples(index=False):
            rows.append(
                {
                    "direction": r.direction,
                    "metric": metric,
                    "n": r.n_queries,
                    "baseline": round(r.baseline, 3),
                    "candidate": round(r.candidate, 3),
                    "delta (pts)": f"{r.delta * 100:+.1f}",
                    "95% CI (pts)": _ci(r.ci_low, r.ci_high),
                    "test": r.test,
                    "p": r.p_value,
                    "p_holm": r.p_holm,
                    "effect": r.effect,
                }
            )
    return pd.DataFrame(rows)


def format_comparison(comparison: Comparison) -> str:
    """The text ``python -m xlr compare`` prints: the table, then one verdict line per metric."""
    frame = comparison_frame(comparison)
    body = format_frame(frame, formatters={"p": "{:.3g}".format, "p_holm": "{:.3g}".format})
    lines = [
        f"baseline:  {comparison.baseline}",
        f"candidate: {comparison.candidate}",
        "delta = candidate - baseline in points (x100); 95% CI: paired bootstrap over queries; "
        "p_holm: Holm across directions",
        "",
        body,
        "",
    ]
    for metric, v in zip(comparison.metrics, comparison.verdicts):
        lines.append(f"verdict ({metric}): {'YES' if v.ok else 'NO'} - {v.sentence}")
    return "\n".join(lines)


def comparison_json(comparison: Comparison, *, alpha: float, seed: int) -> str:
    """What ``xlr compare --json`` writes: the labels, settings, rows and one verdict per metric."""
    out = {
        "baseline": comparison.baseline,
        "candidate": comparison.candidate,
        "alpha": alpha,
        "seed": seed,
        "rows": json.loads(comparison_frame(comparison).to_json(orient="records")),
        "verdicts": {
            m: {"ok": v.ok, "improves": list(v.improves), "degrades": list(v.degrades), "sentence": v.sentence}
            for m, v in zip(comparison.metrics, comparison.verdicts)
        },
    }
    return json.dumps(out, indent=1, ensure_ascii=False)
