"""The one table of a strategies run: strategy x direction, deltas, significance, verdicts.

:func:`strategies_table` gives the numbers (one row per strategy and direction,
baseline rows first, then per strategy its directions and a ``verdict`` row);
:func:`strategies_text` / :func:`strategies_markdown` render it with a header
that states the data set, encoders, split and test protocol;
:func:`strategies_json` is the results JSON of :mod:`xlr.report` (rows,
manifest, per-query ranks of every strategy, so ``python -m xlr compare`` can
re-read any pair) with a ``strategies`` section added; a chat strategy
(:class:`~xlr.strategies.generative.GenerativeRun`) adds its chat manifest (endpoint
without key, model, prompt template hash, parameters, tokens, cost) to the manifest and its
``details`` (translations or generated titles per direction and query id) to its candidate.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from xlr.data.registry import LoadedDataset
from xlr.report.results import build_manifest
from xlr.report.sanitize import markdown_cell
from xlr.report.text import format_frame
from xlr.retrieval.evaluate import EvalSpec
from xlr.retrieval.metrics import per_query
from xlr.retrieval.results import EvalResults
from xlr.strategies.generative import GenerativeRun
from xlr.strategies.runner import StrategyReport

__all__ = [
    "strategies_json",
    "strategies_markdown",
    "strategies_table",
    "strategies_text",
]

UP, DOWN = "▲", "▼"


def _short(metric: str) -> str:
    return "MRR" if metric == "mrr" else metric.replace("recall@", "R@")


def strategies_table(report: StrategyReport) -> pd.DataFrame:
    """Rows: baseline per direction, then per strategy its directions and one ``verdict`` row.

    Per metric m (``report.comparisons[*].metrics``): column ``m`` (the value, a fraction),
    ``Δ m`` (points, with the 95 % bootstrap interval), ``p m`` (Holm-adjusted p, with
    ``▲``/``▼`` when significantly better/worse).  In a verdict row, ``m`` is ``YES`` when
    the strategy improves at least one direction significantly and degrades none
    significantly on m, else ``NO``; ``Δ m`` counts the ▲ and ▼ directions.
    """
    metrics = report.comparisons[0].metrics if report.comparisons else ("recall@1", "mrr")
    rows: list[dict[str, Any]] = []
    for r in report.baseline.results:
        row = {
            "strategy": f"baseline ({report.baseline.model})",
            "direction": r.direction.label,
            "n": r.n_queries,
        }
        for m in metrics:
            row |= {
                _short(m): f"{per_query(r.ranks, m).mean():.3f}",
                f"Δ {_short(m)}": "",
                f"p {_short(m)}": "",
            }
        rows.append(row)
    for run, comp in zip(report.runs, report.comparisons):
        tables = {m: comp.table(m).set_index("direction") for m in metrics}
        for r in run.results:
            row = {
                "strategy": run.strategy.name,
                "direction": r.direction.label,
                "n": r.n_queries,
            }
            for m in metrics:
                t = tables[m].loc[r.direction.label]
                mark = UP if t.effect == "improved" else DOWN if t.effect == "degraded" else ""
                row |= {
                    _short(m): f"{t.candidate:.3f}",
                    f"Δ {_short(m)}": f"{t.delta * 100:+.1f} [{t.ci_low * 100:+.1f}, {t.ci_high * 100:+.1f}]",
                    f"p {_short(m)}": f"{t.p_holm:.2g} {mark}".rstrip(),
                }
            rows.append(row)
        row = {"strategy": run.strategy.name, "direction": "verdict", "n": ""}
        for m in metrics:
            v = comp.verdict(m)
            row |= {
                _short(m): "YES" if v.ok else "NO",
                f"Δ {_short(m)}": f"{UP}{len(v.improves)} {DOWN}{len(v.degrades)}",
                f"p {_short(m)}": "",
            }
        rows.append(row)
    return pd.DataFrame(rows)


def _header(report: StrategyReport) -> list[str]:
    comp = report.comparisons[0] if report.comparisons else None
    alpha = comp.tables[0].attrs.get("alpha", 0.05) if comp else 0.05
    lines = [
        f"data set: {report.corpus}; encoders: {', '.join(dict.fromkeys(e.identity.name for e, _ in report.encoder_stats))}",
        f"split: {report.plan.description}",
        "values: fractions; Δ: strategy - baseline in points (x100) with the paired bootstrap 95% interval; "
        "p: McNemar exact (recall@k) or sign-flip permutation (MRR), Holm-adjusted across the directions of "
        f"each strategy (not across strategies); {UP}/{DOWN}: significantly better/worse at alpha={alpha:g}; "
        "verdict YES: improves at least one direction significantly and degrades none significantly",
    ]
    return lines + [f"note: {n}" for n in report.notes]


def _verdict_lines(report: StrategyReport) -> list[str]:
    out = []
    for run, comp in zip(report.runs, report.comparisons):
        for m, v in zip(comp.metrics, comp.verdicts):
            out.append(f"{run.strategy.name} [{m}]: {'YES' if v.ok else 'NO'} - {v.sentence}")
    return out


def strategies_text(report: StrategyReport) -> str:
    """Header, the table (plain text) and one verdict sentence per strategy and metric."""
    table = strategies_table(report)
    body = format_frame(table, max_colwidth=60)
    return "\n".join(_header(report) + ["", body, ""] + _verdict_lines(report))


def strategies_markdown(report: StrategyReport) -> str:
    """The same content as :func:`strategies_text` as a markdown section (pipe table, no dependency).

    Every text (names, language codes, ids, notes) goes through :func:`xlr.report.sanitize.markdown_cell`
    on one line: a code such as ``<img src=x>[l](https://x)`` is written as text, never as markup.
    """
    table = strategies_table(report)
    cols = list(table.columns)

    def cell(v: Any) -> str:  # one line, Markdown and HTML from data shown as text, pipes escaped
        return str(markdown_cell(" ".join(str(v).split())))

    lines = [f"- {cell(h)}" for h in _header(report)] + [
        "",
        "| " + " | ".join(cell(c) for c in cols) + " |",
        "|" + "|".join("---" for _ in cols) + "|",
    ]
    for rec in table.itertuples(index=False):
        values = [cell(v) for v in rec]
        if rec.direction == "verdict":
            values = [f"**{v}**" if v else v for v in values]
        lines.append("| " + " | ".join(values) + " |")
    lines += [""] + [f"- {cell(v)}" for v in _verdict_lines(report)]
    return "\n".join(lines) + "\n"


def _plain(v: Any) -> Any:
    if isinstance(v, (np.generic,)):
        return v.item()
    if v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return v


def strategies_json(report: StrategyReport, data: LoadedDataset) -> str:
    """Results JSON (rows, manifest, per_query of baseline + every strategy) plus a ``strategies`` section."""
    ks = report.ks
    base = report.baseline.strategy
    spec = EvalSpec(
        report.plan.directions,
        ks=ks,
        first=report.plan.split.first,
        scoring=base.scoring,
        text_field=base.text_field,
    )
    results = EvalResults(tuple(report.results), spec)
    manifest = build_manifest(data, spec, list(report.encoder_stats), results)
    manifest["split"] = {
        "description": report.plan.description,
        "first": report.plan.split.first,
        "ids": list(report.plan.split.ids) if report.plan.split.ids is not None else None,
    }
    manifest["strategies"] = [
        {
            "strategy": run.strategy.name,
            "model": run.model,
            "encoders": list(run.encoders),
            **({"chat": run.details["chat"]} if isinstance(run, GenerativeRun) else {}),
        }
        for run in (report.baseline, *report.runs)
    ]
    out = json.loads(replace(results, manifest=manifest).to_json())
    out["strategies"] = {
        "baseline": report.baseline.model,
        "split": report.plan.description,
        "candidates": [
            {
                "strategy": run.strategy.name,
                "model": run.model,
                "encoders": list(run.encoders),
                "seconds": round(run.seconds, 3),
                **({"details": run.details} if isinstance(run, GenerativeRun) else {}),
                "comparisons": [
                    {
                        "metric": m,
                        "verdict": {
                            "ok": v.ok,
                            "improves": list(v.improves),
                            "degrades": list(v.degrades),
                            "sentence": v.sentence,
                        },
                        "directions": [{k: _plain(x) for k, x in row.items()} for row in t.to_dict("records")],
                    }
                    for m, t, v in zip(comp.metrics, comp.tables, comp.verdicts)
                ],
            }
            for run, comp in zip(report.runs, report.comparisons)
        ],
        "notes": list(report.notes),
        "table": strategies_table(report).to_dict("records"),
    }
    return json.dumps(out, ensure_ascii=False, indent=1)
