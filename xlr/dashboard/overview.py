"""The Overview page: encoders side by side with 95 % intervals and ties, charts, mixed pools, downloads."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from xlr.dashboard import matrix_view, mixed_view, price_view, ui, url
from xlr.dashboard import resources as res
from xlr.dashboard.state import Context, DataKey, ids_phrase
from xlr.encoders.catalogue import MTEB_SOURCE
from xlr.report import figures
from xlr.report.encoder_table import EncoderComparison, compare_encoders, wide
from xlr.report.results import build_manifest, results_csv
from xlr.report.sampling import HeadSkew, skewed_heads
from xlr.report.sanitize import markdown_cell, markdown_frame
from xlr.retrieval.directions import Direction
from xlr.retrieval.evaluate import DirectionResult
from xlr.retrieval.metrics import metric_names
from xlr.retrieval.results import EvalResults

__all__ = ["HELP", "page"]

HELP = """
**recall@k**: the share of queries whose gold document (the one with the same id in the target
language) is among the k best-scored pool documents. **MRR**: the mean of 1 / gold rank.
**Gold rank and ties**: 1 + the number of pool documents scoring at least as high as the gold
(ties count against the gold: pessimistic). **Interval**: 95 % bootstrap interval of the mean over
the queries; for the mean row, queries are resampled within each direction (every row counts once). **★ / =**: best of the row / not significantly different from the best (paired test:
McNemar for recall@k, sign-flip permutation for MRR, Holm across the row's pairs, alpha 0.05).
**⚠ no el**: a language the model card does not list; such rows are left out of the ranking and the
mean row by default (named under the table; a toggle includes them). **Hubness**: some documents are the top-1 of
many queries (see the heatmap page). **CSLS / margin**: scoring rules that discount such hubs (see
Strategies). **The pool**: the target-language documents of the first N linked ids; the
mixed pool below holds every language's documents of those ids.
"""


@st.cache_data(show_spinner=False, max_entries=16)
def _skews(dkey: DataKey, labels: tuple[str, ...], first: int | None, seed: int | None) -> list[HeadSkew]:
    corpus = res.dataset(*dkey).corpus
    return skewed_heads(corpus, [Direction.parse(x) for x in labels], first, seed=seed)


@st.cache_data(show_spinner="Bootstrap intervals and paired tests…", max_entries=32)
def _compare(
    _results: list[DirectionResult], key: tuple, metric: str, dataset: str, fair_only: bool, cards: tuple = ()
) -> EncoderComparison:
    return compare_encoders(_results, metric, dataset=dataset, random_state=0, fair_only=fair_only, cards=dict(cards))


def _style(table: pd.DataFrame, models: tuple[str, ...]) -> pd.io.formats.style.Styler:
    def colour(v: object) -> str:
        s = str(v)
        if "★" in s:
            return "background-color: rgba(46, 160, 67, 0.28); font-weight: 600"
        if s.endswith(" =") or " = " in s:
            return "background-color: rgba(46, 160, 67, 0.10)"
        return ""

    return table.style.map(colour, subset=list(models)).hide(axis="index")


def _dropped_note(ctx: Context, results: list[DirectionResult]) -> None:
    dropped = {r.direction.label: r.n_dropped for r in results if r.n_dropped}
    if not dropped:
        return
    why = (
        "Tatoeba's sentences are linked per language pair, so the English side of one pair has no counterpart "
        "in another language"
        if ctx.data.name.lower().startswith("tatoeba")
        else "these source documents have no document with the same id in the target language"
    )
    shown = ", ".join(f"{k}: {v}" for k, v in list(dropped.items())[:8]) + (" …" if len(dropped) > 8 else "")
    st.caption(ui.literal(f"Source documents left out (no counterpart): {shown}. {why}."))


def ranking_sentence(comp: EncoderComparison) -> str:
    """The ranking in words (escaped Markdown), naming the rows left out as unfair."""
    ranks = comp.ranking
    groups = [" = ".join(ranks.loc[ranks["rank"] == r, "model"]) + f" (rank {r})" for r in dict.fromkeys(ranks["rank"])]
    n = len(comp.directions) - len(comp.excluded)
    rows = f"the {n} fair rows" if comp.excluded else f"the {n} rows"
    left = ""
    if comp.excluded:
        shown = ", ".join(comp.excluded[:8]) + (" …" if len(comp.excluded) > 8 else "")
        left = f" ({len(comp.excluded)} left out, an encoder lacks a language: {shown})"
    return (
        ui.literal(f"Ranking by significant wins minus losses over {rows}{left}:")
        + " "
        + " › ".join(ui.literal(g) for g in groups)
        + ". "
        + ui.literal("Encoders sharing a rank are not separated by the data.")
    )


def _comparison(ctx: Context, results: list[DirectionResult], metric: str, model: str = "") -> EncoderComparison:
    """The table, ranking and notes; ``model``: the encoder every column shows (Compare two settings), whose
    model card flags both columns and which is compared with itself on every row."""
    # the encoder keys, not only the names: fp16 and fp32 results of one model must not share an entry
    models = tuple(ctx.key(m) for m in dict.fromkeys(r.model for r in results))
    key = (ctx.dkey, models, ctx.spec.first, tuple(d.label for d in ctx.spec.directions), ctx.spec.vectors.label)
    url.from_url("unfair", "ov.unfair", url.parse_flag, default=False)
    every = bool(st.session_state.get("ov.unfair", False))
    cards = tuple((m, model) for m in dict.fromkeys(r.model for r in results)) if model else ()
    comp = _compare(results, key, metric, ctx.data.name, not every and not model, cards)
    table = wide(comp)
    shown = markdown_frame(table.rename(columns={"direction": "direction (source → target)"}))  # names from data
    st.table(_style(shown, tuple(str(markdown_cell(m)) for m in comp.models)))
    if len(comp.models) > 1:
        st.markdown(ranking_sentence(comp))
        if len(comp.separating) < 2:
            st.caption(
                ui.literal(
                    f"This ranking rests on fewer than two separating rows ({len(comp.separating)}"
                    + (f": {', '.join(comp.separating)}" if comp.separating else "")
                    + "): read it as a hint, not a verdict."
                )
            )
    if comp.excluded or every:  # one encoder too: else its mean over unsupported rows cannot be had at all
        st.toggle(
            "Rank and average over every row, unsupported languages included",
            key="ov.unfair",
            help="Off (default): rows where an encoder's model card lacks a language are left out of the "
            "ranking and the mean row (still shown, marked ⚠).",
        )
    url.url_params(unfair=("ov.unfair", every, False))
    if comp.ceiling:
        st.warning(
            ui.literal(
                f"At the ceiling (≥ 0.99 for every encoder): {', '.join(comp.ceiling)}. These rows cannot tell "
                "encoders apart: raise First N, pick harder directions (ar, el, zh) or a larger pool, or see "
                f"“{mixed_view.TITLE.split(':')[0]}” below (every language's documents at once), which does."
            )
        )
    flagged = comp.cells[comp.cells["unsupported"] != ""]
    if model and not flagged.empty:  # one encoder in every column: one note, and the comparison stays fair
        langs = sorted({x for u in flagged["unsupported"] for x in u.split(",")})
        st.warning(
            ui.literal(
                f"{model} was not trained on {', '.join(langs)} (model card): its cells marked ⚠ are below what a "
                "trained encoder reaches; both columns are this encoder, so they compare fairly."
            )
        )
        flagged = flagged.iloc[0:0]
    for name, part in flagged.groupby("model", sort=False):
        langs = sorted({x for u in part["unsupported"] for x in u.split(",")})
        st.warning(
            ui.literal(f"{name} was not trained on {', '.join(langs)} (model card): its cells marked ⚠ are not fair.")
        )
    if comp.cells["published"].notna().any():
        st.caption(
            ui.literal(
                f"MTEB columns: published accuracy ({MTEB_SOURCE}), measured on the full test split; "
                "the measured column uses the first N ids here."
            )
        )
    return comp


def page() -> None:
    ctx = ui.context()
    st.title("Overview")
    st.caption(
        ui.literal(
            f"{ctx.data.name}: {len(ctx.spec.directions)} direction{'s' if len(ctx.spec.directions) != 1 else ''}, "
            f"{ids_phrase(ctx.data.corpus, ctx.spec)} each; gold = the document with the same id; ties count against the gold."
        )
    )
    skews = _skews(ctx.dkey, tuple(d.label for d in ctx.spec.directions), ctx.spec.first, ctx.spec.seed)
    if skews:
        st.info(
            ui.literal(
                "; ".join(s.sentence() for s in skews[:4])
                + (" …" if len(skews) > 4 else "")
                + ". Read these rows with care: raise First N (0 = all) or draw a random sample."
            )
        )
    with st.expander("What the numbers mean"):
        st.markdown(HELP)
    with ui.guard():
        pair = price_view.comparison(ctx)
        if pair is None:
            results, pending = ui.evaluation(ctx)
            keys = {m: ctx.key(m) for m in ctx.models}
        else:
            results, pending, keys = price_view.evaluation(ctx, pair)
    ui.show_jobs(pending)
    if not results:
        st.info("The table fills in as soon as the first encoder is encoded.")
        return
    names = metric_names(ctx.spec.ks)
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    url.from_url("metric", "ov.metric", url.parse_choice(names), default=names[0])
    metric = c1.selectbox("Metric", names, key="ov.metric", help="recall@k or MRR; see *What the numbers mean*.")
    url.url_params(metric=("ov.metric", metric, names[0]))
    evaluated = EvalResults(tuple(results), ctx.spec)
    table = evaluated.to_frame()
    _downloads(ctx, evaluated, table, c2, c3, keys)
    if pair is None and matrix_view.choose_view(ctx, results) == "matrix":
        _dropped_note(ctx, results)
        matrix_view.render(ctx, results, table, metric)
        mixed_view.render(ctx)
        return
    matrix_view.sync_table(results)
    with ui.guard():
        comp = _comparison(ctx, results, metric, pair.model if pair is not None else "")
    _dropped_note(ctx, results)
    if pair is not None:
        with ui.guard():
            price_view.summary(ctx, pair, results, metric)
    several = len(ctx.spec.directions) > 1
    left, right = st.columns([3, 2]) if several else (st.container(), None)
    left.plotly_chart(figures.metric_bars(table, metric, intervals=comp.cells), key="ov.bars")
    if right is not None:
        for i, model in enumerate(dict.fromkeys(table["model"])):
            right.plotly_chart(figures.direction_heatmap(table, model, metric), key=f"ov.heat.{i}")
    mixed_view.render(ctx, expanded=bool(comp.ceiling))


DEFER_DOWNLOADS_ABOVE = 200_000
"""Per-query ranks above which the downloads are built on click (in Streamlit's download thread), not on every
rerun: the JSON of 16,256 directions x 1997 queries takes seconds to write."""


def _downloads(ctx: Context, results: EvalResults, table: pd.DataFrame, c2: Any, c3: Any, keys: dict[str, str]) -> None:
    """CSV and JSON of the full results (every direction, whatever the view shows); the JSON is
    :meth:`EvalResults.to_json` with the run's manifest, so ``xlr.read_results`` reads it back.
    Above :data:`DEFER_DOWNLOADS_ABOVE` per-query ranks both are built when clicked. ``keys``: each
    result label's encoder key."""
    corpus = ctx.data.corpus
    embs = [res.embeddings(ctx.dkey, keys[m]) for m in dict.fromkeys(r.model for r in results)]
    runs = [(e.encoder, e.stats) for e in embs]

    def csv_text() -> str:
        return results_csv(table)

    def json_text() -> str:
        return replace(results, manifest=build_manifest(ctx.data, ctx.spec, runs, results)).to_json()

    defer = sum(r.n_queries for r in results) > DEFER_DOWNLOADS_ABOVE
    c2.download_button(
        "Download CSV",
        csv_text if defer else csv_text(),
        file_name=f"xlr-{corpus.name}.csv",
        mime="text/csv",
        key="ov.csv",
        on_click="ignore",
    )
    c3.download_button(
        "Download JSON",
        json_text if defer else json_text(),
        file_name=f"xlr-{corpus.name}.json",
        mime="application/json",
        key="ov.json",
        on_click="ignore",
    )
