"""The mixed-language pool as a chart: where each source language's top-1 lands, per encoder."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from xlr.report.figures import _layout, inert

__all__ = ["mixed_pool_bars"]

_PARTS = (
    ("top-1 target", "target language (right)", "#117733"),
    ("top-1 own language", "own language (same-language bias)", "#CC6677"),
    ("top-1 other language", "another language", "#DDCC77"),
)


def mixed_pool_bars(table: pd.DataFrame) -> go.Figure:
    """Stacked bars, one per (encoder, source language), of the shares of queries whose top-1 is in the
    target language, in their own language, or in another language (they sum to 1).

    ``table``: :func:`xlr.retrieval.mixed_pool.mixed_pool_table` rows (``model``, ``source`` and the three
    ``top-1 …`` columns); a missing column raises ``ValueError``.
    """
    missing = [c for c in ("model", "source", *(p[0] for p in _PARTS)) if c not in table.columns]
    if missing:
        raise ValueError(f"mixed-pool table lacks {', '.join(missing)}")
    x = [table["model"].map(inert).tolist(), table["source"].map(inert).tolist()]
    fig = go.Figure()
    for column, name, colour in _PARTS:
        fig.add_trace(
            go.Bar(
                x=x,
                y=table[column],
                name=name,
                marker_color=colour,
                hovertemplate=f"%{{x}}<br>{name}: %{{y:.3f}}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack", yaxis=dict(title="share of queries", range=[0, 1]))
    return _layout(fig, "Mixed pool: where the top-1 lands, per encoder and source language", 380)
