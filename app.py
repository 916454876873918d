"""xlr dashboard: ``streamlit run app.py``.

This script is the Overview (``xlr.dashboard.overview``): encoders side by side with 95 %
intervals and ties, charts, the mixed-language pool, downloads. The other pages are the files in
``pages/`` (Streamlit's file-based multipage mode, so every page has its own URL, deep links
included); each page, this one too, draws the shared sidebar (data set, encoders, k, directions,
first N ids, mirrored in the URL) through ``xlr.dashboard.ui.context``, and the list of pages
comes from ``xlr.dashboard.nav.PAGES``.
"""

from __future__ import annotations

from xlr.dashboard import overview, ui

with ui.guard():
    overview.page()
ui.flush_url()  # the URL is written once per run (ui.stop writes it too): one browser history entry per view
