"""Plotly figures of the many-language views: pure functions from :mod:`xlr.report.matrix` and
:mod:`xlr.report.marginals` objects to ``go.Figure`` (language codes escaped with :func:`inert`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from xlr.report.figures import inert
from xlr.report.matrix import LanguageMatrix, difference_grid

__all__ = ["difference_heatmap", "marginal_chart", "matrix_heatmap", "VERDICT_MARKS"]

VERDICT_MARKS = {"improved": "▲", "degraded": "▼", "no significant change": ""}
"""Cell marks of the difference matrix: B significantly better / worse than A (Holm)."""

_FONT = "Noto Sans, Segoe UI, Arial, sans-serif"


def _side(n: int) -> int:
    """Figure height for an n x n grid: readable cells up to ~40 languages, bounded beyond."""
    return int(min(1400, 160 + max(n, 3) * (28 if n <= 40 else 11)))


def _axes(fig: go.Figure, title: str, n: int) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, y=0.99, yanchor="top"),
        height=_side(n),
        margin=dict(l=10, r=10, t=60, b=10),
        font=dict(family=_FONT),
        xaxis=dict(title="target (pool)", type="category", side="top", tickangle=-90 if n > 20 else 0),
        yaxis=dict(title="source (queries)", type="category", autorange="reversed"),
    )
    return fig


def matrix_heatmap(matrix: LanguageMatrix) -> go.Figure:
    """Source rows x target columns, the metric as colour (0..1) and value; hover: value, interval, n."""
    labels = [inert(lang) for lang in matrix.languages]
    n = len(labels)
    custom = np.dstack([matrix.ci_low, matrix.ci_high, matrix.n_queries.astype(float)])
    fig = go.Figure(
        go.Heatmap(
            z=matrix.values,
            x=labels,
            y=labels,
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            customdata=custom,
            texttemplate="%{z:.2f}" if n <= 30 else "",
            hovertemplate=(
                "%{y} → %{x}: %{z:.3f}<br>95 % interval [%{customdata[0]:.3f}, %{customdata[1]:.3f}]"
                "<br>%{customdata[2]:.0f} queries<extra></extra>"
            ),
            colorbar=dict(title=inert(matrix.metric)),
            hoverongaps=False,
        )
    )
    return _axes(fig, f"{inert(matrix.model)}: {inert(matrix.metric)} per direction", n)


def difference_heatmap(diff: pd.DataFrame, order: Sequence[str], baseline: str, candidate: str) -> go.Figure:
    """``candidate - baseline`` per cell (diverging colour), ▲/▼ where the paired test is significant
    after Holm across the cells of ``diff``; hover: both values, delta, Holm p, verdict."""
    labels = [inert(lang) for lang in order]
    delta = difference_grid(diff, order, "delta").astype(float)
    effect = difference_grid(diff, order, "effect")
    marks = np.vectorize(lambda e: VERDICT_MARKS.get(e, "") if e is not None else "", otypes=[object])(effect)
    text = np.where(marks != "", marks, "")
    custom = np.dstack(
        [
            difference_grid(diff, order, "baseline").astype(float),
            difference_grid(diff, order, "candidate").astype(float),
            difference_grid(diff, order, "p_holm").astype(float),
        ]
    )
    bound = float(np.nanmax(np.abs(delta))) if np.isfinite(delta).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=delta,
            x=labels,
            y=labels,
            zmid=0,
            zmin=-max(bound, 1e-9),
            zmax=max(bound, 1e-9),
            colorscale="RdBu",
            text=text,
            texttemplate="%{text}",
            customdata=custom,
            hovertemplate=(
                f"%{{y}} → %{{x}}: {inert(candidate)} − {inert(baseline)} = %{{z:+.3f}}"
                "<br>%{customdata[1]:.3f} vs %{customdata[0]:.3f}; Holm p = %{customdata[2]:.3g}<extra></extra>"
            ),
            colorbar=dict(title="Δ"),
            hoverongaps=False,
        )
    )
    alpha = diff.attrs.get("alpha", 0.05)
    title = (
        f"{inert(candidate)} − {inert(baseline)}: ▲ better, ▼ worse "
        f"(paired test, Holm across {len(diff)} cells, p < {alpha:g})"
    )
    return _axes(fig, title, len(labels))


def marginal_chart(marginals: pd.DataFrame, metric: str) -> go.Figure:
    """Each language as query and as document: mean over directions with its 95 % interval (error bars)."""
    fig = go.Figure()
    for role in ("query", "document"):
        rows = marginals[marginals["role"] == role]
        if rows.empty:
            continue
        fig.add_trace(
            go.Bar(
                name=f"as {role}",
                y=[inert(x) for x in rows["language"]],
                x=rows["mean"],
                orientation="h",
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=(rows["ci_high"] - rows["mean"]).to_numpy(),
                    arrayminus=(rows["mean"] - rows["ci_low"]).to_numpy(),
                ),
                hovertemplate=f"%{{y}} as {role}: %{{x:.3f}}<extra></extra>",
            )
        )
    n = marginals["language"].nunique()
    fig.update_layout(
        barmode="group",
        height=int(min(2400, 140 + n * 26)),
        margin=dict(l=10, r=10, t=60, b=10),
        font=dict(family=_FONT),
        title=dict(text=f"{inert(metric)} per language (mean over directions, 95 % interval)", y=0.99),
        xaxis=dict(title=inert(metric), range=[0, 1]),
        yaxis=dict(type="category", autorange="reversed"),
    )
    return fig
