"""End to end: a real ``streamlit run app.py`` driven by headless Debian Chromium (Playwright).

The server starts on Tatoeba, first 30 ids per direction, e5-small and use-m3 (the
settings of test_app.py, so the session's embedding cache is reused). Screenshots of
every page go to ``artifacts/screenshots/``; ``XLR_UPDATE_SCREENSHOT=1`` also refreshes ``docs/overview.png``.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium) or set CHROMIUM")
    port = free_port()
    env = dict(
        os.environ,
        XLR_DEFAULT_DATASET="tatoeba",
        XLR_DEFAULT_MODELS="e5-small,use-m3",
        XLR_DEFAULT_FIRST=str(FIRST),
    )
    for var in ("XLR_DEFAULT_KS", "XLR_DEFAULT_DIRECTIONS"):
        env.pop(var, None)
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health in 90 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]


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
    page.get_by_role("button", name="Search").click()
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
            assert page.locator('[data-testid="stDataFrame"]').count() == 1
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
