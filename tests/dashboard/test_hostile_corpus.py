"""A corpus of hostile strings through every page (issue 17), fast AppTest with hash encoders: Markdown links,
HTML, emoji shortcodes, colour directives and bidi overrides in text, title, id, language code, file name and
encoder name are rendered as text everywhere; nothing the user did not write becomes a link or formatting.

Each Markdown-rendering value the pages draw (messages, captions, tab and link labels, table cells and
headers) is rendered with a CommonMark renderer and must give a plain paragraph; each Plotly figure's JSON
must hold no HTML tag that came from the data. The browser test (tests/dashboard/test_e2e.py) checks the
same corpus in Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import streamlit as st
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from tests.strategy_fakes import HashEncoder
from xlr.dashboard import jobs

LINK = "[evil](https://evil.example)"
HOSTILE_TEXT = f"The cat {LINK} **bold** <b>html</b> :smile: :red[red] \u202eevil\u202c www.evil.example sleeps."
ROWS = [
    ("1", "en", f"**title** {LINK}", HOSTILE_TEXT),
    ("1", "de", "<i>Titel</i>", "Die Katze [x](https://evil.example) schläft."),
    ("1", "<b>[xx](https://evil.example)</b>", ":fire: t", "Le chat dort :smile:."),
    (f"id {LINK}", "en", "Paris", "It rains in Paris _today_."),
    (f"id {LINK}", "de", "Paris", "Es regnet in Paris."),
    (f"id {LINK}", "<b>[xx](https://evil.example)</b>", "Paris", "Il pleut à Paris."),
    ("3", "en", "apples", "I like <a href='https://evil.example'>green</a> apples."),
    ("3", "de", "Äpfel", "Ich mag grüne Äpfel."),
    ("3", "<b>[xx](https://evil.example)</b>", "pommes", "J'aime les pommes."),
]
MODEL = "**hash** [m](https://evil.example)"
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
PAGES = [
    "pages/1_Similarity_heatmap.py",
    "pages/2_Embedding_map.py",
    "pages/3_Failed_queries.py",
    "pages/4_Ad-hoc_search.py",
]


def walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


MARKERS = ("evil", "smile", "fire", "html", "Titel", "today", "hash", "corpus", "title", "green")


def formatted(text: str) -> set[str]:
    """What CommonMark (and Streamlit's emoji/colour plugins, GFM's bare links) would make of data in ``text``:
    any link, image, code, heading, HTML or list; emphasis only where it holds data (the pages' own
    ``**Query**`` is theirs)."""
    html = MD.render(text)
    out = set(re.findall(r"<(a|img|code|pre|h[1-6]|ul|ol|blockquote|table|b|i|script|style)\b", html))
    for tag in ("strong", "em", "del"):
        out |= {tag for inner in re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S) if any(m in inner for m in MARKERS)}
    if re.search(r":(smile|fire|red)[:\[]", text):
        out.add("directive")
    if re.search(r"https?://evil|www\.evil", text.replace("\\", "")):
        out.add("autolink")
    return out


def rendered_values(at: AppTest) -> list[str]:
    """Every string the page hands to a Markdown renderer: element bodies, labels, tab labels, table cells."""
    values = []
    for root in (at.main, at.sidebar):
        for node in walk(root):
            proto = getattr(node, "proto", None)
            kind = getattr(node, "type", "")
            if kind in ("markdown", "caption", "error", "warning", "info", "success", "alert"):
                values.append(str(node.value))
            elif kind == "tab":
                values.append(str(node.label))
            elif proto is not None and hasattr(proto, "label") and kind not in ("selectbox", "multiselect"):
                values.append(str(getattr(proto, "label", "")))
    for table in at.table:
        frame = table.value
        values += [str(c) for c in frame.columns] + [str(v) for v in frame.to_numpy().ravel()]
        values += [str(i) for i in frame.index]
    return [v for v in values if v]


def figures_json(at: AppTest) -> list[str]:
    """Each figure's spec with JSON's escapes decoded (Plotly writes ``<`` as ``\\u003c``)."""
    return [json.dumps(json.loads(el.proto.spec), ensure_ascii=False) for el in at.get("plotly_chart")]


@pytest.fixture
def hostile_app(tmp_path, monkeypatch):
    from xlr.encoders.catalogue import CATALOGUE, EncoderCard

    st.cache_resource.clear()
    st.cache_data.clear()
    name = "[evil](javascript:x) :fire: **bold** <b>corpus.jsonl"
    path = tmp_path / name
    path.write_text(
        "".join(json.dumps({"id": i, "lang": g, "title": t, "url": "", "text": x}) + "\n" for i, g, t, x in ROWS),
        encoding="utf-8",
    )
    enc = HashEncoder(MODEL, dim=8)
    monkeypatch.setitem(CATALOGUE, MODEL, EncoderCard(MODEL, "lookup", lambda _c, e=enc: e, needs="bundled"))
    monkeypatch.setattr(jobs, "_loadable", lambda emb: False)
    for key, value in {
        "XLR_DEFAULT_DATASET": str(path),
        "XLR_DEFAULT_MODELS": MODEL,
        "XLR_DEFAULT_FIRST": "0",
        "XLR_DEFAULT_DIRECTIONS": "all",
        "XLR_CACHE_DIR": str(tmp_path / "cache"),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("XLR_DEFAULT_KS", raising=False)
    return AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=120)


def settle(at: AppTest) -> AppTest:
    at.run()
    for _ in range(40):  # background encoding jobs: re-run as the browser does
        assert not at.exception, [e.value for e in at.exception]
        if not any(b.proto.label in ("Cancel", "Resume encoding") for b in at.button) and not at.get("progress"):
            break
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def check(at: AppTest, page: str) -> None:
    values = [v for v in rendered_values(at) if any(m in v.replace("\\", "") for m in MARKERS)]
    assert values, f"{page}: the data is shown somewhere"
    bad = {v: formatted(v) for v in values if formatted(v)}
    assert not bad, f"{page}: {bad}"
    for spec in figures_json(at):
        for tag in ("<a ", "<b>", "<i>", "<img", "<script"):
            assert tag not in spec, f"{page}: {tag} in a figure"


def test_hostile_corpus_renders_as_text_on_every_page(hostile_app):
    at = settle(hostile_app)
    assert at.table, "the overview drew its table"
    check(at, "overview")
    for page in PAGES:
        if page.endswith("Ad-hoc_search.py"):
            at.query_params.update({"q": f"cat {LINK} :smile:", "langs": "en,de"})
        if page.endswith("Embedding_map.py"):
            at.session_state["map.method"] = "pca"  # UMAP's first call compiles for a minute
        at.switch_page(page)
        settle(at)
        check(at, page)
