"""Pages listed once (xlr.dashboard.nav.PAGES), Streamlit's public multipage mode, no private APIs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from strategy_fakes import synthetic_app

from xlr.dashboard import nav

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = re.compile(r"PagesManager|uses_pages_directory|streamlit\.runtime\.|streamlit\.web\.")


def test_the_page_list_is_the_pages_folder():
    assert nav.PAGES[0].script == "app.py" and nav.PAGES[0].title == "Overview"
    assert [p.script for p in nav.PAGES[1:]] == [f"pages/{f.name}" for f in sorted((ROOT / "pages").glob("*.py"))]
    assert len({p.key for p in nav.PAGES}) == len(nav.PAGES)
    for p in nav.PAGES:  # each script runs alone: it starts with the sidebar and ends writing the URL
        text = (ROOT / p.script).read_text()
        assert "ui.context()" in text or p.script == "app.py", p.script
        assert text.rstrip().splitlines()[-1].startswith("ui.flush_url()"), p.script
    assert nav.page("search").url_path == "Ad-hoc_search" and nav.page("overview").url_path == ""
    with pytest.raises(ValueError, match="no dashboard page 'nope'"):
        nav.page("nope")


def test_no_streamlit_private_api_in_the_app():
    files = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "xlr").rglob("*.py")]
    hits = [
        f"{f.relative_to(ROOT)}:{n}"
        for f in files
        for n, line in enumerate(f.read_text().splitlines(), 1)
        if PRIVATE.search(line)
    ]
    assert not hits


def test_no_literal_page_paths_outside_the_list():
    literal = re.compile(r"pages/\d+_\w")
    files = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "xlr").rglob("*.py")]
    hits = [str(f.relative_to(ROOT)) for f in files if f.name != "nav.py" and literal.search(f.read_text())]
    assert not hits


def test_streamlit_lists_pages_from_the_config_not_file_names():
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert re.search(r"^showSidebarNavigation\s*=\s*false", config, re.M)


def test_every_page_draws_the_sidebar_and_the_page_list(tmp_path, monkeypatch):
    """A page script run on its own (as a deep link on a fresh server runs it) draws the shared sidebar
    and the list of pages; the sidebar's settings survive going from page to page."""
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.number_input(key="w.first").set_value(10).run()
    for p in map(nav.page, ("failed", "search", "heatmap")):  # (the map's UMAP is slow to start)
        at.switch_page(p.script).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.sidebar.multiselect(key="w.models").value == ["fake0", "fake1"], p.script
        assert at.sidebar.number_input(key="w.first").value == 10, p.script
        links = [el.proto.label for el in at.sidebar.get("page_link")]
        assert links == [q.title for q in nav.PAGES], p.script
