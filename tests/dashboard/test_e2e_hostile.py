"""End to end (issue 17): a corpus of hostile strings in a real ``streamlit run app.py`` and headless Chromium.

Markdown links, HTML, emoji shortcodes, colour directives, bare links and right-to-left overrides sit in
the text, title, id, language code and file name of the data set. On every page, nothing that came from
the data becomes a link, an image, emphasis, a heading, code, an emoji or a bidi override in the page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.dashboard.test_e2e import ARGS, CHROMIUM, served, settle

pytestmark = pytest.mark.e2e

EVIL = "https://evil.example"
TEXT = (
    f"The cat sleeps [click]({EVIL}) **bold** <b>html</b> <img src=x onerror=window.__xlr_pwned=1> "
    f":smile: :red[red] :material/home: {EVIL}/bare www.evil.example \u202eevil\u202c on the mat."
)
LANG = f"<b>[zz]({EVIL})</b>"
ROWS = [
    ("1", "en", f"**title** [t]({EVIL}) :heart:", TEXT),
    ("1", "de", "<i>Titel</i>", f"Die Katze [x]({EVIL}) schläft auf der Matte :smile:."),
    ("1", LANG, ":heart: t", "Le chat dort sur le tapis."),
    (f"id [i]({EVIL})", "en", "Paris", "It is raining in Paris _today_."),
    (f"id [i]({EVIL})", "de", "Paris", "Heute regnet es in Paris."),
    (f"id [i]({EVIL})", LANG, "Paris", "Il pleut à Paris aujourd'hui."),
    ("3", "en", "apples", f"I like <a href='{EVIL}'>green</a> apples."),
    ("3", "de", "Äpfel", "Ich mag grüne Äpfel."),
    ("3", LANG, "pommes", "J'aime les pommes vertes."),
]
NAME = "[evil](javascript:x) :smile: **bold** <b>corpus.jsonl"
PAGES = ["", "Similarity_heatmap", "Embedding_map", "Failed_queries", "Ad-hoc_search?q=cat+%3Asmile%3A&langs=en"]
MARKERS = ["evil", "bold", "html", "Titel", "title", "today", "green", "zz", "heart", "smile"]
# a violation: a link to the data's address, an image from the data, emphasis/heading/code holding data,
# an emoji the data asked for by shortcode, a bidi override inside rendered Markdown
PROBE = """(markers) => {
  const out = [];
  for (const a of document.querySelectorAll('a[href]')) {
    let bad = true;
    try {
      const u = new URL(a.getAttribute('href'), location.href);
      bad = u.hostname.includes('evil') || u.protocol === 'javascript:';
    } catch (e) {}  // an address the browser cannot even read came from the data
    if (bad) out.push('link ' + a.getAttribute('href'));
  }
  for (const img of document.querySelectorAll('img')) {
    if ((img.getAttribute('src') || '') === 'x') out.push('img');
  }
  const tags = 'strong, em, b, i, del, code, h1, h2, h3, h4, h5, h6, li, blockquote';
  for (const el of document.querySelectorAll('[data-testid="stMarkdownContainer"] :is(' + tags + ')')) {
    const t = el.textContent || '';
    if (markers.some((m) => t.includes(m))) out.push(el.tagName + ' ' + t.slice(0, 60));
  }
  for (const md of document.querySelectorAll('[data-testid="stMarkdownContainer"]')) {
    const t = md.innerText || '';
    if (t.includes('\\u{1F604}') || t.includes('\\u2764')) out.push('emoji ' + t.slice(0, 60));
    if (t.includes('\\u202e')) out.push('bidi override ' + t.slice(0, 60));
  }
  if (window.__xlr_pwned) out.push('script ran');
  return out;
}"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium) or set CHROMIUM")
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / NAME
    path.write_text(
        "".join(json.dumps({"id": i, "lang": g, "title": t, "url": "", "text": x}) + "\n" for i, g, t, x in ROWS),
        encoding="utf-8",
    )
    env = dict(
        os.environ,
        XLR_DEFAULT_DATASET=str(path),
        XLR_DEFAULT_MODELS="e5-small",
        XLR_DEFAULT_FIRST="0",
        XLR_DEFAULT_DIRECTIONS="all",
        XLR_CACHE_DIR=str(tmp_path_factory.mktemp("hostile-cache")),
    )
    env.pop("XLR_DEFAULT_KS", None)
    log = folder / "streamlit.log"
    yield from served(env, log)


def test_hostile_corpus_renders_as_text_in_a_browser(hostile_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for name in PAGES:
                page.goto(f"{hostile_server}/{name}")
                page.wait_for_selector('[data-testid="stSidebar"]', timeout=120_000)
                settle(page)
                assert page.locator('[data-testid="stException"]').count() == 0, name
                shown = page.inner_text("body")
                assert "evil" in shown, f"{name or 'Overview'}: the hostile data is shown"
                assert page.evaluate(PROBE, MARKERS) == [], name or "Overview"
        finally:
            browser.close()
