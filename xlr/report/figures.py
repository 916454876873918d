"""Plotly figures of the dashboard: pure functions from tables and arrays to ``go.Figure``.

Every text that comes from a data set or the user (titles, document texts, ids, language codes,
model names, figure titles) goes through :func:`inert` (:func:`xlr.report.sanitize.html_text`)
before it reaches a figure: plotly renders a small HTML subset
(``<b>``, ``<br>``, ``<a>``...) in labels and hover boxes, so raw text could be
displayed as markup.  Escaped, it shows literally.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from xlr.report.sanitize import html_text as inert

__all__ = [
    "direction_heatmap",
    "embedding_map",
    "LANGUAGE_COLOURS",
    "inert",
    "metric_bars",
    "similarity_heatmap",
]

_FONT = "Noto Sans, Segoe UI, Arial, sans-serif"
LANGUAGE_COLOURS = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#999999",
    "#88CCEE",
    "#44AA99",
    "#DDCC77",
    "#AA4499",
)
"""One colour per language (in sorted order, then repeated): the Okabe-Ito palette (8 colours chosen
to stay distinct under the common colour-vision deficiencies, black swapped for grey so that it shows
on a dark background), then four of Paul Tol's muted colours for languages 9-12; mid-tone, so legible
on the light and the dark theme (issue 19: 7 pastel defaults, ar/en/es and el/zh hard to tell apart)."""


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title=dict(text=inert(title), y=0.99, yanchor="top"),
        height=height,
        margin=dict(l=10, r=10, t=60, b=10),
        font=dict(family=_FONT),
        legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom"),
    )
    return fig


def metric_bars(table: pd.DataFrame, metric: str = "recall@1", *, intervals: pd.DataFrame | None = None) -> go.Figure:
    """Grouped bars of ``metric``: one group per direction, one bar per model.

    ``table`` is the tidy table of :func:`xlr.retrieval.evaluate.results_table`. A metric absent
    from it raises ``ValueError``. ``intervals`` (e.g. ``EncoderComparison.cells`` of the same
    metric: ``direction`` as ``ar->en``, ``model``, ``ci_low``, ``ci_high``) draws each bar's
    95 % interval as an error bar; a bar without one gets none.
    """
    if metric not in set(table["metric"]):
        raise ValueError(f"metric {metric!r} is not in the table (has: {', '.join(table['metric'].unique())})")
    rows = table[table["metric"] == metric].assign(
        direction=lambda t: t["source"].map(inert) + "→" + t["target"].map(inert)
    )
    order = list(dict.fromkeys(rows["direction"]))
    many = len(order) > 12  # horizontal bars, one labelled row per direction, so 42 directions stay legible
    fig = go.Figure()
    bounds = None
    if intervals is not None and not intervals.empty:
        parts = intervals["direction"].str.partition("->")
        bounds = intervals.assign(direction=parts[0].map(inert) + "→" + parts[2].map(inert))
        bounds = bounds.set_index(["model", "direction"])[["ci_low", "ci_high"]]
    for model, part in rows.groupby("model", sort=False):
        part = part.set_index("direction").reindex(order)
        error = None
        if bounds is not None:
            ci = bounds.reindex(pd.MultiIndex.from_product([[model], order]))
            error = dict(
                type="data",
                symmetric=False,
                array=(ci["ci_high"].to_numpy() - part["value"].to_numpy()).tolist(),
                arrayminus=(part["value"].to_numpy() - ci["ci_low"].to_numpy()).tolist(),
                thickness=1,
                width=3,
            )
        fig.add_trace(
            go.Bar(
                error_x=error if many else None,
                error_y=None if many else error,
                x=part["value"] if many else order,
                y=order if many else part["value"],
                orientation="h" if many else "v",
                name=inert(model),
                text=[f"{v:.2f}" for v in part["value"]],
                textposition="inside",  # outside, grouped labels ran into each other and the error bars
                insidetextanchor="start",
                customdata=part["n_queries"],
                hovertemplate=(
                    f"%{{{'y' if many else 'x'}}}<br>{inert(model)}: {metric} = %{{{'x' if many else 'y'}:.3f}}"
                    "<br>%{customdata} queries<extra></extra>"
                ),
            )
        )
    fig.update_layout(uniformtext=dict(minsize=9, mode="hide"))  # a label that does not fit is left out
    value_axis = dict(title=metric, range=[0, 1.08])
    if many:
        fig.update_layout(
            barmode="group",
            xaxis=value_axis,
            yaxis=dict(title="direction", autorange="reversed", dtick=1, type="category"),
        )
        n_models = max(1, rows["model"].nunique())
        return _layout(fig, f"{metric} per direction and model", 120 + len(order) * (8 + 10 * n_models))
    fig.update_layout(barmode="group", yaxis=value_axis, xaxis=dict(title="direction"))
    return _layout(fig, f"{metric} per direction and model", 420)


def direction_heatmap(table: pd.DataFrame, model: str, metric: str = "recall@1") -> go.Figure:
    """Source (rows) x target (columns) heatmap of ``metric`` for one model; blank = not evaluated."""
    rows = table[(table["model"] == model) & (table["metric"] == metric)]
    if rows.empty:
        raise ValueError(f"no {metric!r} rows for model {model!r} in the table")
    grid = rows.pivot_table(index="source", columns="target", values="value", aggfunc="first")
    langs = sorted(set(grid.index) | set(grid.columns))
    grid = grid.reindex(index=sorted(grid.index), columns=sorted(grid.columns))
    z = grid.to_numpy(dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[inert(c) for c in grid.columns],
            y=[inert(r) for r in grid.index],
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            texttemplate="%{z:.2f}",
            hovertemplate="%{y} → %{x}: %{z:.3f}<extra></extra>",
            colorbar=dict(title=metric),
        )
    )
    fig.update_layout(
        xaxis=dict(title="target (pool)", type="category"),
        yaxis=dict(title="source (queries)", type="category", autorange="reversed"),
    )
    return _layout(fig, f"{model}: {metric}", 140 + 40 * max(len(langs), 3))


def similarity_heatmap(
    matrix: np.ndarray,
    query_labels: Sequence[str],
    candidate_labels: Sequence[str],
    query_hover: Sequence[str],
    candidate_hover: Sequence[str],
    hub_counts: Sequence[int] | None = None,
    hub_min: int = 3,
    title: str = "",
) -> go.Figure:
    """Query x candidate cosine matrix in gold order (the diagonal holds the linked pairs).

    ``matrix`` (n, m); labels are axis tick texts, hovers the longer texts shown on hover
    (both escaped here). Each row's best column is marked ``x`` and the diagonal is
    outlined. ``hub_counts[j]`` is how many queries of the whole direction have candidate
    ``j`` as top-1; columns with at least ``hub_min`` get a ``★`` tick label.
    """
    z = np.asarray(matrix, dtype=float)
    n, m = z.shape
    if (len(query_labels), len(query_hover)) != (n, n) or (
        len(candidate_labels),
        len(candidate_hover),
    ) != (m, m):
        raise ValueError(f"labels must match the matrix shape {z.shape}")
    if hub_counts is not None and len(hub_counts) != m:
        raise ValueError(f"hub_counts has {len(hub_counts)} entries for {m} candidates")
    qh = [inert(t, 90) for t in query_hover]
    ch = [inert(t, 90) for t in candidate_hover]
    counts = list(hub_counts) if hub_counts is not None else [0] * m
    hover = [
        [f"query: {qh[i]}<br>candidate: {ch[j]}<br>top-1 of {counts[j]} queries" for j in range(m)] for i in range(n)
    ]
    xt = [("★ " if counts[j] >= hub_min else "") + inert(candidate_labels[j], 24) for j in range(m)]
    yt = [inert(q, 24) for q in query_labels]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(m)),
            y=list(range(n)),
            text=hover,
            colorscale="Blues",
            hovertemplate="%{text}<br>cosine: %{z:.3f}<extra></extra>",
            colorbar=dict(title="cosine"),
        )
    )
    best = z.argmax(axis=1)
    fig.add_trace(
        go.Scatter(
            x=best,
            y=list(range(n)),
            mode="markers",
            name="row's top-1",
            marker=dict(symbol="x", size=9, color="#d62728"),
            hoverinfo="skip",
        )
    )
    d = min(n, m)
    fig.add_trace(
        go.Scatter(
            x=list(range(d)),
            y=list(range(d)),
            mode="markers",
            name="linked pair (gold)",
            marker=dict(symbol="square-open", size=12, color="#ff7f0e"),
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        xaxis=dict(
            title="candidates (target)",
            tickmode="array",
            tickvals=list(range(m)),
            ticktext=xt,
            tickangle=-60,
        ),
        yaxis=dict(
            title="queries (source)",
            tickmode="array",
            tickvals=list(range(n)),
            ticktext=yt,
            autorange="reversed",
        ),
    )
    return _layout(fig, title, 260 + 18 * n)


def embedding_map(
    coords: np.ndarray,
    langs: Sequence[str],
    ids: Sequence[str],
    hover: Sequence[str],
    highlight: np.ndarray | None = None,
    join: bool = False,
    title: str = "",
) -> go.Figure:
    """Scatter of 2-D ``coords`` (n, 2) coloured by language.

    ``hover[i]`` is shown with the point (escaped here). ``join`` draws a grey segment
    between consecutive documents sharing an id; ``highlight`` (bool mask) rings the
    matching points in a separate trace named ``search matches``.
    """
    xy = np.asarray(coords, dtype=float)
    n = xy.shape[0]
    if xy.shape != (n, 2) or len(langs) != n or len(ids) != n or len(hover) != n:
        raise ValueError(
            f"coords must be (n, 2) with n labels each, got {xy.shape}, {len(langs)}, {len(ids)}, {len(hover)}"
        )
    langs_a, ids_a = np.asarray(langs, dtype=object), np.asarray(ids, dtype=object)
    text = np.asarray(
        [f"{inert(lang)} · {inert(i, 40)}<br>{inert(h, 100)}" for lang, i, h in zip(langs, ids, hover)],
        dtype=object,
    )
    fig = go.Figure()
    if join:
        xs: list[float | None] = []
        ys: list[float | None] = []
        groups: dict[str, list[int]] = {}
        for row, i in enumerate(ids_a):
            groups.setdefault(i, []).append(row)
        for rows in groups.values():
            if len(rows) > 1:
                xs += [*xy[rows, 0], None]
                ys += [*xy[rows, 1], None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name="same id",
                hoverinfo="skip",
                line=dict(color="rgba(120,120,120,0.35)", width=1),
            )
        )
    for i, lang in enumerate(sorted(set(langs))):
        sel = langs_a == lang
        fig.add_trace(
            go.Scatter(
                x=xy[sel, 0],
                y=xy[sel, 1],
                mode="markers",
                name=inert(lang),
                text=list(text[sel]),
                hovertemplate="%{text}<extra></extra>",
                marker=dict(size=7, opacity=0.85, color=LANGUAGE_COLOURS[i % len(LANGUAGE_COLOURS)]),
            )
        )
    if highlight is not None:
        mask = np.asarray(highlight, dtype=bool)
        if mask.shape != (n,):
            raise ValueError(f"highlight must be a mask of {n} points, got shape {mask.shape}")
        fig.add_trace(
            go.Scatter(
                x=xy[mask, 0],
                y=xy[mask, 1],
                mode="markers",
                name="search matches",
                text=list(text[mask]),
                hovertemplate="%{text}<extra></extra>",
                marker=dict(size=16, symbol="circle-open", color="black", line=dict(width=2)),
            )
        )
    fig.update_layout(
        xaxis=dict(showticklabels=False, title=""),
        yaxis=dict(showticklabels=False, title=""),
    )
    return _layout(fig, title, 620)
