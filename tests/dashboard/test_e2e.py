"""End to end: a real ``streamlit run app.py`` driven by headless Debian Chromium (Playwright).

The server starts on Tatoeba, first 30 ids per direction, e5-small and use-m3 (the
settings of test_app.py, so the session's embedding cache is reused). Screenshots of
every page go to ``artifacts/screenshots/``; ``XLR_UPDATE_SCREENSHOT=1`` also refreshes ``docs/overview.png``.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.app_server import AppDidNotStart, app_server
from xlr.dashboard.views import selected_ids
from xlr.data.registry import resolve_dataset
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.directions import default_directions
from xlr.retrieval.search import search

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIRST = 30
SCRIPT = "<script>window.__xlr_pwned = 1</script>"
XSS = [
    {
        "id": "x1",
        "lang": "en",
        "title": "<b>bold title</b>",
        "url": "",
        "text": f"{SCRIPT} The cat sleeps on the mat.",
    },
    {
        "id": "x1",
        "lang": "de",
        "title": "Katze",
        "url": "",
        "text": 'Die Katze schläft auf der Matte. <img src=x onerror="window.__xlr_pwned = 2">',
    },
    {
        "id": "x2",
        "lang": "en",
        "title": "Paris",
        "url": "",
        "text": "It is raining in Paris today.",
    },
    {
        "id": "x2",
        "lang": "de",
        "title": "Paris",
        "url": "",
        "text": "Heute regnet es in Paris.",
    },
]


def _serve(tmp_path_factory):
    """Start ``streamlit run app.py`` on a free port with its own empty cache; yield its URL."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium) or set CHROMIUM")
    env = dict(
        os.environ,
        XLR_DEFAULT_DATASET="tatoeba",
        XLR_DEFAULT_MODELS="e5-small,use-m3",
        XLR_DEFAULT_FIRST=str(FIRST),
        XLR_DATA_BASE_URL="http://127.0.0.1:9",  # wiki6 is not on disk: its download fails at once
        # the server's own empty embedding cache: what these tests encode (and cancel) does not depend on
        # what earlier tests of the session happened to cache
        XLR_CACHE_DIR=str(tmp_path_factory.mktemp("server-cache")),
    )
    for var in ("XLR_DEFAULT_KS", "XLR_DEFAULT_DIRECTIONS"):
        env.pop(var, None)
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    yield from served(env, log)


def served(env: dict[str, str], log: Path) -> Iterator[str]:
    """Yield the URL of a real app server started with ``env`` (a fixture's body: ``yield from served(...)``);
    fail the test if it does not start, and fail it if the server's log shows a traceback afterwards."""
    try:
        with app_server(env, log) as url:
            yield url
    except AppDidNotStart as exc:
        pytest.fail(str(exc))
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the tests of this module that do not care what it served before."""
    yield from _serve(tmp_path_factory)


@pytest.fixture
def fresh_server(tmp_path_factory):
    """A server nobody has visited yet: its first request is the test's own (a deep link, say)."""
    yield from _serve(tmp_path_factory)


@pytest.fixture(scope="module")
def translations(e5):
    """A Greek and a Chinese sentence whose English translation search ranks first (as the page does)."""
    corpus = resolve_dataset("tatoeba", download_missing=False).corpus
    sub = corpus.subset(ids=selected_ids(corpus, default_directions(corpus), FIRST))
    emb = CorpusEmbeddings(sub, e5, EmbeddingCache())
    picked = {}
    for lang in ("el", "zh"):
        picked[lang] = next(
            d
            for d in (sub.documents[int(i)] for i in sub.positions(lang))
            if search(sub, emb, d.text, ["en"], k=1).hits[0].document.id == d.id
        )
    return picked


def settle(page, timeout: float = 240_000) -> None:
    """Wait until the app has finished running (no status widget, no progress bar)."""
    page.wait_for_timeout(400)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stProgress\"]')"
        " && !document.querySelector('[data-testid=\"stSpinner\"]')",
        timeout=timeout,
    )
    page.wait_for_timeout(400)


def goto_page(page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    page.wait_for_selector(f"h1:has-text('{name}')", timeout=120_000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def open_hubs(page, server: str) -> None:
    """The heatmap of use-m3 on el->en (no Greek in use-m3: queries pile onto a few English sentences,
    so hubs are certain) with hubs counted from 2 captured queries."""
    page.goto(f"{server}/Similarity_heatmap?model=use-m3&source=el&target=en")
    page.wait_for_selector("h1:has-text('Similarity heatmap')", timeout=120_000)
    settle(page)
    hub_min = page.locator('input[aria-label="Hub: top-1 of at least"]')
    hub_min.fill("2")
    hub_min.press("Enter")
    settle(page)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def save_overview_png(page) -> None:
    """The README screenshot: the overview at 1280 x 1350, palette-compressed to stay small.

    Written to ``artifacts/screenshots/overview-readme.png``; also to ``docs/overview.png``
    when ``XLR_UPDATE_SCREENSHOT=1`` (so a test run leaves the work tree clean)."""
    from PIL import Image

    page.set_viewport_size({"width": 1280, "height": 1350})
    page.wait_for_timeout(1500)
    img = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    img = img.quantize(colors=96, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    targets = [ROOT / "artifacts" / "screenshots" / "overview-readme.png"]
    if os.environ.get("XLR_UPDATE_SCREENSHOT") == "1":
        targets.append(ROOT / "docs" / "overview.png")
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        img.save(target, optimize=True)
        assert target.stat().st_size < 300_000
    page.set_viewport_size({"width": 1280, "height": 900})


def first_hit_row(page) -> list[str]:
    row = page.locator('[data-testid="stTable"]').first.locator("tbody tr").first
    return [c.strip() for c in row.locator("td").all_inner_texts()]


TABLE_JS = "() => { const t = document.querySelector('[data-testid=\"stTable\"]'); return t ? t.innerText : ''; }"


def run_query(page, text: str) -> None:
    """Submit a query and wait until the page shows its (new) results."""
    before = page.evaluate(TABLE_JS)
    page.get_by_label("Query (any language)").fill(text)
    page.get_by_role("button", name="Search", exact=True).click()
    settle(page)
    encode = page.get_by_role("button", name=re.compile(r"^Encode the pool"))
    if encode.count():  # a pool not encoded yet states its cost first: accept it
        encode.click()
    echo = page.locator('[data-testid="stText"]').filter(has_text=text.strip())
    echo.first.wait_for(timeout=120_000)  # the page echoes the query it answers (as plain text)
    page.wait_for_function(f"b => ({TABLE_JS})() !== b", arg=before, timeout=120_000)
    settle(page)


def test_every_page_in_a_browser(server, translations, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(server)
            page.wait_for_selector("h1:has-text('Overview')", timeout=120_000)
            page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=240_000)
            settle(page)
            assert page.locator('[data-testid="stTable"]').count() == 1  # the comparison table
            assert page.locator('[data-testid="stPlotlyChart"]').count() == 3  # bars + a heatmap per model
            shot(page, "1-overview")
            save_overview_png(page)

            goto_page(page, "Similarity heatmap")
            page.wait_for_selector('[data-testid="stPlotlyChart"]')
            shot(page, "2-similarity-heatmap")

            goto_page(page, "Embedding map")
            page.wait_for_selector('[data-testid="stPlotlyChart"]')
            shot(page, "3-embedding-map")

            goto_page(page, "Failed queries")
            assert page.get_by_text("queries fail at k = 1").count() == 1
            arabic = page.locator('[data-testid="stText"]').first
            assert any("\u0600" <= ch <= "\u06ff" for ch in arabic.inner_text())  # ar->en comes first
            assert arabic.evaluate("e => getComputedStyle(e).unicodeBidi") == "plaintext"
            shot(page, "4-failed-queries")

            goto_page(page, "Ad-hoc search")
            # the reference search ranks the selection: the default while the whole corpus is not encoded
            for lang in ("el", "zh"):
                doc = translations[lang]
                run_query(page, doc.text)
                cells = first_hit_row(page)
                assert cells[:4] == ["1", cells[1], "en", doc.id], cells  # rank 1 is the linked English sentence
            assert (
                page.get_by_label("Query (any language)").evaluate("e => getComputedStyle(e).unicodeBidi")
                == "plaintext"
            )
            shot(page, "5-ad-hoc-search")

            goto_page(page, "Strategies")
            assert page.get_by_text("Encoding cost of a run").count() == 1
            shot(page, "5b-strategies")

            # the sidebar is shared: a change on the overview holds on another page
            goto_page(page, "Overview")
            first_n = page.locator('input[aria-label="First N ids (0 = all)"]')
            first_n.fill("20")
            first_n.press("Enter")
            settle(page)
            goto_page(page, "Failed queries")
            assert page.get_by_text("of 20 queries fail").count() == 1
            assert page.locator('input[aria-label="First N ids (0 = all)"]').input_value() == "20"

            # an uploaded corpus with markup in its texts: shown as text, nothing runs
            path = tmp_path / "markup.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in XSS), encoding="utf-8")
            page.get_by_text("Your own data: a path or an upload").click()
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
            page.get_by_text("4 documents, 2 ids").wait_for(timeout=120_000)
            settle(page)
            goto_page(page, "Ad-hoc search")
            run_query(page, "a cat sleeping on a mat <b>now</b>")
            cells = first_hit_row(page)
            assert SCRIPT in cells[-1] and "<b>bold title</b>" in cells
            assert page.locator('[data-testid="stText"]').filter(has_text="<b>now</b>").count() == 1
            assert (
                page.locator(
                    '[data-testid="stTable"] b, [data-testid="stTable"] img, [data-testid="stTable"] script'
                ).count()
                == 0
            )
            goto_page(page, "Similarity heatmap")
            shot(page, "6-markup-is-text")
            assert page.evaluate("() => window.__xlr_pwned") is None
            assert dialogs == []
        finally:
            browser.close()


OVERVIEW_JS = "() => [...document.querySelectorAll('[data-testid=\"stTable\"] tr')].map(r => r.innerText)"


def sidebar_first(page):
    return page.locator('input[aria-label="First N ids (0 = all)"]')


def set_first(page, n: int) -> None:
    sidebar_first(page).fill(str(n))
    sidebar_first(page).press("Enter")
    settle(page)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar selectbox ``label``."""
    page.locator(f'[data-testid="stSidebar"] [data-testid="stSelectbox"]:has-text("{label}")').click()
    page.get_by_role("option", name=option).first.click()
    settle(page)


def test_state_links_lenient_and_jobs_in_a_browser(server, shared_data, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server)
            page.wait_for_selector('[data-testid="stTable"]', timeout=240_000)
            settle(page)
            # the overview: encoder columns, every cell with its interval
            header = page.locator('[data-testid="stTable"] thead').inner_text()
            assert "e5-small" in header and "use-m3" in header
            rows = page.evaluate(OVERVIEW_JS)
            assert re.search(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", rows[1]), rows[:3]

            # wiki6 (not here, no download) then tatoeba: encoders and N are kept
            set_first(page, FIRST - 10)
            choose(page, "Data set", "wiki6 (named)")
            page.get_by_text("wiki6 is not on this machine").wait_for(timeout=60_000)  # (the others are named)
            choose(page, "Data set", "tatoeba (named)")
            page.wait_for_selector('[data-testid="stTable"]', timeout=120_000)
            settle(page)
            assert sidebar_first(page).input_value() == str(FIRST - 10)
            assert (
                page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]')
                .first.inner_text()
                .count("e5-small")
                == 1
                and "use-m3" in page.locator('[data-testid="stSidebar"]').inner_text()
            )

            # the URL holds the settings; a fresh page on that URL shows the same table
            assert "first=20" in page.url and "models=e5-small%2Cuse-m3" in page.url, page.url
            table = page.evaluate(OVERVIEW_JS)
            other = browser.new_page(viewport={"width": 1280, "height": 900})
            other.goto(page.url)
            other.wait_for_selector('[data-testid="stTable"]', timeout=240_000)
            settle(other)
            assert other.evaluate(OVERVIEW_JS) == table
            other.close()

            # a failed query's link opens the heatmap at its row
            goto_page(page, "Failed queries")
            opened = page.get_by_role("link", name=re.compile(r"Open its heatmap row"))
            row = re.search(r"\((\d+)\)", opened.inner_text()).group(1)
            opened.click()
            page.wait_for_selector("h1:has-text('Similarity heatmap')", timeout=120_000)
            settle(page)
            assert page.locator('input[aria-label^="First row"]').input_value() == row
            assert f"row={row}" in page.url
            shot(page, "7-heatmap-from-failed-query")

            # a hub lists the queries it captured; each opens its heatmap row or a pre-filled search
            open_hubs(page, server)
            page.get_by_text("Queries whose top-1 is").wait_for(timeout=60_000)
            row_link = page.get_by_role("link", name=re.compile(r"^row \d+: "))
            row = re.search(r"row (\d+)", row_link.first.inner_text()).group(1)  # (after the page icon)
            row_link.first.click()
            settle(page)
            assert page.locator('input[aria-label^="First row"]').input_value() == row and f"row={row}" in page.url
            open_hubs(page, server)
            page.get_by_role("link", name="search this query").first.click()
            page.wait_for_selector("h1:has-text('Ad-hoc search')", timeout=120_000)
            settle(page)
            query = page.get_by_label("Query (any language)").input_value()
            assert any("\u0370" <= ch <= "\u03ff" for ch in query), query  # the Greek query, pre-filled
            search_in = page.locator('[data-testid="stMain"] [data-testid="stMultiSelect"]').nth(1)
            chips = search_in.locator("[data-tag]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
            assert chips == ["en"]  # the hub's target language only

            # lenient re-applies to the rejected file
            bad = tmp_path / "one-bad-line.jsonl"
            bad.write_text("".join(json.dumps(r) + "\n" for r in XSS) + '{"id": "x3", "text": "no lang"}\n')
            page.get_by_text("Your own data: a path or an upload").click()
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
            page.get_by_text("one-bad-line.jsonl was not loaded").wait_for(timeout=60_000)
            page.get_by_text("Skip bad lines (lenient)").click()
            page.get_by_text("4 documents, 2 ids").wait_for(timeout=120_000)
            settle(page)
        finally:
            browser.close()


def test_xquad_search_fits_and_encoding_never_blocks(fresh_server, shared_data):
    server = fresh_server
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # a deep link is the server's first visit: the page still gets the sidebar and the link's state
            # (Streamlit would otherwise run pages/4_Ad-hoc_search.py alone, the multipage-v1 way)
            page.goto(f"{server}/Ad-hoc_search?dataset=xquad&first=10&models=e5-small%2Cuse-m3")
            page.wait_for_selector("h1:has-text('Ad-hoc search')", timeout=240_000)
            settle(page)
            assert page.get_by_role("link", name="Overview").count() == 1
            assert page.locator('input[aria-label="First N ids (0 = all)"]').input_value() == "10"
            assert "1680 documents" in page.locator('[data-testid="stSidebar"]').inner_text()

            # ad-hoc search on XQuAD paragraphs, two encoders, k = 10: side by side in columns, snippets
            # the whole corpus (1680 paragraphs an encoder) is not encoded: the pool is the selection, and
            # choosing the whole corpus states its cost before anything is encoded
            page.get_by_text("Whole corpus", exact=True).first.click()
            page.get_by_label("Query (any language)").fill("Which river flows through the rainforest?")
            page.get_by_role("button", name="Search", exact=True).click()
            page.get_by_text("encodes it first").wait_for(timeout=120_000)
            settle(page)
            assert page.locator('[data-testid="stProgress"]').count() == 0
            assert page.get_by_role("button", name=re.compile(r"^Encode the pool")).count() == 1
            assert "0 texts/s" not in page.locator('[data-testid="stMain"]').inner_text()
            shot(page, "8a-xquad-search-cost")
            # back to the selection (10 ids), by a link: encoded after its cost is accepted (run_query)
            page.goto(f"{server}/Ad-hoc_search?dataset=xquad&first=10&models=e5-small%2Cuse-m3&whole=0")
            page.wait_for_selector("h1:has-text('Ad-hoc search')", timeout=120_000)
            settle(page)
            run_query(page, "Which river flows through the rainforest?")
            height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
            assert height < 3000, height
            assert page.get_by_role("tab").count() == 0 and page.locator('[data-testid="stTable"]').count() == 2
            shot(page, "8-xquad-search")

            # a long encoding runs in the background: another session renders meanwhile; Cancel stops it
            page.goto(f"{server}/?dataset=tatoeba&first=all&models=e5-small")
            cancel = page.get_by_role("button", name="Cancel")
            cancel.wait_for(timeout=240_000)
            second = browser.new_page(viewport={"width": 1280, "height": 900})
            second.goto(server)
            second.wait_for_selector('[data-testid="stTable"]', timeout=240_000)
            assert cancel.is_visible()  # the first session is still encoding
            second.close()
            cancel.click()
            # the warning and its button arrive in separate deltas: wait for both, never count at once
            warning = page.get_by_text("cancelled after")
            warning.wait_for(timeout=120_000)
            resume = page.get_by_role("button", name="Resume encoding")
            resume.wait_for(timeout=60_000)
            page.wait_for_function("() => !document.querySelector('[data-testid=\"stProgress\"]')", timeout=60_000)
            kept = int(re.search(r"cancelled after (\d+) of", warning.inner_text()).group(1))
            shot(page, "9-encoding-cancelled")

            # Resume starts a new job that counts the kept texts as done, then Cancel stops it again
            resume.click()
            page.locator('[data-testid="stProgress"]').wait_for(timeout=120_000)
            # the bar goes on from the kept texts (once the job has looked them up in the cache), never from 0
            page.wait_for_function(
                """kept => { const bar = document.querySelector('[data-testid="stProgress"]');
                             const m = bar && bar.innerText.match(/: (\\d+) of \\d+ texts/);
                             return m && Number(m[1]) >= kept; }""",
                arg=kept,
                timeout=60_000,
            )
            page.get_by_role("button", name="Cancel").click()
            page.get_by_text("cancelled after").wait_for(timeout=120_000)
        finally:
            browser.close()


def selected(page, label: str) -> str:
    """The shown value of the main-area selectbox ``label``."""
    return page.locator(f'[data-testid="stMain"] input[aria-label="{label}"]').first.input_value()


def test_links_open_the_encoder_they_name_and_back_restores(server):
    """Failed queries of use-m3 -> *Open its heatmap row* shows use-m3 (in-session, not only pasted);
    browser Back returns to the failed query of use-m3, Forward to the heatmap row."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server}/Failed_queries?model=use-m3&direction=el-%3Een")
            page.wait_for_selector("h1:has-text('Failed queries')", timeout=240_000)
            page.get_by_role("link", name=re.compile(r"Open its heatmap row")).wait_for(timeout=240_000)
            settle(page)
            assert selected(page, "Encoder") == "use-m3"
            opened = page.get_by_role("link", name=re.compile(r"Open its heatmap row"))
            row = re.search(r"\((\d+)\)", opened.inner_text()).group(1)
            opened.click()
            page.wait_for_selector("h1:has-text('Similarity heatmap')", timeout=120_000)
            settle(page)
            assert selected(page, "Encoder") == "use-m3"
            assert selected(page, "Source (queries)") == "el"
            assert page.locator('input[aria-label^="First row"]').input_value() == row
            title = page.locator('[data-testid="stPlotlyChart"] .gtitle').first.text_content()
            assert "use-m3: el → en" in title, title

            page.go_back()  # one step: the heatmap's first run adds no history entry of its own
            page.wait_for_selector("h1:has-text('Failed queries')", timeout=120_000)
            settle(page)
            assert selected(page, "Encoder") == "use-m3" and selected(page, "Direction") == "el->en"
            page.go_forward()
            page.wait_for_selector("h1:has-text('Similarity heatmap')", timeout=120_000)
            settle(page)
            assert selected(page, "Encoder") == "use-m3"
            assert page.locator('input[aria-label^="First row"]').input_value() == row

            # a sidebar setting: Back restores it too (the sidebar follows the URL it did not write)
            set_first(page, FIRST - 10)
            assert "first=20" in page.url
            page.go_back()
            page.wait_for_function(f"() => location.search.includes('first={FIRST}')", timeout=60_000)
            settle(page)
            assert sidebar_first(page).input_value() == str(FIRST)
            assert selected(page, "Encoder") == "use-m3"
        finally:
            browser.close()


def test_xquad_ranking_leaves_out_unfair_rows(server, shared_data):
    """XQuAD, first 30, to-en, e5-small and use-m3 (no Greek): the ranking sentence leaves el->en out and
    says so (every other row is at the ceiling, so nothing separates the encoders)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server}/?dataset=xquad&first=30&models=e5-small%2Cuse-m3")
            page.wait_for_selector('[data-testid="stTable"]', timeout=300_000)
            settle(page, timeout=300_000)
            main = page.locator('[data-testid="stMain"]').inner_text()
            sentence = next(line for line in main.splitlines() if line.startswith("Ranking"))
            assert "el->en" in sentence and "left out" in sentence, sentence
            assert "fewer than two" in main, main[:2000]
            assert "rank 2" not in sentence, sentence
        finally:
            browser.close()


def luminance(page) -> float:
    """Relative luminance (0 black .. 1 white) of the app's background colour."""
    rgb = page.evaluate("() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor")
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_os_theme_is_respected_and_every_page_is_shot_light_and_dark(server):
    """The OS dark setting was ignored (theme pinned to light). Screenshots of every page in both."""
    from playwright.sync_api import sync_playwright

    pages = ("Overview", "Similarity heatmap", "Embedding map", "Failed queries", "Ad-hoc search", "Strategies")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for scheme in ("light", "dark"):
                page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
                page.goto(server)
                page.wait_for_selector('[data-testid="stTable"]', timeout=300_000)
                settle(page)
                assert (luminance(page) < 0.3) == (scheme == "dark"), (scheme, luminance(page))
                for i, name in enumerate(pages):
                    if i:
                        goto_page(page, name)
                    shot(page, f"theme-{scheme}-{i}-{name.lower().replace(' ', '-')}")
                page.close()
        finally:
            browser.close()


def test_the_strategies_estimate_follows_the_chosen_strategies(server):
    """Issue 19: the cost caption said the same for 11 strategies, csls alone or none. In a browser, all the
    strategies (centering and Procrustes fit on every other document) cost more texts than csls alone
    (the evaluated ids only), and finding that out encodes nothing."""
    from playwright.sync_api import sync_playwright

    def needed(page) -> list[int]:
        """The texts each encoder needs, from the caption ("… (of N texts; the rest is cached)")."""
        cost = page.get_by_text("Encoding cost of a run")
        cost.wait_for(timeout=120_000)
        return [int(n) for n in re.findall(r"of (\d+) texts", cost.inner_text())]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server}/Strategies")
            page.wait_for_selector("h1:has-text('Strategies')", timeout=240_000)
            settle(page)
            every = needed(page)  # the page's default: every strategy
            pick = page.locator('[data-testid="stMain"] [data-testid="stMultiSelect"]').first
            pick.get_by_role("button", name="Clear all").click()
            settle(page)
            pick.locator("input").fill("csls(k=10)")
            page.get_by_role("option", name="csls(k=10)", exact=True).click()
            page.keyboard.press("Escape")
            settle(page)
            chips = pick.locator("[data-tag]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
            assert chips == ["csls(k=10)"], chips
            csls = needed(page)
            assert len(csls) == len(every) == 2 and all(0 < c < e for c, e in zip(csls, every)), (csls, every)
            assert page.locator('[data-testid="stProgress"]').count() == 0  # an estimate, nothing encoded
        finally:
            browser.close()
