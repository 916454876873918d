"""The main area when no data set is loaded: what failed and how to go on (the sidebar stays usable)."""

from __future__ import annotations

import streamlit as st

from xlr.dashboard import state
from xlr.dashboard.state import literal
from xlr.data.registry import data_dir

__all__ = ["render_no_data"]


def render_no_data() -> None:
    """Main-area explanation when no data set is loaded: what failed and how to go on."""
    failure = st.session_state.get("xlr.load_error")
    if failure is None:
        st.info("Choose a data set and at least one encoder in the sidebar.")
        return
    source, message, unavailable = failure
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
    st.error(literal(message))
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
