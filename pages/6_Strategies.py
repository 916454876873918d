"""Strategies: does a scoring rule, post-processing, input variant or fusion beat the baseline, per direction?

Thin page: the sidebar's data set, encoders and directions (``xlr.dashboard.ui.context``), a few
widgets, the encoding as background jobs (``ui.prepare_strategies``), then one
``xlr.strategies.runner.run_strategies`` call on demand, and its table
(``xlr.report.strategy_table``); encoders, the embedding cache and the lock come from
``xlr.dashboard.resources`` like every page's. The first encoder is the baseline; several enable fusion.
Chat strategies (translate-test, generate-title) come from ``xlr.dashboard.chat_view``.
"""

from __future__ import annotations

import re

import streamlit as st

from xlr.dashboard import chat_view, costs, resources, ui, url
from xlr.report.strategy_table import (
    strategies_json,
    strategies_markdown,
    strategies_table,
)
from xlr.strategies.runner import run_strategies
from xlr.strategies.spec import Strategy, default_strategies
from xlr.strategies.split import Split, plan_split

ctx = ui.context()
corpus, directions, models = ctx.data.corpus, ctx.spec.directions, list(ctx.models)
st.title("Strategies")
st.caption(
    "Each strategy is compared with the baseline (cosine over the first encoder) on the same queries: "
    "paired bootstrap 95% interval of the difference, McNemar (recall@1) or permutation (MRR) test, "
    "Holm across directions. Verdict YES = improves at least one direction significantly and degrades none."
)

ss = st.session_state
url.from_url("strat_k", "strat.k", url.parse_range(1, 100), default=10)
ss.setdefault("strat.k", 10)
scoring_k = st.number_input("CSLS / margin neighbourhood k", min_value=1, max_value=100, key="strat.k")
choices = {s.name: s for s in default_strategies(corpus, models, int(scoring_k))}
url.from_url("strategies", "strat.pick", url.parse_list(list(choices)), default=list(choices))
_renamed = [
    p if p in choices else re.sub(r"\(k=\d+\)", f"(k={int(scoring_k)})", p) for p in ss.get("strat.pick", list(choices))
]
ss["strat.pick"] = [p for p in dict.fromkeys(_renamed) if p in choices]  # csls(k=10) is csls(k=5) once k changes
picked = st.multiselect(
    "Strategies",
    list(choices),
    key="strat.pick",
    help="Several encoders in the sidebar add each one alone, RRF and z-score fusion.",
)
with ui.guard():
    sizes = [len(corpus.linked_ids(d.source, d.target)) for d in directions]
    default_n = ctx.spec.first if ctx.spec.first and ctx.spec.first < min(sizes) else max(1, min(sizes) // 2)
ALPHAS, RESAMPLES = [0.01, 0.05, 0.1], [1000, 2000, 5000, 10000]
url.from_url("strat_first", "strat.first", url.parse_range(1, max(sizes)), default=default_n)
url.from_url("alpha", "strat.alpha", url.parse_choice(ALPHAS), default=0.05)
url.from_url("resamples", "strat.resamples", url.parse_choice(RESAMPLES), default=2000)
ss.setdefault("strat.first", default_n)
ss["strat.first"] = min(int(ss["strat.first"]), max(sizes))
c1, c2, c3 = st.columns(3)
first = c1.number_input(
    "Evaluate the first N linked ids",
    min_value=1,
    max_value=max(sizes),
    key="strat.first",
    help="The other ids fit centering and Procrustes (never an evaluated id).",
)
ss.setdefault("strat.alpha", 0.05)
ss.setdefault("strat.resamples", 2000)
alpha = c2.select_slider("alpha (after Holm)", ALPHAS, key="strat.alpha")
resamples = c3.select_slider("Resamples", RESAMPLES, key="strat.resamples")
url.url_params(
    strat_k=("strat.k", int(scoring_k), 10),
    strategies=("strat.pick", picked or "none", list(choices)),  # "none": no strategy (empty would mean all)
    strat_first=("strat.first", int(first), default_n),
    alpha=("strat.alpha", alpha, 0.05),
    resamples=("strat.resamples", resamples, 2000),
)
with ui.guard():
    plan = plan_split(corpus, directions, Split(first=int(first)))
st.caption(ui.literal(plan.description))
with ui.guard():
    chat_pick = chat_view.chat_choice(
        corpus,
        plan,
        models,
        resources.embedding_cache(),
        lambda c: costs.chat_encoding_cost(ctx, plan, c.retriever, c.kinds, c.title_match),
    )

params = (
    ctx.dkey,
    tuple(map(ctx.key, models)),  # name, device, precision
    tuple(d.label for d in directions),
    tuple(picked),
    int(first),
    int(scoring_k),
    float(alpha),
    int(resamples),
    chat_pick.key if chat_pick else (),
)
chosen = [choices[p] for p in picked]
cost = costs.strategy_cost(ctx, models, plan, chosen)
st.caption(ui.literal(cost))
if st.button("Run the strategies", type="primary", key="strat.run", disabled=not picked and chat_pick is None):
    st.session_state["strat.requested"] = params
if st.session_state.get("strat.requested") == params:
    costs.prepare_strategies(
        ctx, models, plan, chosen
    )  # encodes in the background first; the page waits, nothing else does
    del st.session_state["strat.requested"]
    cancel_slot = st.empty()  # emptied when the run ends: the button must not outlive the run
    cancel_slot.button(
        "Cancel the run", key="strat.cancel", help="Stops at the next encoded batch; cached texts are kept."
    )
    bar = st.progress(0.0)

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"encoding {done} of {total} texts")

    with (
        ui.guard(),
        resources.named_lock(f"strategies:{ctx.dkey}:{','.join(map(ctx.key, models))}"),
        st.spinner("Running the chosen strategies (a fitting one encodes the other ids too, once)…"),
    ):
        report = run_strategies(
            corpus,
            [resources.encoder(ctx.key(m)) for m in models],  # the models every page shares
            [choices[p] for p in picked],
            directions=directions,
            split=plan.split,
            cache=resources.embedding_cache(),
            baseline=Strategy(),
            random_state=0,
            alpha=float(alpha),
            n_resamples=int(resamples),
            progress=progress,
        )
        if chat_pick is not None:  # translate-test / generate-title, confirmed in the expander above
            report = chat_view.add_chat_runs(
                chat_pick,
                report,
                corpus,
                plan,
                lambda m: resources.encoder(ctx.key(m)),
                resources.embedding_cache(),
                alpha=float(alpha),
                n_resamples=int(resamples),
            )
    bar.empty()
    cancel_slot.empty()
    st.session_state["strat.report"] = (params, report)

stored = st.session_state.get("strat.report")
if stored is None or stored[0] != params:
    st.info("Choose strategies and press *Run the strategies*.")
    ui.stop()
report = stored[1]
# "n" is blank in verdict rows: as text, the column is one Arrow type (mixed, Streamlit logged a traceback)
st.dataframe(strategies_table(report).astype({"n": str}), hide_index=True, key="strat.table")
for run, comp in zip(report.runs, report.comparisons):
    v = comp.verdicts[0]
    (st.success if v.ok else st.caption)(ui.literal(f"{run.strategy.name}: {'YES' if v.ok else 'NO'}. {v.sentence}"))
left, right = st.columns(2)
left.download_button(
    "Download markdown",
    strategies_markdown(report),
    file_name=f"strategies-{corpus.name}.md",
    mime="text/markdown",
    key="strat.md",
    on_click="ignore",
)
right.download_button(
    "Download JSON",
    strategies_json(report, ctx.data),
    file_name=f"strategies-{corpus.name}.json",
    mime="application/json",
    key="strat.json",
    on_click="ignore",
)
ui.flush_url()  # the URL is written once per run (ui.stop writes it too): one browser history entry per view
