"""The dashboard's side of :mod:`xlr.report.sanitize`: Streamlit elements that show data as text.

Every page draws tables, tab labels and link labels that hold strings from a data set, the URL or a
file name through these wrappers (and captions and messages through :func:`literal`), so a Markdown
link, HTML, a ``:shortcode:`` or a bidi control in a corpus shows as its characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from xlr.dashboard.state import literal
from xlr.report.sanitize import markdown_cell, markdown_frame, markdown_text

__all__ = ["literal", "markdown_cell", "markdown_frame", "short_name", "table", "tabs"]


def table(data: pd.DataFrame | Mapping[str, Sequence[Any]], **kwargs: Any) -> None:
    """``st.table`` of ``data`` (a frame or a dict of columns) with every text cell and column name escaped."""
    st.table(markdown_frame(pd.DataFrame(data)), **kwargs)


def tabs(labels: Sequence[str]) -> Sequence[Any]:
    """``st.tabs`` whose labels (model names from the URL, language codes) show verbatim."""
    return st.tabs([markdown_text(label) for label in labels])


def short_name(name: str, limit: int = 60) -> str:
    """A file name cut in the middle to ``limit`` characters (``…``), keeping its start and its extension."""
    if len(name) <= limit:
        return name
    keep = limit - 1
    return name[: keep - keep // 3] + "…" + name[-(keep // 3) :]
