"""The dashboard's pages, listed once: the sidebar's page list and every link between pages come from it.

Streamlit serves ``app.py`` (the Overview) and each file of the top-level ``pages/`` folder as
its own multipage app (public, file-based multipage mode: a deep link such as
``/Ad-hoc_search?q=...`` runs that page's script, which draws the shared sidebar itself through
:func:`xlr.dashboard.ui.context`).  Streamlit's automatic page list is switched off in
``.streamlit/config.toml`` (``client.showSidebarNavigation = false``) so that :func:`page_list`
draws it from :data:`PAGES`, with the Overview named as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

__all__ = ["PAGES", "Page", "link", "page", "page_list"]


@dataclass(frozen=True)
class Page:
    """One page: a short ``key`` for links, its script relative to ``app.py``, its title and icon.

    ``url_path`` is the path Streamlit serves it at (the file name without its sort number).
    """

    key: str
    script: str
    title: str
    icon: str | None = None

    @property
    def url_path(self) -> str:
        stem = self.script.rsplit("/", 1)[-1].removesuffix(".py")
        return "" if self.script == "app.py" else stem.split("_", 1)[1]


PAGES: tuple[Page, ...] = (
    Page("overview", "app.py", "Overview", "📊"),
    Page("heatmap", "pages/1_Similarity_heatmap.py", "Similarity heatmap", "🔥"),
    Page("map", "pages/2_Embedding_map.py", "Embedding map", "🗺️"),
    Page("failed", "pages/3_Failed_queries.py", "Failed queries", "❌"),
    Page("search", "pages/4_Ad-hoc_search.py", "Ad-hoc search", "🔎"),
    Page("strategies", "pages/6_Strategies.py", "Strategies", "🧪"),
)
"""Every page in menu order (a test checks it against the files in ``pages/``)."""


def page(key: str) -> Page:
    """The page called ``key`` (``ValueError`` naming the known keys otherwise)."""
    for p in PAGES:
        if p.key == key:
            return p
    raise ValueError(f"no dashboard page {key!r}; pages: {', '.join(p.key for p in PAGES)}")


def link(where: Any, key: str, label: str | None = None, params: dict[str, str] | None = None) -> None:
    """A link to page ``key`` in ``where`` (``st``, a column, the sidebar) with the page's icon,
    carrying ``params`` as URL query parameters."""
    p = page(key)
    where.page_link(p.script, label=label or p.title, icon=p.icon, query_params=params or {})


def page_list() -> None:
    """The sidebar's list of pages (every page draws it first, via :func:`xlr.dashboard.ui.context`)."""
    for p in PAGES:
        st.sidebar.page_link(p.script, label=p.title, icon=p.icon)
