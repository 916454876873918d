"""End to end (browser): a 20-language corpus with all directions opens as a language matrix, the
difference matrix marks the cells where two encoders differ significantly, filters live in the URL.

The corpus is written by the test: 20 languages x 30 ids; every language but ``swa`` holds the
same short English sentences, ``swa`` holds them after ~300 tokens of one filler phrase.
minilm-en reads 128 tokens (its card), so every ``swa`` document is the same vector to it
(pessimistic ties: recall 0), while e5-small (512 tokens) still finds them: the ``swa`` row and
column are the cells where e5-small is significantly better, and no other cell is.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.dashboard.test_e2e import ARGS, CHROMIUM, served, settle

pytestmark = pytest.mark.e2e

LANGS = "arb ben deu ell eng fra heb hin ita jpn kor nld pol por rus spa swa tam ukr zho".split()
SENTENCES = [
    f"{who} {what} {where}."
    for who, what, where in zip(
        ["The cat", "My brother", "Our teacher", "The old man", "A little girl", "The farmer"] * 5,
        ["sleeps", "reads a book", "plays the violin", "buys bread", "waits for the bus"] * 6,
        ["in the kitchen", "at the station", "near the river", "in Paris", "on Monday", "after lunch"] * 5,
        strict=True,
    )
]
FILLER = "Note. " * 150
GRID_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(g => ({
  title: (g.layout.title && g.layout.title.text) || '', x: g.data[0].x, y: g.data[0].y,
  text: g.data[0].text || null}))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("twenty")
    path = folder / "twenty.jsonl"
    rows = [
        {"id": f"s{i:02d}", "lang": lang, "title": "", "url": "", "text": (FILLER if lang == "swa" else "") + s}
        for i, s in enumerate(SENTENCES)
        for lang in LANGS
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    env = dict(
        os.environ,
        XLR_DEFAULT_DATASET=str(path),
        XLR_DEFAULT_MODELS="minilm-en,e5-small",
        XLR_DEFAULT_FIRST="30",
        XLR_DEFAULT_DIRECTIONS="all",
        XLR_CACHE_DIR=str(tmp_path_factory.mktemp("cache")),
    )
    env.pop("XLR_DEFAULT_KS", None)
    log = folder / "streamlit.log"
    yield from served(env, log)


def grids(page) -> dict[str, dict]:
    found = page.evaluate(GRID_JS)
    return {
        "matrix": next(g for g in found if "per direction" in g["title"]),
        "difference": next(g for g in found if "Holm across" in g["title"]),
    }


def test_twenty_languages_open_as_a_matrix_with_significant_cells_and_url_filters(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server)
            page.wait_for_selector(".js-plotly-plot", timeout=300_000)
            settle(page, 300_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            # a matrix, not a 380-row table: no static table, every data frame shorter than two screens
            assert page.locator('[data-testid="stTable"]').count() == 0
            assert page.get_by_role("radio", name="Language matrix").is_checked()
            heights = page.evaluate(
                "() => [...document.querySelectorAll('[data-testid=\"stDataFrame\"]')]"
                ".map(e => e.getBoundingClientRect().height)"
            )
            assert heights and max(heights) < 2 * 900, heights
            g = grids(page)
            assert sorted(g["matrix"]["x"]) == sorted(LANGS) and len(g["matrix"]["y"]) == 20
            # the difference matrix (baseline minilm-en, candidate e5-small): ▲ exactly on the swa row and column
            diff = g["difference"]
            marked = {
                (diff["y"][i], diff["x"][j]) for i, row in enumerate(diff["text"]) for j, mark in enumerate(row) if mark
            }
            expected = {("swa", x) for x in LANGS if x != "swa"} | {(x, "swa") for x in LANGS if x != "swa"}
            assert marked == expected, sorted(marked ^ expected)[:10]
            assert all(diff["text"][diff["y"].index(s)][diff["x"].index(t)] == "▲" for s, t in expected)

            # filters and order from a link; the URL keeps them across a reload
            page.goto(f"{server}/?ov_langs=swa,deu,eng,ell&ov_order=code&ov_view=matrix")
            page.wait_for_selector(".js-plotly-plot", timeout=120_000)
            settle(page)
            assert grids(page)["matrix"]["x"] == ["deu", "ell", "eng", "swa"]
            assert "ov_langs=swa%2Cdeu%2Ceng%2Cell" in page.url or "ov_langs=swa,deu,eng,ell" in page.url
            page.reload()
            page.wait_for_selector(".js-plotly-plot", timeout=120_000)
            settle(page)
            assert grids(page)["matrix"]["x"] == ["deu", "ell", "eng", "swa"]
            page.get_by_text("Table per direction", exact=True).click()
            page.wait_for_url(re.compile("ov_view=table"), timeout=120_000)
            assert "ov_langs" not in page.url
        finally:
            browser.close()
