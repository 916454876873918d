"""Ad-hoc search: type a query in any language, see the top-k documents per encoder."""

from __future__ import annotations

import streamlit as st

from xlr.dashboard import ui

ctx = ui.context()
st.title("Ad-hoc search")
sub = ui.working_corpus(ctx)
st.caption(f"Searches the {len(sub)} documents of the {len(ctx.ids)} selected ids (sidebar: first N ids).")
with st.form("search.form"):
    text = st.text_area("Query (any language)", key="search.text", height=90)
    c1, c2, c3 = st.columns([2, 2, 1])
    models = c1.multiselect("Encoders", ctx.models, default=list(ctx.models), key="search.models")
    default = ["en"] if "en" in sub.languages else list(sub.languages[:1])
    langs = c2.multiselect("Search in", sub.languages, default=default, key="search.langs")
    k = c3.number_input("k", 1, 100, 10, key="search.k")
    st.form_submit_button("Search", type="primary", key="search.go")
if not text.strip() or not models or not langs:
    st.info("Type a query, choose at least one encoder and one language, then press Search.")
    st.stop()
st.caption("Results for the query")
st.text(text.strip())
for column, model in zip(st.columns(len(models)), models):
    with column:
        st.subheader(model)
        with ui.guard():
            res = ui.run_search(ctx, model, text, langs, int(k))
        st.caption(f"{res.seconds * 1000:.1f} ms (query encoding + search)")
        hits = {
            "rank": [h.rank for h in res.hits],
            "score": [f"{h.score:.3f}" for h in res.hits],
            "lang": [h.document.lang for h in res.hits],
            "id": [h.document.id for h in res.hits],
            "title": [h.document.title for h in res.hits],
            "text": [h.document.text for h in res.hits],
        }
        if not any(hits["title"]):
            del hits["title"]
        st.table(hits, hide_index=True)
