"""Embedding map: documents of the chosen languages in 2-D (UMAP or PCA), coloured by language."""

from __future__ import annotations

import numpy as np
import streamlit as st

from xlr.dashboard import map_view, settings_view, ui, url, views
from xlr.report import figures

ctx = ui.context()
st.title("Embedding map")
settings_view.float32_note(ctx.settings, "maps")
sub = ui.working_corpus(ctx)
langs_in = sorted({lang for d in ctx.spec.directions for lang in (d.source, d.target)})
url.from_url("model", "map.model", url.parse_choice(ctx.models))
url.from_url("langs", "map.langs", url.parse_list(sub.languages))
url.from_url("method", "map.method", url.parse_choice(["pca", "umap"]), default="pca")
url.from_url("join", "map.join", url.parse_flag, default=True)
url.from_url("find", "map.find", default="")
ss = st.session_state
ss.setdefault("map.join", True)
if "map.langs" not in ss:
    ss["map.langs"] = [lang for lang in langs_in if lang in sub.languages]
c1, c2, c3 = st.columns([1, 2, 1])
model = c1.selectbox("Encoder", ctx.models, key="map.model")
langs = c2.multiselect("Languages", sub.languages, key="map.langs")
method = c3.radio(
    "Projection",
    ["pca", "umap"],  # PCA first: instant; a first UMAP takes a minute on 2 cores (cached afterwards)
    key="map.method",
    horizontal=True,
    format_func={"umap": "UMAP (slow the first time)", "pca": "PCA (fast)"}.get,
)
join = st.checkbox("Join documents that share an id", key="map.join")
needle = st.text_input("Highlight: title, id or text contains", key="map.find")
url.url_params(
    model=("map.model", model),
    langs=("map.langs", langs),
    method=("map.method", method, "pca"),
    join=("map.join", join, True),
    find=("map.find", needle),
)
if not langs:
    st.info("Choose at least one language.")
    ui.stop()
positions = np.sort(np.concatenate([sub.positions(lang) for lang in langs]))
st.caption(
    f"{positions.size} documents of the {len(ctx.ids)} selected ids; "
    + (
        "UMAP uses random_state=0 and is cached on disk per encoder and selection."
        if method == "umap"
        else "PCA: the two directions of largest variance (deterministic)."
    )
)
with ui.guard():
    coords = map_view.projection(ctx, model, positions, method)
docs = [sub.documents[int(p)] for p in positions]
mask = views.find_documents(sub, positions, needle) if needle.strip() else None
if mask is not None:
    st.caption(f"{int(mask.sum())} documents match.")
fig = figures.embedding_map(
    coords,
    [d.lang for d in docs],
    [d.id for d in docs],
    [f"{d.title} | {d.text}" if d.title else d.text for d in docs],
    highlight=mask,
    join=join,
    title=f"{model}: {method.upper()} of {', '.join(langs)}",
)
st.plotly_chart(fig, key="map.figure")
ui.flush_url()  # the URL is written once per run (ui.stop writes it too): one browser history entry per view
