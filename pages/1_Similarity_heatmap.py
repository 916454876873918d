"""Similarity heatmap: query x candidate cosines of a window of linked pairs, hubs flagged."""

from __future__ import annotations

import numpy as np
import streamlit as st

from xlr.dashboard import nav, safe, settings_view, ui, url, views
from xlr.report import figures
from xlr.retrieval.directions import Direction

ctx = ui.context()
corpus = ctx.data.corpus
st.title("Similarity heatmap")
settings_view.float32_note(ctx.settings)
st.caption(
    "Rows are queries, columns candidates, both in gold order: the diagonal holds the linked pairs. "
    "× marks each row's best candidate in the window; ★ marks hubs, candidates that are the top-1 of "
    "many queries of the whole direction (first N ids): a sign of hubness, which CSLS and margin scoring "
    "(Strategies page) discount."
)


def label(pos: int) -> str:
    doc = corpus.documents[int(pos)]
    return doc.title or doc.text


def tick(pos: int) -> str:
    """A distinct axis label: id and language, then the title or the text's start (titles repeat)."""
    doc = corpus.documents[int(pos)]
    return f"{doc.id} {doc.lang} · {views.snippet(doc.title or doc.text, 28)}"


def hover(pos: int) -> str:
    """What the hover shows of a document: id, language, title and its text."""
    doc = corpus.documents[int(pos)]
    head = f"{doc.id} ({doc.lang})" + (f" · {doc.title}" if doc.title else "")
    return f"{head}: {views.snippet(doc.text, 160)}"


first = ctx.spec.directions[0]
ss = st.session_state
# a link (failed query -> its row, a hub's query), Back/Forward or a pasted URL sets the widgets
url.from_url("model", "hm.model", url.parse_choice(ctx.models))
url.from_url("source", "hm.source", url.parse_choice(corpus.languages))
url.from_url("target", "hm.target", url.parse_choice(corpus.languages))
url.from_url("row", "hm.start", url.parse_nonnegative)
url.from_url("size", "hm.size", url.parse_nonnegative, default=20)
url.from_url("hub", "hm.hub_min", url.parse_nonnegative, default=3)
url.from_url("find", "hm.find", default="")
ss.setdefault("hm.source", first.source)
c1, c2, c3 = st.columns(3)
model = c1.selectbox("Encoder", ctx.models, key="hm.model")
source = c2.selectbox("Source (queries)", corpus.languages, key="hm.source")
targets = [lang for lang in corpus.languages if lang != source]
if ss.get("hm.target") not in targets:
    ss["hm.target"] = first.target if first.target in targets else targets[0]
target = c3.selectbox("Target (candidates)", targets, key="hm.target")
with ui.guard():
    dv = ui.direction_vectors(ctx, model, Direction(source, target))
n = len(dv.ids)


def _to_match() -> None:
    """Find moves the window: the First-row box follows the chosen match."""
    ss["hm.start"] = int(ss["hm.match"])


ss["hm.start"] = min(int(ss.get("hm.start", 0)), n - 1)
size_max = max(2, min(60, n))
ss["hm.size"] = min(max(int(ss.get("hm.size", 20)), 1), size_max)
ss["hm.hub_min"] = min(max(int(ss.get("hm.hub_min", 3)), 2), 1000)
c4, c5, c6 = st.columns(3)
size = c4.slider("Window size", 1, size_max, key="hm.size")
hub_min = c6.number_input("Hub: top-1 of at least", 2, 1000, key="hm.hub_min")
needle = st.text_input("Find a title, id or text (moves the window to it)", key="hm.find")
if needle.strip():
    hits = np.flatnonzero(
        views.find_documents(corpus, dv.query_positions, needle)
        | views.find_documents(corpus, dv.pool_positions, needle)
    )
    if hits.size == 0:
        st.info("No document of this direction matches.")
    else:
        found = {int(h): f"{dv.ids[h]} · {views.snippet(label(dv.query_positions[h]), 60)}" for h in hits[:200]}
        if ss.get("hm.match") not in found:
            ss["hm.match"] = next(iter(found))
            ss["hm.start"] = ss["hm.match"]
        st.selectbox(f"{hits.size} matches", list(found), format_func=found.get, key="hm.match", on_change=_to_match)
start = c5.number_input(f"First row (0 – {n - 1})", 0, n - 1, key="hm.start")
url.url_params(
    model=("hm.model", model),
    source=("hm.source", source),
    target=("hm.target", target),
    row=("hm.start", int(start)),
    size=("hm.size", int(size), 20),
    hub=("hm.hub_min", int(hub_min), 3),
    find=("hm.find", needle),
)
matrix = views.similarity_window(dv.queries, dv.pool, int(start), int(size))
rows = list(range(int(start), int(start) + matrix.shape[0]))
top1 = ui.direction_top1(ctx, model, Direction(source, target))  # cached: not recomputed on every rerun
counts = views.hub_counts(top1, n)
qpos, ppos = dv.query_positions[rows], dv.pool_positions[rows]
fig = figures.similarity_heatmap(
    matrix,
    [tick(p) for p in qpos],
    [tick(p) for p in ppos],
    [hover(p) for p in qpos],
    [hover(p) for p in ppos],
    hub_counts=counts[rows],
    hub_min=int(hub_min),
    title=f"{model}: {source} → {target}",
)
st.plotly_chart(fig, key="hm.figure")
best_is_gold = int((matrix.argmax(axis=1) == np.arange(matrix.shape[0])).sum())
st.caption(
    f"{matrix.shape[0]} linked pairs from row {rows[0]}: mean diagonal cosine {np.diag(matrix).mean():.3f}, "
    f"{best_is_gold} rows have their gold as best in the window. Hubness of the direction (skew of the "
    f"top-1 counts): {views.hubness_skew(counts):.2f}."
)
hubs = np.flatnonzero(counts >= hub_min)
if hubs.size:
    order = hubs[np.argsort(-counts[hubs], kind="stable")]
    st.subheader(f"Hubs: top-1 of {hub_min} or more queries")
    hub_docs = [corpus.documents[int(dv.pool_positions[j])] for j in order]
    hub_rows = {
        "id": [dv.ids[j] for j in order],
        "top-1 of": [int(counts[j]) for j in order],
        "title": [d.title for d in hub_docs],
        "text": [views.snippet(d.text, 160) for d in hub_docs],  # the paragraph itself, not its title
    }
    if not any(hub_rows["title"]):
        del hub_rows["title"]
    safe.table(hub_rows, hide_index=True)
    by_id = {dv.ids[j]: int(j) for j in order}
    url.from_url("hub_id", "hm.hub", by_id.get)
    if ss.get("hm.hub") not in by_id.values():  # another direction's or window's hub
        ss.pop("hm.hub", None)
    hub = st.selectbox(
        "Queries captured by a hub",
        [int(j) for j in order],
        format_func=lambda j: f"{dv.ids[j]} (top-1 of {int(counts[j])})",
        key="hm.hub",
    )
    url.url_params(hub_id=("hm.hub", dv.ids[hub], dv.ids[int(order[0])]))
    captured = np.flatnonzero(top1 == hub)
    st.caption(ui.literal(f"Queries whose top-1 is {dv.ids[hub]}; open one in the heatmap or in ad-hoc search:"))
    for q in captured[:20]:
        c_a, c_b = st.columns([1, 1])
        qdoc = corpus.documents[int(dv.query_positions[q])]
        nav.link(
            c_a,
            "heatmap",
            ui.literal(f"row {int(q)}: {views.snippet(label(dv.query_positions[q]), 60)}"),
            url.link(model=model, source=source, target=target, row=int(q), hub=int(hub_min), size=int(size)),
        )
        nav.link(c_b, "search", "search this query", url.link(q=qdoc.text[:1500], langs=target, qlang=qdoc.lang))
else:
    st.caption(f"No candidate is the top-1 of {hub_min} or more queries.")
ui.flush_url()  # the URL is written once per run (ui.stop writes it too): one browser history entry per view
