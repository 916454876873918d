"""xlr dashboard: ``streamlit run app.py``.

This script routes every page: it draws the shared sidebar (data set, encoders, k,
directions, first N ids, mirrored in the URL; see ``xlr.dashboard.sidebar``), then runs
the chosen page. Its own page is the Overview (``xlr.dashboard.overview``): encoders side
by side with 95 % intervals and ties, charts, the mixed-language pool, downloads. The other pages are the
files in ``pages/`` (sorted by name; a new file there becomes a page).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from xlr.dashboard import overview, ui

PAGES = Path(__file__).resolve().parent / "pages"


st.set_page_config(page_title="xlr: cross-language retrieval", layout="wide")
ui.inject_css()
nav = st.navigation(
    [
        st.Page(overview.page, title="Overview", default=True),
        *(st.Page(str(p)) for p in sorted(PAGES.glob("[!_]*.py"))),
    ]
)
if ui.sidebar() is None:
    st.title("xlr: cross-language retrieval")
    ui.render_no_data()
    ui.stop()
with ui.guard():
    nav.run()
ui.flush_url()  # the URL is written once per run (ui.stop writes it too): one browser history entry per view
