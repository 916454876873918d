"""Streamlit glue: the shared sidebar, its settings, and cached wrappers around the core.

The only module of ``xlr`` that imports streamlit. ``app.py`` calls :func:`sidebar`
on every run (before the page), which stores a :class:`Context` that pages read
with :func:`context`; other pages (e.g. Strategies) use :func:`settings`,
:func:`evaluation`, :func:`direction_vectors` and :func:`embeddings`.

Caching: loaded data sets, encoders and :class:`~xlr.evaluate.CorpusEmbeddings`
are ``st.cache_resource`` (one per process, shared by sessions, guarded by one
lock); evaluation results, vectors and projections are ``st.cache_data``.
Encoding happens only in :func:`_ensure`, which draws a progress bar; nothing is
ever encoded twice (memory, then the on-disk :class:`~xlr.cache.EmbeddingCache`).

Initial settings come from query parameters, then environment variables
(``XLR_DEFAULT_DATASET``, ``XLR_DEFAULT_MODELS``, ``XLR_DEFAULT_FIRST``,
``XLR_DEFAULT_KS``, ``XLR_DEFAULT_DIRECTIONS``), then built-in defaults.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import streamlit as st

from xlr.dashboard.state import (
    DEFAULT_FIRST,
    DIRECTION_MODES,
    K_CHOICES,
    Context,
    DataKey,
    DirectionData,
    Settings,
    choose_directions,
    digest,
    error_text,
    first_available,
    initial_settings,
    literal,
    save_upload,
    source_stamp,
)
from xlr.dashboard.views import selected_ids
from xlr.data.loaders import load_jsonl
from xlr.data.records import Corpus
from xlr.data.registry import (
    DATASETS,
    DatasetUnavailable,
    LoadedDataset,
    data_dir,
    ensure_dataset,
    resolve_dataset,
)
from xlr.encoders.base import Encoder, Role
from xlr.encoders.cache import EmbeddingCache, default_cache_dir
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.encoders.registry import ENCODERS, load_encoder
from xlr.report.projection import project
from xlr.retrieval.directions import Direction, all_directions, direction_positions
from xlr.retrieval.evaluate import DirectionResult, EvalSpec, evaluate
from xlr.retrieval.search import SearchResult, search

__all__ = [
    "Context",
    "DirectionData",
    "Settings",
    "context",
    "direction_vectors",
    "embeddings",
    "evaluation",
    "guard",
    "initial_settings",
    "literal",
    "projection",
    "run_search",
    "settings",
    "sidebar",
    "working_corpus",
]

_CSS = """<style>
[data-testid="stText"], [data-testid="stTable"] td, textarea, input[type="text"]
{ unicode-bidi: plaintext; text-align: start; }
</style>"""


# ------------------------------------------------------------------ cached resources


@st.cache_resource(show_spinner=False)
def _lock() -> threading.RLock:
    return threading.RLock()


@st.cache_resource(show_spinner=False, max_entries=8)
def _dataset(source: str, stamp: tuple, lenient: bool) -> LoadedDataset:
    return resolve_dataset(source, lenient=lenient, download_missing=False)


@st.cache_resource(show_spinner=False)
def _encoder(name: str) -> Encoder:
    return load_encoder(name)


@st.cache_resource(show_spinner=False)
def _embedding_cache(root: str) -> EmbeddingCache:
    return EmbeddingCache(root)


def _new_embeddings(corpus: Corpus, model: str) -> CorpusEmbeddings:
    return CorpusEmbeddings(corpus, _encoder(model), _embedding_cache(str(default_cache_dir())))


@st.cache_resource(show_spinner=False, max_entries=16)
def _embeddings(dkey: DataKey, model: str) -> CorpusEmbeddings:
    return _new_embeddings(_dataset(*dkey).corpus, model)


@st.cache_resource(show_spinner=False, max_entries=8)
def _subset(dkey: DataKey, digest: str, _ids: tuple[str, ...]) -> Corpus:
    return _dataset(*dkey).corpus.subset(ids=_ids)


@st.cache_resource(show_spinner=False, max_entries=16)
def _subset_embeddings(dkey: DataKey, digest: str, model: str, _ids: tuple[str, ...]) -> CorpusEmbeddings:
    return _new_embeddings(_subset(dkey, digest, _ids), model)


class _LazyProgress:
    """``progress(done, total)`` that draws a bar only once something is really encoded/downloaded."""

    def __init__(self, label: str, unit: str = "texts") -> None:
        self.label, self.unit, self.bar = label, unit, None

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is None:
            self.bar = st.progress(0.0)
        frac = min(done / total, 1.0) if total else 0.0
        self.bar.progress(frac, text=f"{self.label}: {done} of {total or '?'} {self.unit}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.empty()


def _ensure(emb: CorpusEmbeddings, needs: Sequence[tuple[np.ndarray, Role]]) -> None:
    """Encode what is missing (progress bar), reading everything else from the caches."""
    bar = _LazyProgress(f"Encoding with {emb.encoder.identity.name}")
    with _lock():
        emb.progress = bar
        try:
            for positions, role in needs:
                emb.ensure(np.asarray(positions, dtype=np.int64), role)
        finally:
            emb.progress = None
            bar.close()


# ------------------------------------------------------------------ cached computations


@st.cache_data(show_spinner=False, max_entries=64)
def _evaluate(
    dkey: DataKey,
    model: str,
    pairs: tuple[tuple[str, str], ...],
    ks: tuple[int, ...],
    first: int | None,
) -> list[DirectionResult]:
    spec = EvalSpec(tuple(Direction(s, t) for s, t in pairs), ks, first)
    with _lock():
        return evaluate(_dataset(*dkey).corpus, _embeddings(dkey, model), spec)


def _pairs(spec: EvalSpec) -> tuple[tuple[str, str], ...]:
    return tuple((d.source, d.target) for d in spec.directions)


def evaluation(ctx: Context) -> list[DirectionResult]:
    """Results of every usable encoder on every direction (encodes first, with a progress bar)."""
    corpus, out = ctx.data.corpus, []
    plans = [direction_positions(corpus, d, ctx.spec.first) for d in ctx.spec.directions]
    q = np.concatenate([p[1] for p in plans])
    p = np.concatenate([p[2] for p in plans])
    for model in ctx.models:
        _ensure(_embeddings(ctx.dkey, model), [(q, "query"), (p, "document")])
        out.extend(_evaluate(ctx.dkey, model, _pairs(ctx.spec), ctx.spec.ks, ctx.spec.first))
    return out


def embeddings(ctx: Context, model: str) -> CorpusEmbeddings:
    """The shared, lazily filled embeddings of the whole corpus (hold no reference across runs)."""
    return _embeddings(ctx.dkey, model)


@st.cache_data(show_spinner=False, max_entries=32)
def _gather(dkey: DataKey, model: str, pair: tuple[str, str], first: int | None) -> DirectionData:
    ids, q, p = direction_positions(_dataset(*dkey).corpus, Direction(*pair), first)
    emb = _embeddings(dkey, model)
    with _lock():
        return DirectionData(ids, q, p, emb.vectors(q, "query").copy(), emb.vectors(p, "document").copy())


def direction_vectors(ctx: Context, model: str, direction: Direction) -> DirectionData:
    """Query and pool vectors of a direction (first N linked ids), encoding what is missing."""
    _, q, p = direction_positions(ctx.data.corpus, direction, ctx.spec.first)
    if q.size == 0:
        raise ValueError(f"direction {direction.label}: no id has a document in both languages")
    _ensure(_embeddings(ctx.dkey, model), [(q, "query"), (p, "document")])
    return _gather(ctx.dkey, model, (direction.source, direction.target), ctx.spec.first)


def working_corpus(ctx: Context) -> Corpus:
    """The documents (all languages) of the ids in the current selection (``ctx.ids``)."""
    return _subset(ctx.dkey, digest(ctx.ids), ctx.ids)


@st.cache_data(show_spinner=False, max_entries=64)
def _search(
    dkey: DataKey,
    digest: str,
    model: str,
    text: str,
    langs: tuple[str, ...],
    k: int,
    _ids: tuple[str, ...],
) -> SearchResult:
    with _lock():
        return search(
            _subset(dkey, digest, _ids),
            _subset_embeddings(dkey, digest, model, _ids),
            text,
            langs,
            k=k,
        )


def run_search(ctx: Context, model: str, text: str, langs: Sequence[str], k: int) -> SearchResult:
    """Top-``k`` documents of ``langs`` within the working selection for a typed query."""
    if not text.strip():
        raise ValueError("the query is empty: type some text to search for")
    dig, sub = digest(ctx.ids), working_corpus(ctx)
    missing = [lang for lang in langs if lang not in sub.languages]
    if missing or not langs:
        raise ValueError(f"choose target languages among {', '.join(sub.languages)}")
    pool = np.concatenate([sub.positions(lang) for lang in langs])
    _ensure(_subset_embeddings(ctx.dkey, dig, model, ctx.ids), [(pool, "document")])
    return _search(ctx.dkey, dig, model, text.strip(), tuple(langs), int(k), ctx.ids)


@st.cache_data(show_spinner=False, max_entries=32)
def _project(dkey: DataKey, digest: str, model: str, method: str, _vectors: np.ndarray) -> np.ndarray:
    return project(
        _vectors,
        method,
        random_state=0,
        meta={"data": dkey[0], "encoder": model, "selection": digest},
    )


def projection(ctx: Context, model: str, positions: np.ndarray, method: str) -> np.ndarray:
    """2-D coordinates of working-corpus documents at ``positions`` (cached in memory and on disk)."""
    dig = digest(ctx.ids)
    emb = _subset_embeddings(ctx.dkey, dig, model, ctx.ids)
    _ensure(emb, [(positions, "document")])
    with _lock():
        vectors = emb.vectors(positions, "document").copy()
    key = digest([dig, *map(str, positions.tolist())])
    with st.spinner(f"Computing the {method.upper()} projection of {positions.size} documents…"):
        return _project(ctx.dkey, key, model, method, vectors)


# ------------------------------------------------------------------ the sidebar


def _source_label(source: str) -> str:
    labels = st.session_state.get("xlr.labels", {})
    if source in labels:
        return labels[source]
    return f"{source} (named)" if source in DATASETS else source


def _init_state() -> None:
    ss = st.session_state
    if ss.get("xlr.init"):
        return
    s, warnings = initial_settings(os.environ, st.query_params.to_dict(), first_available())
    ss["xlr.sources"] = list(DATASETS) + ([s.dataset] if s.dataset not in DATASETS else [])
    ss["xlr.labels"], ss["xlr.failed"], ss["xlr.warnings"] = {}, {}, warnings
    ss.update(
        {
            "w.dataset": s.dataset,
            "w.lenient": s.lenient,
            "w.models": list(s.models),
            "w.ks": list(s.ks),
            "w.directions": s.directions,
            "w.custom": list(s.custom),
            "w.first": s.first or 0,
            "xlr.init": True,
        }
    )


def _select_source(source: str, label: str) -> None:
    ss = st.session_state
    if source not in ss["xlr.sources"]:
        ss["xlr.sources"].append(source)
    ss["xlr.labels"][source] = label
    ss["w.dataset"], ss["xlr.data_msg"] = source, None
    ss["xlr.failed"].pop(source, None)


def _on_load_path() -> None:
    ss = st.session_state
    raw = str(ss.get("w.path", "")).strip()
    if not raw:
        ss["xlr.data_msg"] = "Type the path of a JSONL file, an XQuAD folder or a Tatoeba folder first."
        return
    source = raw if raw in DATASETS else str(Path(raw).expanduser().resolve())
    try:
        _dataset(source, source_stamp(source), bool(ss.get("w.lenient")))
    except (ValueError, OSError) as exc:
        ss["xlr.data_msg"] = f"{raw} was not loaded: {error_text(exc)}"
        return
    _select_source(source, raw)


def _on_upload() -> None:
    ss = st.session_state
    upload = ss.get("w.upload")
    if upload is None:
        return
    data = upload.getvalue()
    try:
        load_jsonl(data, name=upload.name, lenient=bool(ss.get("w.lenient")))
    except (ValueError, OSError) as exc:
        ss["xlr.data_msg"] = f"{upload.name} was not loaded: {error_text(exc)}"
        return
    try:
        path = save_upload(data, upload.name, default_cache_dir() / "uploads")
    except OSError as exc:
        ss["xlr.data_msg"] = f"{upload.name} could not be stored: {exc.strerror or exc}"
        return
    _select_source(str(path), f"{upload.name} (upload)")


def _load(source: str, lenient: bool) -> tuple[LoadedDataset, DataKey]:
    failed = st.session_state["xlr.failed"]
    if source in DATASETS:
        if source in failed:
            raise DatasetUnavailable(failed[source])
        bar = _LazyProgress(f"Downloading {source}", unit="bytes")
        try:
            ensure_dataset(source, download_missing=True, progress=bar)
        except DatasetUnavailable as exc:
            failed[source] = str(exc)
            raise
        finally:
            bar.close()
    dkey = (source, source_stamp(source), lenient)
    return _dataset(*dkey), dkey


def _load_encoders(names: Sequence[str]) -> tuple[tuple[str, ...], list[str]]:
    """Load each encoder; a failure is remembered until the encoder is deselected (then retried)."""
    failed = st.session_state.setdefault("xlr.enc_failed", {})
    for name in [n for n in failed if n not in names]:
        del failed[name]
    ok, errors = [], []
    for name in names:
        if name not in failed:
            try:
                with st.spinner(f"Loading encoder {name}…"):
                    _encoder(name)
            except (ValueError, OSError) as exc:
                failed[name] = f"{name}: {error_text(exc)}"
        if name in failed:
            errors.append(failed[name])
        else:
            ok.append(name)
    return tuple(ok), errors


def sidebar() -> Context | None:
    """Draw the shared sidebar; return (and store for :func:`context`) the context, or ``None``.

    ``None`` when no data set could be loaded (:func:`render_no_data` explains why) or the
    settings are unusable (the sidebar says why).
    """
    _init_state()
    ss, sb = st.session_state, st.sidebar
    ss["xlr.context"] = None
    for w in ss.get("xlr.warnings", []):
        sb.warning(literal(w))
    sb.selectbox(
        "Data set",
        ss["xlr.sources"],
        key="w.dataset",
        format_func=_source_label,
        help="A named data set (downloaded on first use) or one you loaded below.",
    )
    ss["xlr.load_error"] = None
    try:
        data, dkey = _load(ss["w.dataset"], bool(ss["w.lenient"]))
    except (ValueError, OSError) as exc:
        ss["xlr.load_error"] = (
            ss["w.dataset"],
            error_text(exc),
            isinstance(exc, DatasetUnavailable),
        )
        data = dkey = None
    with sb.expander(
        "Your own data: a path or an upload",
        expanded=data is None or bool(ss.get("xlr.data_msg")),
    ):
        st.text_input(
            "Local path",
            key="w.path",
            placeholder="corpus.jsonl, an XQuAD or a Tatoeba folder",
        )
        st.button("Load path", key="w.load_path", on_click=_on_load_path)
        st.file_uploader(
            "or upload a JSONL file (id, lang, title, url, text)",
            type=["jsonl", "ndjson"],
            key="w.upload",
            on_change=_on_upload,
        )
        st.checkbox("Skip bad lines (lenient)", key="w.lenient")
    if ss.get("xlr.data_msg"):
        sb.error(literal(ss["xlr.data_msg"]))
    if data is None:
        return None
    corpus = data.corpus
    report = corpus.report.summary() if corpus.report is not None else ""
    sb.caption(
        literal(f"{len(corpus)} documents, {len(corpus.ids)} ids, languages {', '.join(corpus.languages)}. {report}")
    )
    options = list(dict.fromkeys([*ENCODERS, *ss["w.models"]]))
    sb.multiselect(
        "Encoders",
        options,
        key="w.models",
        format_func=lambda m: m if m not in ENCODERS or ENCODERS[m].offline else f"{m} (hub)",
        help="Bundled encoders work offline; hub ones download.",
    )
    ss["w.ks"] = [k for k in ss["w.ks"] if k in K_CHOICES] or [1]
    sb.multiselect("k values", K_CHOICES, key="w.ks")
    sb.radio(
        "Directions",
        list(DIRECTION_MODES),
        key="w.directions",
        format_func=DIRECTION_MODES.get,
    )
    if ss["w.directions"] == "custom":
        labels = [d.label for d in all_directions(corpus)]
        ss["w.custom"] = [c for c in ss["w.custom"] if c in labels]
        sb.multiselect("Evaluated directions", labels, key="w.custom")
    sb.number_input(
        "First N ids (0 = all)",
        min_value=0,
        step=10,
        key="w.first",
        help=f"Keep the first N linked ids of each direction, like the CLI's --first. The default "
        f"({DEFAULT_FIRST}) keeps a first run to seconds; the seed protocol uses 1000.",
    )
    s = Settings(
        ss["w.dataset"],
        tuple(ss["w.models"]),
        tuple(sorted(ss["w.ks"])),
        ss["w.directions"],
        tuple(ss["w.custom"]),
        int(ss["w.first"]) or None,
        bool(ss["w.lenient"]),
    )
    try:
        directions, note = choose_directions(corpus, s.directions, s.custom)
        spec = EvalSpec(directions, s.ks or (1,), s.first)
    except ValueError as exc:
        sb.error(literal(error_text(exc)))
        return None
    if note:
        sb.info(note)
    ids = selected_ids(corpus, spec.directions, spec.first)
    plans = [direction_positions(corpus, d, spec.first) for d in spec.directions]
    n_docs = np.unique(np.concatenate([np.concatenate([q, p]) for _, q, p in plans])).size
    sb.caption(
        literal(
            f"{len(spec.directions)} directions, {len(ids)} of {len(corpus.ids)} ids, {n_docs} documents "
            "to encode per encoder (once: embeddings are cached on disk)."
        )
    )
    models, errors = _load_encoders(s.models)
    for e in errors:
        sb.error(literal(e))
    if not models:
        sb.error("Choose at least one encoder that loads.")
        return None
    ctx = Context(s, data, dkey, spec, models, ids)
    ss["xlr.context"] = ctx
    return ctx


def settings() -> Settings | None:
    """The sidebar's current settings (``None`` before the sidebar ran successfully)."""
    ctx = st.session_state.get("xlr.context")
    return ctx.settings if ctx is not None else None


def context() -> Context:
    """The context stored by this run's :func:`sidebar`; stops the page quietly if there is none."""
    ctx = st.session_state.get("xlr.context")
    if ctx is None:
        st.info("Choose a data set and an encoder in the sidebar.")
        st.stop()
    return ctx


def render_no_data() -> None:
    """Main-area explanation when no data set is loaded: what failed and how to go on."""
    failure = st.session_state.get("xlr.load_error")
    if failure is None:
        st.info("Choose a data set and at least one encoder in the sidebar.")
        return
    source, message, unavailable = failure
    if unavailable:
        st.warning("No data set is available yet: it is not on this machine and could not be downloaded (offline?).")
    st.error(literal(message))
    st.markdown(
        "To go on, use the sidebar: **upload a JSONL file** (one JSON object per line with `id`, `lang`, "
        "`title`, `url`, `text`), or type the **local path** of a JSONL file, an XQuAD folder "
        "(`xquad.<lang>.json`) or a Tatoeba folder (`tatoeba.<xxx>-eng.<xxx|eng>`) and press *Load path*. "
        f"Named data sets are read from the data directory {literal(str(data_dir()))} (set `XLR_DATA_DIR`)."
    )
    if unavailable:
        st.button(
            "Try the download again",
            key="w.retry",
            on_click=lambda: st.session_state["xlr.failed"].pop(source, None),
        )


def inject_css() -> None:
    """Direction-aware text (Arabic, Hebrew...) in texts, tables and inputs; constant CSS only."""
    st.markdown(_CSS, unsafe_allow_html=True)


@contextmanager
def guard() -> Iterator[None]:
    """Show an error of the core (``ValueError``, ``OSError``, ``KeyError``, ``RuntimeError``) as one line
    and stop the page: never a traceback."""
    try:
        yield
    except (ValueError, OSError, KeyError, RuntimeError) as exc:
        st.error(literal(error_text(exc)))
        st.stop()
