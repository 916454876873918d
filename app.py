"""xlr dashboard: ``streamlit run app.py``.

This script routes every page: it draws the shared sidebar (data set, encoders, k,
directions, first N ids; see ``xlr.ui``), then runs the chosen page. Its own page is
the Overview: the recall@k / MRR table (the CLI's numbers), bar charts, a source x
target heatmap and CSV/JSON downloads in the CLI's format. The other pages are the
files in ``pages/`` (sorted by name; a new file there becomes a page).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from xlr.dashboard import ui
from xlr.report import figures
from xlr.report.results import build_manifest, results_json
from xlr.retrieval.evaluate import results_table, wide_table

PAGES = Path(__file__).resolve().parent / "pages"


def overview() -> None:
    ctx = ui.context()
    st.title("Overview")
    corpus = ctx.data.corpus
    st.caption(
        ui.literal(
            f"{ctx.data.name}: {len(ctx.spec.directions)} directions, first "
            f"{ctx.spec.first or 'all'} linked ids each; gold = the document with the same id; "
            "ties count against the gold."
        )
    )
    with ui.guard():
        results = ui.evaluation(ctx)
    table = results_table(results, ctx.spec.ks)
    wide = wide_table(table)
    st.dataframe(
        wide,
        hide_index=True,
        key="ov.table",
        column_config={
            c: st.column_config.NumberColumn(format="%.3f")
            for c in wide.columns
            if c.startswith("recall@") or c == "mrr"
        },
    )
    dropped = {r.direction.label: r.n_dropped for r in results if r.n_dropped}
    if dropped:
        st.caption(
            ui.literal(
                "Queries without a counterpart (left out): " + ", ".join(f"{k}: {v}" for k, v in dropped.items())
            )
        )
    runs = [(ui.embeddings(ctx, m).encoder, ui.embeddings(ctx, m).stats) for m in ctx.models]
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    c1.download_button(
        "Download CSV",
        table.to_csv(index=False),
        file_name=f"xlr-{corpus.name}.csv",
        mime="text/csv",
        key="ov.csv",
        on_click="ignore",
    )
    c2.download_button(
        "Download JSON",
        results_json(table, build_manifest(ctx.data, ctx.spec, runs, results), results),
        file_name=f"xlr-{corpus.name}.json",
        mime="application/json",
        key="ov.json",
        on_click="ignore",
    )
    metric = c3.selectbox("Metric", list(dict.fromkeys(table["metric"])), key="ov.metric")
    several = len(ctx.spec.directions) > 1
    left, right = st.columns([3, 2]) if several else (st.container(), None)
    left.plotly_chart(figures.metric_bars(table, metric), key="ov.bars")
    if right is not None:
        first_k = f"recall@{min(ctx.spec.ks)}"
        for i, model in enumerate(dict.fromkeys(table["model"])):
            right.plotly_chart(figures.direction_heatmap(table, model, first_k), key=f"ov.heat.{i}")


st.set_page_config(page_title="xlr: cross-language retrieval", layout="wide")
ui.inject_css()
nav = st.navigation(
    [
        st.Page(overview, title="Overview", default=True),
        *(st.Page(str(p)) for p in sorted(PAGES.glob("[!_]*.py"))),
    ]
)
if ui.sidebar() is None:
    st.title("xlr: cross-language retrieval")
    ui.render_no_data()
    st.stop()
with ui.guard():
    nav.run()
