"""The Overview's many-language view: language x language matrix, difference matrix, marginals,
worst directions and a paginated, searchable per-direction table; every setting in the URL.

Computation is :mod:`xlr.report.matrix` / :mod:`xlr.report.marginals`; figures are
:mod:`xlr.report.figures_matrix`; the settings and their URL form are
:mod:`xlr.dashboard.view_state`.  This module only draws.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from xlr.dashboard import ui, url
from xlr.dashboard.state import Context
from xlr.dashboard.view_state import (
    ORDERS,
    PAGE_SIZE,
    VIEW_PARAMS,
    OverviewView,
    family_of,
    find_rows,
    group_of,
    page_of,
    script_of,
    supported_by_all,
    view_from_params,
    view_params,
)
from xlr.data.languages import label
from xlr.report.figures_matrix import difference_heatmap, marginal_chart, matrix_heatmap
from xlr.report.marginals import LanguageFilter, language_marginals, worst_directions
from xlr.report.matrix import LanguageMatrix, difference_matrix, language_matrix, language_order, models_of
from xlr.retrieval.evaluate import DirectionResult, wide_table

__all__ = ["choose_view", "render", "sync", "sync_table"]

_KEYS = {
    "view": "ov.view",
    "model": "ov.model",
    "baseline": "ov.base",
    "candidate": "ov.cand",
    "order": "ov.order",
    "page": "ov.page",
    "find": "ov.find",
}


@st.cache_data(show_spinner="Language x language matrix…", max_entries=16)
def _matrix(_results: list[DirectionResult], key: tuple, model: str, metric: str, order: tuple) -> LanguageMatrix:
    return language_matrix(_results, model, metric, order=order, random_state=0)


@st.cache_data(show_spinner="Paired tests per cell (Holm across the shown cells)…", max_entries=16)
def _difference(
    _results: list[DirectionResult], key: tuple, base: str, cand: str, metric: str, cells: tuple
) -> pd.DataFrame:
    return difference_matrix(_results, base, cand, metric, cells=cells, random_state=0)


@st.cache_data(show_spinner="Per-language marginals…", max_entries=16)
def _marginals(_results: list[DirectionResult], key: tuple, model: str, metric: str, order: tuple) -> pd.DataFrame:
    return language_marginals(_results, model, metric, languages=order, random_state=0)


def _apply_link(models: list[str], languages: list[str], n_directions: int) -> None:
    """A pasted or shared URL sets the widgets once (the first run, or a new value in the URL)."""
    ss = st.session_state
    fresh = [name for name in VIEW_PARAMS if url.take_param(name) is not None]
    if not fresh and _KEYS["view"] in ss:
        return
    v = view_from_params(st.query_params.to_dict(), models, languages, n_directions)
    for attr, key in _KEYS.items():
        ss[key] = getattr(v, attr)
    ss["ov.langs"], ss["ov.scripts"] = list(v.filter.languages), list(v.filter.scripts)
    ss["ov.families"], ss["ov.supported"] = list(v.filter.families), v.filter.supported_only


def choose_view(ctx: Context, results: list[DirectionResult]) -> str:
    """The Overview's view radio (``"matrix"`` by default beyond 20 directions); reads a link first."""
    models = models_of(results)
    languages = sorted({lang for r in results for lang in (r.direction.source, r.direction.target)})
    _apply_link(models, languages, len(ctx.spec.directions))
    return str(
        st.radio(
            "View",
            ("matrix", "table"),
            key=_KEYS["view"],
            horizontal=True,
            format_func={"matrix": "Language matrix", "table": "Table per direction"}.get,
            help="The matrix is the default beyond 20 directions; the table lists every direction.",
        )
    )


def _filters(languages: list[str]) -> LanguageFilter:
    ss = st.session_state
    active = bool(ss.get("ov.langs") or ss.get("ov.scripts") or ss.get("ov.families") or ss.get("ov.supported"))
    with st.expander("Filter languages", expanded=active):
        c1, c2, c3 = st.columns(3)
        langs = c1.multiselect("Languages", languages, key="ov.langs", format_func=label)
        scripts = c2.multiselect("Scripts", sorted({script_of(c) for c in languages}), key="ov.scripts")
        families = c3.multiselect("Families", sorted({family_of(c) for c in languages}), key="ov.families")
        supported = st.toggle("Only languages every chosen encoder supports (model cards)", key="ov.supported")
    return LanguageFilter(tuple(langs), tuple(scripts), tuple(families), bool(supported))


def _table(table: pd.DataFrame, shown: tuple[str, ...]) -> int:
    """The per-direction table of the shown languages: searchable, ``PAGE_SIZE`` rows a page."""
    keep = set(shown)
    rows = table[table["source"].isin(keep) & table["target"].isin(keep)]
    wide = wide_table(rows)
    st.subheader("Directions")
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    find = c1.text_input("Find a direction or encoder (e.g. swa->, ->eng, e5)", key=_KEYS["find"])
    found = find_rows(wide, find) if not wide.empty else wide
    n_pages = max(1, -(-len(found) // PAGE_SIZE))
    ss = st.session_state
    ss[_KEYS["page"]] = min(max(1, int(ss.get(_KEYS["page"], 1))), n_pages)
    page = c2.number_input(f"Page (of {n_pages})", 1, n_pages, key=_KEYS["page"])
    part, page, _ = page_of(found, int(page))
    st.caption(ui.literal(f"{len(found)} rows; {PAGE_SIZE} a page. The downloads hold every direction."))
    st.dataframe(part, hide_index=True, key="ov.page_table")
    return int(page)


def render(ctx: Context, results: list[DirectionResult], table: pd.DataFrame, metric: str) -> None:
    """The matrix view of the Overview (the settings it draws are mirrored in the URL)."""
    models = models_of(results)
    languages = sorted({lang for r in results for lang in (r.direction.source, r.direction.target)})
    c1, c2 = st.columns(2)
    model = str(c1.selectbox("Encoder of the matrix", models, key=_KEYS["model"]))
    orders: list[str] = list(ORDERS)
    order_by = str(c2.selectbox("Order languages by", orders, key=_KEYS["order"], format_func=lambda o: ORDERS[o]))
    filt = _filters(languages)
    with ui.guard():
        shown = language_order(
            filt.apply(languages, script=script_of, family=family_of, supported=supported_by_all(ctx.models)),
            group_of(order_by),
        )
    if len(shown) < 2:
        st.info("Fewer than two languages pass the filters: widen them to see a matrix.")
        return
    directions = tuple(d.label for d in ctx.spec.directions)
    key = (ctx.dkey, tuple(ctx.key(m) for m in models), ctx.spec.first, directions, ctx.spec.vectors.label)
    with ui.guard():
        mat = _matrix(results, key, model, metric, shown)
    st.plotly_chart(matrix_heatmap(mat), key="ov.matrix")
    base = cand = ""
    if len(models) > 1:
        st.subheader("Difference of two encoders")
        d1, d2 = st.columns(2)
        base = str(d1.selectbox("Baseline A", models, key=_KEYS["baseline"]))
        cand = str(d2.selectbox("Candidate B", models, key=_KEYS["candidate"]))
        if base == cand:
            st.info("Choose two different encoders.")
        else:
            rows, cols = (mat.n_queries > 0).nonzero()  # the evaluated cells, row by row
            cells = tuple((shown[i], shown[j]) for i, j in zip(rows, cols))
            with ui.guard():
                diff = _difference(results, key, base, cand, metric, cells)
            st.plotly_chart(difference_heatmap(diff, shown, base, cand), key="ov.diff")
            n_up, n_down = int((diff["effect"] == "improved").sum()), int((diff["effect"] == "degraded").sum())
            st.caption(
                ui.literal(
                    f"{cand} is significantly better in {n_up} and worse in {n_down} of {len(diff)} cells "
                    "(McNemar for recall@k, sign-flip permutation for MRR; Holm across the cells shown)."
                )
            )
    st.subheader("Each language as query and as document")
    with ui.guard():
        marg = _marginals(results, key, model, metric, shown)
    st.plotly_chart(marginal_chart(marg, metric), key="ov.marginals")
    keep = set(shown)
    mine = table[(table["model"] == model) & table["source"].isin(keep) & table["target"].isin(keep)]
    worst = worst_directions(mine, metric, 10) if not mine.empty else mine
    st.caption(ui.literal(f"The 10 worst directions of {model} by {metric}"))
    st.dataframe(worst[["source", "target", "value", "n_queries"]], hide_index=True, key="ov.worst")
    page = _table(table, shown)
    view = OverviewView("matrix", model, base, cand, order_by, filt, page, str(st.session_state.get(_KEYS["find"], "")))
    sync(view)


def sync_table(results: list[DirectionResult]) -> None:
    """The table view in the URL (its encoder and filters belong to the matrix view and are dropped)."""
    models = models_of(results)
    sync(OverviewView("table", models[0] if models else ""))


def sync(view: OverviewView) -> None:
    """Write ``view`` to the URL (and drop the ``ov_`` parameters it no longer sets)."""
    wanted: dict[str, str | None] = {name: None for name in VIEW_PARAMS}
    wanted.update(view_params(view))
    url.raw_params(**wanted)
