"""The Overview's mixed-language pool: every language's documents at once (same-language bias).

Values formatted (3 decimals) with the 95 % bootstrap interval of recall@1, ⚠ where an encoder's card
lacks the source or target language, and a chart of where each source language's top-1 lands (own,
other, target language) per encoder. Reached from the ceiling warning: when single pools are at 1.000
the mixed pool is what separates the encoders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from xlr.dashboard import resources as res
from xlr.dashboard import ui, url
from xlr.dashboard.state import Context, DataKey
from xlr.encoders.catalogue import unsupported
from xlr.report.figures_mixed import mixed_pool_bars
from xlr.retrieval.directions import Direction
from xlr.retrieval.metrics import per_query
from xlr.retrieval.mixed_pool import GOLD_MODES, MixedPoolResult, mixed_pool, mixed_pool_table
from xlr.stats.significance import paired_bootstrap

__all__ = ["TITLE", "render"]

TITLE = "Mixed-language pool: every language's documents at once (same-language bias)"


@st.cache_data(show_spinner="Ranking the mixed pools…", max_entries=16)
def _mixed(
    dkey: DataKey, key: str, model: str, pairs: tuple[tuple[str, str], ...], first: int | None, gold: str
) -> pd.DataFrame:
    corpus, emb = res.dataset(*dkey).corpus, res.embeddings(dkey, key)
    with res.lock_of(emb):
        out: list[MixedPoolResult] = [
            mixed_pool(corpus, emb.vectors, Direction(s, t), first=first, gold=gold, model=model) for s, t in pairs
        ]
    table = mixed_pool_table(out, (1, 10))
    intervals = []
    for r in out:
        lo, hi = paired_bootstrap(np.zeros(r.ranks.size), per_query(r.ranks, "recall@1"), random_state=0)
        intervals.append(f"[{lo:.3f}, {hi:.3f}]")
    flags = [",".join(unsupported(model, (r.direction.source, r.direction.target))) for r in out]
    table.insert(table.columns.get_loc("recall@1") + 1, "recall@1 95% interval", intervals)
    return table.assign(**{"⚠ not on the card": [f"⚠ no {f}" if f else "" for f in flags]})


def render(ctx: Context, expanded: bool = False) -> None:
    """The mixed-pool expander (open when ``expanded``: the ceiling warning points here, or when a link
    asks for the evaluated view: ``mixed=1``, ``mixed_gold=any``)."""
    url.from_url("mixed", "ov.mixed", url.parse_flag, default=False)
    url.from_url("mixed_gold", "ov.mixed_gold", url.parse_choice(GOLD_MODES), default=GOLD_MODES[0])
    with st.expander(TITLE, expanded=expanded or bool(st.session_state.get("ov.mixed"))):
        st.caption(
            "Each source language is searched against all documents of the first N linked ids in every language "
            "(the query itself left out). Top-1 own language = the same-language bias."
        )
        gold = st.radio(
            "Gold",
            GOLD_MODES,
            key="ov.mixed_gold",
            horizontal=True,
            format_func={"target": "the target-language document", "any": "any linked document"}.get,
        )
        on = st.toggle("Evaluate the mixed pool", key="ov.mixed")
        url.url_params(mixed=("ov.mixed", on, False), mixed_gold=("ov.mixed_gold", gold, GOLD_MODES[0]))
        if not on:
            return
        corpus = ctx.data.corpus
        pairs = tuple((d.source, d.target) for d in ctx.spec.directions)
        tables, jobs = [], []
        for model in ctx.models:
            ids = ctx.ids
            pos = np.asarray([i for i, d in enumerate(corpus.documents) if d.id in set(ids)], dtype=np.int64)
            qpos = np.concatenate([corpus.positions(s) for s, _ in pairs])
            key = ctx.key(model)
            job = ui.prepare(ctx.dkey, key, [(pos, "document"), (qpos[np.isin(qpos, pos)], "query")])
            if job is not None:
                jobs.append(job)
                continue
            tables.append(_mixed(ctx.dkey, key, model, pairs, ctx.spec.first, gold))
        ui.show_jobs(jobs)
        if tables:
            table = pd.concat(tables, ignore_index=True)
            numbers = [c for c in table.columns if table[c].dtype.kind == "f"]
            st.dataframe(
                table,
                hide_index=True,
                key="ov.mixed_table",
                column_config={c: st.column_config.NumberColumn(format="%.3f") for c in numbers},
                height=min(36 * (len(table) + 1) + 4, 560),
            )
            st.plotly_chart(mixed_pool_bars(table), key="ov.mixed_chart")
