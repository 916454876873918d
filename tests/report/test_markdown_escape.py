"""Rendered text shows the characters it holds (issue 17): Markdown, Streamlit directives, GFM bare links and
Plotly HTML from data never become formatting. Checked with a CommonMark renderer (markdown-it) on hostile
strings and on hypothesis-generated ones (a few hundred here, 10,000 in the slow tier)."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from xlr.report.sanitize import html_text, markdown_cell, markdown_text

HOSTILE = [
    "[evil](https://evil.example)",
    "**bold** _it_ ~~gone~~ `code`",
    "<b>bold</b><script>x()</script><img src=x onerror=alert(1)>",
    ":smile: :red[red] :material/home: :+1:",
    "# heading",
    "> quote",
    "1. list",
    "- item",
    "![img](https://evil.example/x.png)",
    "<https://evil.example>",
    "visit https://evil.example or www.evil.example or me@evil.example",
    "[a]: https://evil.example",
    "$x^2$ and $$y$$",
    "a | b | c",
    "text \u202eevil\u202c and \u200f",
    "line\nbreak\n\n## second",
    "\\*escaped\\*",
    "    indented code",
    "&lt;b&gt; &amp;",
]
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
WJ = "\u2060"


def tags(rendered: str) -> set[str]:
    return set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", rendered))


def shown(rendered: str) -> str:
    """The text a reader sees: tags dropped, entities decoded, word joiners dropped."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).replace(WJ, "")


def no_autolink_trigger(text: str) -> bool:
    return not re.search(r"https?://|www\.|@\w", text.replace("\\", ""), re.IGNORECASE)


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_renders_as_one_plain_paragraph_of_the_same_characters(text):
    out = markdown_text(text)
    rendered = MD.render(out)
    assert tags(rendered) <= {"p"}, rendered
    assert shown(rendered).strip() == " ".join(text.split()).replace("\u202e", "\\u202e").replace(
        "\u202c", "\\u202c"
    ).replace("\u200f", "\\u200f")
    assert no_autolink_trigger(out) and not re.search(r":[\w+/-]+[:\[]", out)  # no directive, no bare link


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_cell_renders_no_formatting(text):
    rendered = MD.render(markdown_cell(text))
    assert tags(rendered) <= {"p"}, rendered
    assert no_autolink_trigger(markdown_cell(text)) and not re.search(r":[\w+/-]+[:\[]", markdown_cell(text))


@pytest.mark.parametrize("text", ["el->en", "0.512 [0.45, 0.57] ★", "openai:text-embedding-3-small", "snake_case"])
def test_ordinary_cells_are_left_alone(text):
    assert markdown_cell(text) == text


def test_plotly_text_is_html_escaped_and_shows_bidi_controls():
    assert html_text('<a href="https://evil.example">x</a>') == '&lt;a href="https://evil.example"&gt;x&lt;/a&gt;'
    assert html_text("a\u202eb") == "a\\u202eb" and html_text("x" * 10, 5) == "xxxx…"


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIECES = [
    *"[]()<>*_`~#!:|$\\-+=.@/ \nahsw123\u202e",
    "https://",
    "www.",
    ":smile:",
    "](",
    "1. ",
    "    ",
    "\t",
    "&amp;",
    "&lt;b&gt;",
]
TEXT = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@FUZZ
@given(TEXT)
def test_fuzz_markdown_text_never_formats(text):
    assert tags(MD.render(markdown_text(text))) <= {"p"}


@FUZZ
@given(TEXT)
def test_fuzz_markdown_cell_never_formats(text):
    assert tags(MD.render(markdown_cell(text))) <= {"p", "br"}


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_fuzz_markdown_escaping_slow(text):
    assert tags(MD.render(markdown_text(text))) <= {"p"}
    assert tags(MD.render(markdown_cell(text))) <= {"p", "br"}
