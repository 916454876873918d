"""Streamlit glue for the pages: context, background encoding, cached computations, error guard.

Every page (``app.py``, the Overview, and each ``pages/`` script) starts with :func:`context`:
page settings, the list of pages (:mod:`xlr.dashboard.nav`) and the shared sidebar
(:mod:`xlr.dashboard.sidebar`), then the stored :class:`Context`.

Encoding never blocks: :func:`prepare` hands what is missing to a background job
(:mod:`xlr.dashboard.jobs`, one per data set x encoder x text field x documents) and
returns at once; :func:`show_jobs` draws one progress bar per running job (texts
done/total, rate, time left) with a Cancel button, refreshing itself every second
and re-running the page when the job ends. Pages show what is already encoded.
Evaluation results, vectors and projections are ``st.cache_data``; readers take the
lock of the embeddings they read (never a process-wide lock).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import streamlit as st

from xlr.dashboard import nav
from xlr.dashboard import resources as res
from xlr.dashboard.jobs import Job
from xlr.dashboard.no_data import render_no_data
from xlr.dashboard.sidebar import flush_url, sidebar, stop, sync_url
from xlr.dashboard.state import (
    DEFAULT_FIRST,
    Context,
    DataKey,
    DirectionData,
    Settings,
    digest,
    error_text,
    initial_settings,
    literal,
    split_key,
)
from xlr.data.records import Corpus
from xlr.encoders.base import Role
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.directions import Direction, direction_positions
from xlr.retrieval.evaluate import DirectionResult, EvalSpec, evaluate
from xlr.retrieval.quantized import VectorSpec
from xlr.retrieval.ranks import top_k
from xlr.retrieval.results import EvalResults
from xlr.retrieval.search import SearchResult, search

__all__ = [
    "DEFAULT_FIRST",
    "Context",
    "DirectionData",
    "Settings",
    "context",
    "direction_vectors",
    "embeddings",
    "evaluate_setting",
    "evaluation",
    "flush_url",
    "guard",
    "initial_settings",
    "literal",
    "map_vectors",
    "prepare",
    "render_no_data",
    "run_search",
    "show_jobs",
    "sidebar",
    "stop",
    "sync_url",
    "working_corpus",
]

_LOG = logging.getLogger("xlr.dashboard")
_CSS = """<style>
[data-testid="stText"], [data-testid="stTable"] td, textarea, input[type="text"]
{ unicode-bidi: plaintext; text-align: start; }
</style>"""
_QUICK = 0.5
"""Seconds a page waits for a fresh job before drawing a progress bar (cached vectors load faster)."""
TITLE = "xlr: cross-language retrieval"


# ------------------------------------------------------------------ background encoding


def _submit(key: tuple, label: str, emb: CorpusEmbeddings, needs: Sequence[tuple[np.ndarray, Role]]) -> Job | None:
    job = res.board().submit(key, label, emb, needs, encoder_name=key[2])
    res.board().watch(job)
    if job.state == "running":
        job.thread.join(timeout=_QUICK)
    return None if job.state == "done" else job


def prepare(dkey: DataKey, model: str, needs: Sequence[tuple[np.ndarray, Role]]) -> Job | None:
    """``None`` when every listed document of the whole corpus is encoded; else the (started) job.

    ``model`` is an encoder key (:meth:`Context.key`: name, device, precision). The job key is
    (data set, encoder key, text field, the documents' digest), so two sessions asking for the
    same documents share one job.
    """
    emb = res.embeddings(dkey, model)
    key = (dkey, "", model, emb.text_field, tuple((r, digest([str(p) for p in np.unique(q)])) for q, r in needs))
    return _submit(key, f"Encoding with {model}", emb, needs)


@st.fragment(run_every=1.0)
def _job_panel(jobs: tuple[Job, ...]) -> None:
    board = res.board()
    jobs = tuple(board.current(j) for j in jobs)  # a resumed job replaces the cancelled one
    for job in jobs:
        board.watch(job)  # refreshed every second while a page shows it: a closed tab stops it (JobBoard.reap)
        snap = job.snapshot()
        if snap.state == "running":
            c1, c2, c3 = st.columns([5, 1, 1], vertical_alignment="bottom")
            c1.progress(snap.fraction, text=literal(snap.text()))
            c2.button("Cancel", key=f"cancel.{id(job)}", on_click=job.cancel)
            c3.checkbox(
                "Keep running if I leave",
                value=job.keep_running,
                key=f"keep.{id(job)}",
                on_change=_toggle_keep,
                args=(job,),
                help="Otherwise the job stops (resumably: what is encoded stays cached) a minute after no page shows it.",
            )
        elif snap.state == "cancelled":
            why = f" ({snap.error})" if snap.error else ""
            st.warning(
                literal(f"{snap.label}: cancelled after {snap.done} of {snap.total} texts{why}; those are kept.")
            )
            st.button("Resume encoding", key=f"resume.{id(job)}", on_click=_resume, args=(job,))
        elif snap.state == "failed":
            st.error(literal(f"{snap.label} failed: {snap.error}"))
    if jobs and all(j.state == "done" for j in jobs):
        st.rerun(scope="app")


def _toggle_keep(job: Job) -> None:
    job.keep_running = not job.keep_running


def _resume(job: Job) -> None:
    res.board().restart(job)


def show_jobs(jobs: Sequence[Job]) -> None:
    """One progress bar per unfinished job with Cancel (or Resume); re-runs the page when all are done."""
    if not jobs:
        return
    _job_panel(tuple(jobs))


def require(jobs: Sequence[Job | None]) -> None:
    """Show the unfinished ``jobs`` and stop the page until they end (they run on in the background)."""
    pending = [j for j in jobs if j is not None]
    if pending:
        show_jobs(pending)
        st.caption("Other pages and sessions stay usable while this encodes.")
        stop()


# ------------------------------------------------------------------ cached computations


@st.cache_data(show_spinner="Ranking the pools…", max_entries=64)
def _evaluate(
    dkey: DataKey,
    model: str,
    pairs: tuple[tuple[str, str], ...],
    ks: tuple[int, ...],
    first: int | None,
    vectors: tuple[str, int] = ("float32", 0),
    label: str = "",
) -> EvalResults:
    spec = EvalSpec(tuple(Direction(s, t) for s, t in pairs), ks, first, vectors=VectorSpec(*vectors))
    emb = res.embeddings(dkey, model)
    with res.lock_of(emb):
        return evaluate(res.dataset(*dkey).corpus, emb, spec, model=label or split_key(model)[0])


def needs_of(corpus: Corpus, spec: EvalSpec) -> list[tuple[np.ndarray, Role]]:
    """Query and document positions every direction of ``spec`` needs."""
    plans = [direction_positions(corpus, d, spec.first, random_state=spec.seed) for d in spec.directions]
    return [(np.concatenate([p[1] for p in plans]), "query"), (np.concatenate([p[2] for p in plans]), "document")]


def evaluate_setting(
    ctx: Context, key: str, vectors: VectorSpec, label: str = ""
) -> tuple[list[DirectionResult], Job | None]:
    """Results of encoder ``key`` with ``vectors`` over ``ctx.spec``'s directions, labelled ``label`` (default:
    the encoder's name, as the pages list it), or no results and the job still encoding."""
    job = prepare(ctx.dkey, key, needs_of(ctx.data.corpus, ctx.spec))
    if job is not None:
        return [], job
    pairs = tuple((d.source, d.target) for d in ctx.spec.directions)
    spec = (vectors.precision, int(vectors.rescore))
    return list(_evaluate(ctx.dkey, key, pairs, ctx.spec.ks, ctx.spec.first, spec, label)), None


def evaluation(ctx: Context) -> tuple[list[DirectionResult], list[Job]]:
    """Results of every encoder whose vectors are ready, and the jobs still encoding for the others."""
    out: list[DirectionResult] = []
    pending: list[Job] = []
    for model in map(ctx.key, ctx.models):
        results, job = evaluate_setting(ctx, model, ctx.spec.vectors)
        out.extend(results)
        pending.extend([job] if job is not None else [])
    return out, pending


def complete_evaluation(ctx: Context) -> list[DirectionResult]:
    """Every encoder's results; shows progress and stops the page until all are encoded."""
    results, pending = evaluation(ctx)
    require(pending)
    return results


def embeddings(ctx: Context, model: str):
    """The shared, lazily filled embeddings of the whole corpus (hold no reference across runs)."""
    return res.embeddings(ctx.dkey, ctx.key(model))


@st.cache_data(show_spinner="Reading the vectors…", max_entries=32)
def _gather(dkey: DataKey, model: str, pair: tuple[str, str], first: int | None) -> DirectionData:
    ids, q, p = direction_positions(res.dataset(*dkey).corpus, Direction(*pair), first)
    emb = res.embeddings(dkey, model)
    with res.lock_of(emb):
        return DirectionData(ids, q, p, emb.vectors(q, "query").copy(), emb.vectors(p, "document").copy())


def direction_vectors(ctx: Context, model: str, direction: Direction) -> DirectionData:
    """Query and pool vectors of a direction (first N linked ids); stops the page while they encode."""
    _, q, p = direction_positions(ctx.data.corpus, direction, ctx.spec.first, random_state=ctx.spec.seed)
    if q.size == 0:
        raise ValueError(f"direction {direction.label}: no id has a document in both languages")
    key = ctx.key(model)
    require([prepare(ctx.dkey, key, [(q, "query"), (p, "document")])])
    return _gather(ctx.dkey, key, (direction.source, direction.target), ctx.spec.first)


@st.cache_data(show_spinner="Finding each query's best candidate…", max_entries=32)
def _top1(dkey: DataKey, model: str, pair: tuple[str, str], first: int | None) -> np.ndarray:
    dv = _gather(dkey, model, pair, first)
    return np.asarray(top_k(dv.queries, dv.pool, 1)[0][:, 0])


def direction_top1(ctx: Context, model: str, direction: Direction) -> np.ndarray:
    """Each query's best pool index (cosine; ties to the lower index), cached with the direction's vectors."""
    direction_vectors(ctx, model, direction)  # encodes first if needed
    return _top1(ctx.dkey, ctx.key(model), (direction.source, direction.target), ctx.spec.first)


def working_corpus(ctx: Context) -> Corpus:
    """The documents (all languages) of the ids in the current selection (``ctx.ids``)."""
    return res.subset(ctx.dkey, digest(ctx.ids), ctx.ids)


@st.cache_data(show_spinner="Searching…", max_entries=64)
def _search(
    dkey: DataKey, dig: str, model: str, text: str, langs: tuple[str, ...], k: int, _ids: tuple[str, ...] | None
) -> SearchResult:
    if _ids is None:
        corpus, emb = res.dataset(*dkey).corpus, res.embeddings(dkey, model)
    else:
        corpus, emb = res.subset(dkey, dig, _ids), res.subset_embeddings(dkey, dig, model, _ids)
    with res.lock_of(emb):
        return search(corpus, emb, text, langs, k=k)


def search_pool(ctx: Context, whole: bool) -> Corpus:
    """The corpus ad-hoc search ranks: the whole data set, or the working selection."""
    return ctx.data.corpus if whole else working_corpus(ctx)


def run_search(
    ctx: Context, model: str, text: str, langs: Sequence[str], k: int, *, whole: bool = True
) -> SearchResult | Job:
    """Top-``k`` documents of ``langs`` (whole corpus, or the selection) for a typed query, or the
    job still encoding the pool."""
    if not text.strip():
        raise ValueError("the query is empty: type some text to search for")
    sub = search_pool(ctx, whole)
    missing = [lang for lang in langs if lang not in sub.languages]
    if missing or not langs:
        raise ValueError(f"choose target languages among {', '.join(sub.languages)}")
    pool = np.concatenate([sub.positions(lang) for lang in langs])
    dig, model = digest(ctx.ids), ctx.key(model)
    if whole:
        emb = res.embeddings(ctx.dkey, model)
    else:
        emb = res.subset_embeddings(ctx.dkey, dig, model, ctx.ids)
    key = (ctx.dkey, "" if whole else dig, model, emb.text_field, digest([str(p) for p in pool]))
    job = _submit(key, f"Encoding the pool with {model}", emb, [(pool, "document")])
    if job is not None:
        return job
    return _search(ctx.dkey, dig, model, text.strip(), tuple(langs), int(k), None if whole else ctx.ids)


def map_vectors(ctx: Context, model: str, positions: np.ndarray) -> tuple[str, np.ndarray]:
    """(a digest naming them, the vectors) of working-corpus documents at ``positions``; encodes what is
    missing first as a background job (the page stops until it is done). The Embedding map projects them
    (:mod:`xlr.dashboard.map_view`)."""
    dig, model = digest(ctx.ids), ctx.key(model)
    emb = res.subset_embeddings(ctx.dkey, dig, model, ctx.ids)
    key = (ctx.dkey, dig, model, emb.text_field, digest([str(p) for p in positions]))
    require([_submit(key, f"Encoding with {model}", emb, [(positions, "document")])])
    with res.lock_of(emb):
        vectors = emb.vectors(positions, "document").copy()
    return digest([dig, *map(str, positions.tolist())]), vectors


# ------------------------------------------------------------------ page helpers


def settings() -> Settings | None:
    """The sidebar's current settings (``None`` before the sidebar ran successfully)."""
    ctx = st.session_state.get("xlr.context")
    return ctx.settings if ctx is not None else None


def context() -> Context:
    """Every page's first call: page settings, the list of pages and the shared sidebar, drawn once per run.

    Returns the context the sidebar stored; with no usable data set the main area says what failed
    and how to go on, and the page stops there (the sidebar stays usable).  Streamlit runs ``app.py``
    or a ``pages/`` script alone (file-based multipage mode), so each one draws all of this itself.
    """
    st.set_page_config(page_title=TITLE, layout="wide")
    inject_css()
    nav.page_list()
    ctx = sidebar()
    if ctx is None:
        st.title(TITLE)
        render_no_data()
        stop()
    return ctx


def inject_css() -> None:
    """Direction-aware text (Arabic, Hebrew...) in texts, tables and inputs; constant CSS only."""
    st.markdown(_CSS, unsafe_allow_html=True)


@contextmanager
def guard() -> Iterator[None]:
    """Show an error of the core (``ValueError`` subclasses, ``OSError``) as one line and stop the page;
    anything else: a short message here, its traceback in the server log."""
    try:
        yield
    except (ValueError, OSError) as exc:
        st.error(literal(error_text(exc)))
        stop()
    except Exception as exc:  # noqa: BLE001 - shown briefly, logged in full (st.stop/rerun are BaseException)
        _LOG.exception("unexpected error on a dashboard page")
        st.error(f"Unexpected error ({type(exc).__name__}); the details are in the server log.")
        stop()
