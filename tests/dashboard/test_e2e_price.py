"""End to end (browser): one encoder at two settings as the Overview's columns with the price of speed,
opened from a link; turned off in the sidebar; browser Back brings the comparison back (issue 20)."""

from __future__ import annotations

import os

import pytest

from tests.dashboard.test_e2e import ARGS, CHROMIUM, FIRST, served, settle

pytestmark = pytest.mark.e2e

HEADERS_JS = (
    "() => { const t = document.querySelector('[data-testid=\"stTable\"] thead'); return t ? t.innerText : ''; }"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium) or set CHROMIUM")
    env = dict(os.environ, XLR_DEFAULT_DATASET="tatoeba", XLR_DEFAULT_MODELS="e5-small", XLR_DEFAULT_FIRST=str(FIRST))
    for var in ("XLR_DEFAULT_KS", "XLR_DEFAULT_DIRECTIONS"):
        env.pop(var, None)
    yield from served(env, tmp_path_factory.mktemp("server") / "streamlit.log")


def test_two_settings_side_by_side_and_back_restores_them(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server}/?compare=torch/fp32/ubinary&compare_model=e5-small")
            page.wait_for_selector("h3:has-text('The price of speed')", timeout=240_000)
            settle(page)
            headers = [h.strip() for h in page.evaluate(HEADERS_JS).split("\t")]
            assert headers[1:3] == ["e5-small · torch fp32", "e5-small · torch fp32 ubinary"], headers
            assert page.locator('[data-testid="stException"]').count() == 0

            page.get_by_text("Compare two settings of one encoder").click()  # off: the plain Overview
            page.wait_for_function("() => !location.search.includes('compare=')", timeout=60_000)
            settle(page)
            assert page.locator("h3:has-text('The price of speed')").count() == 0
            assert "ubinary" not in page.evaluate(HEADERS_JS)

            page.go_back()  # the comparison again, from the URL
            page.wait_for_selector("h3:has-text('The price of speed')", timeout=120_000)
            settle(page)
            assert "compare=torch%2Ffp32%2Fubinary" in page.url or "compare=torch/fp32/ubinary" in page.url
            assert "e5-small · torch fp32 ubinary" in page.evaluate(HEADERS_JS)
        finally:
            browser.close()
