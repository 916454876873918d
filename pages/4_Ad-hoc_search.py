"""Ad-hoc search: type a query in any language, see the top-k documents per encoder, side by side."""

from __future__ import annotations

import streamlit as st

from xlr.dashboard import costs, safe, settings_view, ui, url, views
from xlr.dashboard.jobs import Job
from xlr.encoders.catalogue import unsupported

ctx = ui.context()
ss = st.session_state
st.title("Ad-hoc search")
settings_view.float32_note(ctx.settings)
corpus = ctx.data.corpus
linked = (st.query_params.get("q"), st.query_params.get("qlang"))  # a link's query and its language
url.from_url("q", "search.text")  # pre-filled from a failed query or a hub
url.from_url("langs", "search.langs", url.parse_list(corpus.languages))
url.from_url("encoders", "search.models", url.parse_list(ctx.models))
url.from_url("top", "search.k", url.parse_range(1, 100), default=10)
url.from_url("whole", "search.whole", url.parse_flag)
ss.setdefault("search.langs", ["en"] if "en" in corpus.languages else list(corpus.languages[:1]))
ss.setdefault("search.models", list(ctx.models))
ss.setdefault("search.k", 10)
ss["search.models"] = [m for m in ss["search.models"] if m in ctx.models] or list(ctx.models)
if "search.whole" not in ss:  # the whole corpus only when it is already encoded: else the selection
    with ui.guard():
        ss["search.whole"] = all(
            costs.pool_cost(ctx, m, ss["search.langs"], True).texts == 0 for m in ss["search.models"]
        )
with st.form("search.form"):
    text = st.text_area("Query (any language)", key="search.text", height=90)
    c1, c2, c3, c4 = st.columns([2, 2, 1, 2])
    models = c1.multiselect("Encoders", ctx.models, key="search.models")
    langs = c2.multiselect("Search in", corpus.languages, key="search.langs")
    k = c3.number_input("k", 1, 100, key="search.k")
    whole = c4.toggle(
        "Whole corpus",
        key="search.whole",
        help="On: every document of the chosen languages (encoded once, its cost is shown first). "
        "Off: only the ids of the sidebar's selection (what the Overview encoded).",
    )
    st.form_submit_button("Search", type="primary", key="search.go")
pool = ui.search_pool(ctx, whole)
size = sum(int(pool.positions(lang).size) for lang in langs if lang in pool.languages)
st.caption(
    ui.literal(
        f"Pool: {size} documents of {', '.join(langs) or 'no language'} from "
        + ("the whole data set." if whole else f"the {len(ctx.ids)} selected ids (sidebar: first N ids).")
    )
)
if not text.strip() or not models or not langs:
    st.info("Type a query, choose at least one encoder and one language, then press Search.")
    ui.stop()
qlang = linked[1] if linked[1] and linked[0] == text.strip()[:1500] else ""  # dropped once the text changes
url.url_params(
    qlang=("search.qlang", qlang),
    q=("search.text", text.strip()[:1500]),
    langs=("search.langs", langs),
    encoders=("search.models", models),
    top=("search.k", int(k), 10),
    whole=("search.whole", bool(whole)),
)
with ui.guard():
    estimates = [costs.pool_cost(ctx, m, langs, whole) for m in models]
todo = [e for e in estimates if e.texts]
pool_key = (ctx.dkey, bool(whole), tuple(langs), tuple(models))
if todo and ss.get("search.confirmed") != pool_key:
    st.warning(
        ui.literal(
            "Searching this pool encodes it first (once; cached afterwards): "
            + "; ".join(e.sentence().replace(ctx.key(m), m, 1) for e, m in zip(estimates, models) if e.texts)
            + "."
            + ("" if whole else "")
        )
    )
    st.button(
        f"Encode the pool ({sum(e.texts for e in todo)} texts) and search",
        key="search.confirm",
        on_click=lambda: ss.__setitem__("search.confirmed", pool_key),
    )
    if whole:
        st.caption("Or turn *Whole corpus* off to search the sidebar's selection only.")
    ui.stop()
st.caption("Results for the query")
st.text(text.strip())
for model in models:
    lacking = unsupported(model, [x for x in (qlang, *langs) if x])
    if lacking:
        st.warning(
            ui.literal(
                f"⚠ {model} was not trained on {', '.join(lacking)} (model card): its results"
                + (f" for a {qlang} query" if qlang in lacking else "")
                + " may be unrelated."
            )
        )
# side by side (columns stack on a narrow screen); tabs beyond three encoders
tabs = safe.tabs(models) if len(models) > 3 else st.columns(len(models)) if len(models) > 1 else [st.container()]
pending: list[Job] = []
for tab, model in zip(tabs, models):
    with tab:
        with ui.guard():
            res = ui.run_search(ctx, model, text, langs, int(k), whole=whole)
        if isinstance(res, Job):
            pending.append(res)
            st.caption(ui.literal(f"{model}: encoding the pool first…"))
            continue
        st.caption(ui.literal(f"{model}: {res.seconds * 1000:.1f} ms (query encoding + search)"))
        hits = {
            "rank": [h.rank for h in res.hits],
            "score": [f"{h.score:.3f}" for h in res.hits],
            "lang": [h.document.lang for h in res.hits],
            "id": [h.document.id for h in res.hits],
            "title": [h.document.title for h in res.hits],
            "text": [views.snippet(h.document.text, 160 if len(models) == 1 else 90) for h in res.hits],
        }
        if not any(hits["title"]):
            del hits["title"]
        safe.table(hits, hide_index=True)
        with st.expander("Full texts"):
            for h in res.hits:
                st.markdown(f"**{h.rank}.** {ui.literal(h.document.lang)} · {ui.literal(h.document.id)}")
                st.text(f"{h.document.title}\n{h.document.text}" if h.document.title else h.document.text)
ui.show_jobs(pending)
ui.flush_url()  # the URL is written once per run (ui.stop writes it too): one browser history entry per view
