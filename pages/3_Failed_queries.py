"""Failed queries: every query whose gold rank is beyond k, one opened in detail, and consistency."""

from __future__ import annotations

import streamlit as st

from xlr.dashboard import nav, resources, safe, translation_view, ui, url, views

ctx = ui.context()
corpus = ctx.data.corpus
st.title("Failed queries")
with ui.guard():
    results = ui.complete_evaluation(ctx)
ss = st.session_state
url.from_url("model", "fq.model", url.parse_choice(ctx.models))
url.from_url("direction", "fq.direction", lambda v: v if v in [x.label for x in ctx.spec.directions] else None)
url.from_url("at_k", "fq.k", url.parse_choice(ctx.spec.ks), default=ctx.spec.ks[0])
url.from_url("sort", "fq.sort", url.parse_choice(["gold rank", "score gap"]), default="gold rank")
c1, c2, c3, c4 = st.columns(4)
model = c1.selectbox("Encoder", ctx.models, key="fq.model")
label = c2.selectbox("Direction", [d.label for d in ctx.spec.directions], key="fq.direction")
k = c3.selectbox("Failed = gold rank beyond k", ctx.spec.ks, key="fq.k")
order = c4.radio("Sort by", ["gold rank", "score gap"], key="fq.sort", horizontal=True)
result = next(r for r in results if r.model == model and r.direction.label == label)
dv = ui.direction_vectors(ctx, model, result.direction)
failed = views.failed_queries(result, dv.queries, dv.pool, int(k), corpus)
failed = failed.sort_values("gold_rank" if order == "gold rank" else "gap", ascending=False, kind="stable")
st.subheader(f"{len(failed)} of {result.n_queries} queries fail at k = {k}")
translations = translation_view.pick_translations(corpus, result.direction, resources.embedding_cache().root)
if translations:
    failed = views.with_translations(failed, {i: t.translation for i, t in translations.items()})
NAMES = {
    "id": "id",
    "query_text": "query",
    "translation": "translation",
    "gold_rank": "gold rank",
    "gold_score": "gold score",
    "top1_id": "top-1 id",
    "top1_text": "top-1 document",
    "top1_score": "top-1 score",
    "gap": "score gap (top-1 − gold)",
}
st.dataframe(
    failed.drop(columns="query").rename(columns=NAMES),
    hide_index=True,
    key="fq.table",
    column_config={NAMES[c]: st.column_config.NumberColumn(format="%.3f") for c in ("gold_score", "top1_score", "gap")},
)
if translations:
    translation_view.translation_downloads(st, translations, result.direction)
opened = ""
if len(failed):
    choices = {int(q): f"{i} (rank {r})" for q, i, r in zip(failed["query"], failed["id"], failed["gold_rank"])}
    by_id = {str(i): int(q) for q, i in zip(failed["query"], failed["id"])}
    url.from_url("query", "fq.open", by_id.get)
    if ss.get("fq.open") not in choices:
        ss.pop("fq.open", None)
    query = st.selectbox("Open a failed query", list(choices), format_func=choices.get, key="fq.open")
    opened = str(result.query_ids[query])
    qdoc = corpus.documents[int(result.query_positions[query])]
    gdoc = corpus.documents[int(result.pool_positions[result.gold[query]])]
    st.markdown(
        f"**Query** ({ui.literal(qdoc.lang)}, id {ui.literal(qdoc.id)}); the gold is ranked "
        f"**{int(result.ranks[query])}** of {result.pool_positions.size}"
    )
    st.text(f"{qdoc.title}\n{qdoc.text}" if qdoc.title else qdoc.text)
    translation_view.show_translation(translations, opened)
    row = int(query)  # failed-query index = heatmap row (both in the direction's id order)
    l1, l2 = st.columns(2)
    nav.link(
        l1,
        "heatmap",
        f"Open its heatmap row ({row})",
        url.link(model=model, source=result.direction.source, target=result.direction.target, row=row),
    )
    nav.link(
        l2,
        "search",
        "Search this query (ad-hoc)",
        url.link(q=qdoc.text[:1500], langs=result.direction.target, qlang=qdoc.lang),
    )
    st.markdown(f"**Gold document** ({ui.literal(gdoc.lang)})")
    st.text(f"{gdoc.title}\n{gdoc.text}" if gdoc.title else gdoc.text)
    st.markdown(f"**Top {max(ctx.spec.ks)} candidates**")
    cand = views.candidates(result, query, dv.queries, dv.pool, max(ctx.spec.ks), corpus)
    safe.table(
        cand.assign(
            score=cand["score"].map("{:.3f}".format),
            text=cand["text"].map(views.snippet),
        ).set_index("rank")
    )
url.url_params(
    model=("fq.model", model),
    direction=("fq.direction", label),
    at_k=("fq.k", k, ctx.spec.ks[0]),
    sort=("fq.sort", order, "gold rank"),
    query=("fq.open", opened),
)
st.subheader("Same id, other source languages")
same = [r for r in results if r.model == model and r.direction.target == result.direction.target]
table = views.consistency(same, int(k))
if len(same) < 2 or int(table["evaluated"].max()) < 2:
    st.caption(
        ui.literal(f"Only one source language reaches {result.direction.target} per id here: nothing to compare.")
    )
else:
    fails = table[table["failing"] > 0]
    counts = fails["pattern"].value_counts()
    st.caption(
        f"Of {len(fails)} ids failing somewhere: {int(counts.get('every source', 0))} fail from every "
        f"source language, {int(counts.get('some sources', 0))} only from some."
    )
    st.dataframe(fails, hide_index=True, key="fq.consistency")
ui.flush_url()  # the URL is written once per run (ui.stop writes it too): one browser history entry per view
