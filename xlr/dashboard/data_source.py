"""Where the sidebar's data set comes from: named data sets (downloaded with a progress bar), a path typed in
the path box, or an upload, each validated before it is selected; failures stay as messages in the session
(the session key ``data_msg``) and *Skip bad lines* re-applies to the file that was just rejected."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from xlr.atomic import atomic_write
from xlr.dashboard import resources as res
from xlr.dashboard.safe import short_name
from xlr.dashboard.serve import serve_policy
from xlr.dashboard.state import DataKey, error_text, literal, source_stamp
from xlr.data.loaders import load_jsonl
from xlr.data.registry import DATASETS, DatasetUnavailable, LoadedDataset, ensure_dataset, select_languages
from xlr.encoders.cache import default_cache_dir

__all__ = [
    "LazyProgress",
    "languages_widget",
    "load_source",
    "on_languages",
    "on_lenient",
    "on_load_path",
    "select_source",
    "source_labeller",
    "try_upload",
]


def source_labeller(labels: dict[str, str]) -> Callable[[str], str]:
    """The data set picker's labels, bound to this run's label table (the format function may be
    called outside the script run, where ``st.session_state`` is not this session's)."""
    table = dict(labels)
    uploads = default_cache_dir() / "uploads"

    def label(source: str) -> str:
        if source in table:
            return table[source]
        if source in DATASETS:
            return f"{source} (named)"
        path = Path(source)
        if path.parent.parent == uploads:  # uploads/<sha256[:16]>/<name>: after a reload, the file's name
            return f"{path.name} (upload)"
        return source

    return label


class LazyProgress:
    """``progress(done, total)`` that draws a bar only once something is really downloaded."""

    def __init__(self, label: str, unit: str = "bytes") -> None:
        self.label, self.unit = label, unit
        self.bar: Any = None

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is None:
            self.bar = st.progress(0.0)
        frac = min(done / total, 1.0) if total else 0.0
        self.bar.progress(frac, text=f"{self.label}: {done} of {total or '?'} {self.unit}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.empty()


def select_source(source: str, label: str) -> None:
    ss = st.session_state
    if source not in ss["xlr.sources"]:
        ss["xlr.sources"].append(source)
    ss["xlr.labels"][source] = label
    ss["w.dataset"], ss["xlr.data_msg"] = source, None
    ss["xlr.failed"].pop(source, None)


def on_load_path() -> None:
    ss = st.session_state
    raw = str(ss.get("w.path", "")).strip()
    if not raw:
        ss["xlr.data_msg"] = "Type the path of a JSONL file, an XQuAD folder or a Tatoeba folder first."
        return
    refusal = serve_policy().refuse_source(raw, tuple(DATASETS))  # decided before the disk is touched
    if refusal:
        ss["xlr.data_msg"] = f"The path was not loaded: {refusal}."
        return
    try:
        source = raw if raw in DATASETS else str(Path(raw).expanduser().resolve())
        res.dataset(source, source_stamp(source), bool(ss.get("w.lenient")))
    except (ValueError, OSError, RuntimeError) as exc:
        ss["xlr.data_msg"] = f"{raw} was not loaded: {error_text(exc)}"
        ss["xlr.retry"] = ("path", raw)
        return
    select_source(source, raw)


def try_upload() -> None:
    """Validate and store the chosen upload (again after *lenient* changes); select it when it loads."""
    ss = st.session_state
    upload = ss.get("w.upload")
    if upload is None:
        return
    data = upload.getvalue()
    try:
        load_jsonl(data, name=upload.name, lenient=bool(ss.get("w.lenient")))
    except (ValueError, OSError) as exc:
        ss["xlr.data_msg"] = f"{short_name(upload.name)} was not loaded: {error_text(exc)}"
        ss["xlr.retry"] = ("upload", upload.name)
        return
    try:
        path = save_upload(data, upload.name, default_cache_dir() / "uploads")
    except OSError as exc:
        ss["xlr.data_msg"] = f"{short_name(upload.name)} could not be stored: {exc.strerror or exc}"
        return
    ss["xlr.retry"] = None
    select_source(str(path), f"{short_name(upload.name)} (upload)")


def on_lenient() -> None:
    """Ticking *Skip bad lines* re-applies to the file that was just rejected."""
    retry = st.session_state.get("xlr.retry")
    if retry and retry[0] == "upload":
        try_upload()
    elif retry and retry[0] == "path":
        on_load_path()


def on_languages() -> None:
    """Another language selection is another download: a failure recorded for the data set is retried."""
    st.session_state["xlr.failed"].pop(st.session_state.get("w.dataset"), None)


def languages_widget(source: str) -> str:
    """*Languages* of a named many-language data set (Tatoeba 112, NTREX 128, XQuAD 12): only their files are
    downloaded and read. Returns what is loaded: the typed selection, or ``""`` (the data set's default) when
    empty, unreadable (one sidebar warning says why) or ``source`` has no language choice."""
    spec = DATASETS.get(source)
    if spec is None or not spec.languages:
        return ""
    default = ", ".join(spec.default_languages or spec.languages)
    st.sidebar.text_input(
        "Languages",
        key="w.languages",
        on_change=on_languages,
        placeholder=f"default: {default[:60]}{'…' if len(default) > 60 else ''}",
        help=f"'all' ({len(spec.languages)} languages) or codes in any form (sw, swh, zho-CN), comma-separated. "
        "Only their files are downloaded and read.",
    )
    typed = str(st.session_state.get("w.languages", "")).strip()
    if not typed:
        return ""
    try:
        select_languages(spec, typed)
    except ValueError as exc:
        st.sidebar.warning(literal(f"{exc}: the default languages are used"))
        return ""
    return typed


def load_source(source: str, lenient: bool, languages: str = "") -> tuple[LoadedDataset, DataKey]:
    """The data set and its :data:`~xlr.dashboard.state.DataKey` ``(source, file stamp, lenient, languages)``;
    a named one is downloaded first (only the files of ``languages``: ``""`` is its default selection)."""
    failed = st.session_state["xlr.failed"]
    if source in DATASETS:
        if source in failed:
            raise DatasetUnavailable(failed[source])
        bar = LazyProgress(f"Downloading {source}")
        try:
            ensure_dataset(source, download_missing=True, progress=bar, languages=languages or None)
        except DatasetUnavailable as exc:
            failed[source] = str(exc)
            raise
        finally:
            bar.close()
    dkey = (source, source_stamp(source), lenient, languages)
    return res.dataset(*dkey), dkey


def save_upload(data: bytes, name: str, folder: Path) -> Path:
    """Store uploaded bytes as ``folder/<sha256[:16]>/<name>.jsonl`` (atomic) and return the path.

    ``name`` is reduced to its last component with characters outside ``[\\w.-]`` replaced;
    ``.jsonl`` is appended unless it ends in ``.jsonl``/``.ndjson``; a name over 100 characters keeps
    its first 100 (file systems refuse names over 255 bytes). ``OSError`` if unwritable.
    """
    safe = re.sub(r"[^\w.-]", "_", Path(name).name).lstrip(".") or "upload"
    if len(safe) > 100:
        stem, dot, ext = safe.rpartition(".")
        safe = f"{stem[:100]}.{ext[:10]}" if dot and stem else safe[:100]
    path = (
        folder
        / hashlib.sha256(data).hexdigest()[:16]
        / (safe if safe.endswith((".jsonl", ".ndjson")) else safe + ".jsonl")
    )
    atomic_write(path, lambda fh: fh.write(data))
    return path
