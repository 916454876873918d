"""The main area when no data set is loaded: what failed and how to go on (the sidebar stays usable)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import streamlit as st

from xlr.dashboard import state
from xlr.dashboard.state import error_text, literal
from xlr.data.download import DatasetUnavailable
from xlr.data.registry import data_dir

__all__ = ["load_failure", "render_no_data"]

_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+")


def load_failure(source: str, exc: BaseException) -> tuple[str, str, bool, tuple[str, ...]]:
    """``(source, message, unavailable, urls)`` kept in the session for the page; ``urls`` are the download
    addresses the app itself built (:attr:`DatasetUnavailable.missing`), never text from the data."""
    urls = tuple(u for u, _ in getattr(exc, "missing", ())) if isinstance(exc, DatasetUnavailable) else ()
    return source, error_text(exc), isinstance(exc, DatasetUnavailable), urls


def with_links(message: str, urls: Sequence[str]) -> str:
    """``message`` escaped by :func:`literal`, except the app's own download ``urls`` in it, which become
    Markdown autolinks (``<https://…>``) that read and copy as the plain address. An address with characters
    outside :data:`_PLAIN_URL` (a strange mirror setting) stays escaped text."""
    safe = sorted({u for u in urls if _PLAIN_URL.fullmatch(u)}, key=len, reverse=True)
    if not safe:
        return literal(message)
    parts = re.split("(" + "|".join(re.escape(u) for u in safe) + ")", message)
    return "".join(f"<{p}>" if i % 2 else literal(p) if p.strip() else p for i, p in enumerate(parts))


def render_no_data() -> None:
    """Main-area explanation when no data set is loaded: what failed and how to go on."""
    failure = st.session_state.get("xlr.load_error")
    if failure is None:
        st.info(
            "Choose a data set, at least one encoder and at least one direction in the sidebar (it says what is missing)."
        )
        return
    source, message, unavailable = failure[:3]
    urls = failure[3] if len(failure) > 3 else ()
    if unavailable:
        here = [n for n in state.available_datasets() if n != source]
        st.warning(
            (
                f"{literal(source)} is not on this machine and could not be downloaded (offline?); "
                f"{literal(', '.join(here))} {'is' if len(here) == 1 else 'are'} here: choose one in the sidebar."
                if here
                else f"No data set is available yet: {literal(source)} is not on this machine and could not be "
                "downloaded (offline?)."
            )
            + " Your other settings are kept."
        )
    st.error(with_links(message, urls))
    st.markdown(
        "To go on, use the sidebar: **choose another data set**, **upload a JSONL file** (one JSON object per "
        "line with `id`, `lang`, `title`, `url`, `text`), or type the **local path** of a JSONL file, an XQuAD "
        "folder (`xquad.<lang>.json`) or a Tatoeba folder (`tatoeba.<xxx>-eng.<xxx|eng>`) and press *Load path*. "
        f"Named data sets are read from the data directory {literal(str(data_dir()))} (set `XLR_DATA_DIR`)."
    )
    if unavailable:
        st.button(
            "Try the download again",
            key="w.retry",
            on_click=lambda: st.session_state["xlr.failed"].pop(source, None),
        )
