"""Safe text for terminals and spreadsheets.

* :func:`terminal_text`: what may reach a terminal. C0 controls (U+0000-U+001F, tab and
  newline included), DEL (U+007F), C1 controls (U+0080-U+009F), bidi controls (U+061C,
  U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and lone surrogates (U+D800-U+DFFF) are
  replaced by visible escapes (``\\x1b``, ``\\u202e``), so an ESC sequence, an OSC title
  change or a right-to-left override in a corpus field is shown, never obeyed. Every
  other character is kept. The result is ASCII-only where the input was.
* :func:`spreadsheet_cell`: a CSV cell a spreadsheet would run as a formula (first
  character ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets a leading apostrophe,
  the usual rule (OWASP "CSV injection"): ``=HYPERLINK("http://x","y")`` is written as
  ``'=HYPERLINK("http://x","y")`` and opens as text. Numbers are left alone; JSON outputs
  keep exact values (only CSV goes through this).

Rendered text (the dashboard, Markdown reports, Plotly figures): every string that came from data,
the URL or a file name goes through one of three functions here, so it shows as the characters it
holds, never as formatting:

* :func:`markdown_text`: prose (captions, messages, tab and link labels, report cells). Whitespace
  runs become one space; controls, bidi controls and lone surrogates as in :func:`terminal_text`;
  every Markdown punctuation character backslash-escaped (links, emphasis, HTML, headings,
  tables, LaTeX ``$``); a colon that would open a Streamlit directive (``:smile:``, ``:red[..]``,
  ``:material/x:``) is followed by U+2060 WORD JOINER, which the emoji and colour plugins (they
  match the text after Markdown parsing, where backslashes are gone) do not take as a name; so are
  the triggers of GFM's bare links (``https:``/``//``, ``www``/``.``, ``@``), which backslashes do not stop.
* :func:`markdown_cell`: a table cell for ``st.table``: the same protection, but ordinary text
  (``el->en``, ``0.512``, ``openai:text-embedding-3-small``) is left exactly as it is; newlines kept.
* :func:`html_text`: Plotly labels, titles and hover boxes (Plotly renders ``<b>``, ``<a href>``,
  ``<br>``): flattened, cut to ``limit``, HTML-escaped, bidi controls visible.
"""

from __future__ import annotations

import html
import re

import pandas as pd

__all__ = [
    "FORMULA_START",
    "csv_safe",
    "html_text",
    "markdown_cell",
    "markdown_frame",
    "markdown_text",
    "spreadsheet_cell",
    "terminal_frame",
    "terminal_lines",
    "terminal_text",
]

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_text(text: object) -> str:
    """``str(text)`` with every control, bidi control and lone surrogate shown as an escape.

    ``"a\\x1b[31mb"`` -> ``"a\\\\x1b[31mb"``; ``"\\u202eabc"`` -> ``"\\\\u202eabc"``.
    A backslash already in the text is kept as it is.
    """
    return _UNSAFE.sub(_escape, str(text))


def spreadsheet_cell(value: object) -> object:
    """``value`` with a leading ``'`` when it is a string starting with one of :data:`FORMULA_START`.

    Anything that is not a string (numbers, ``None``) is returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (object/string columns) pass through :func:`spreadsheet_cell`.

    Column names are text cells too and are treated the same way.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(spreadsheet_cell).astype(object)
    out.columns = [spreadsheet_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def terminal_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names pass through :func:`terminal_text` (for printing)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: terminal_text(v) if isinstance(v, str) else v).astype(object)
    out.columns = [terminal_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def terminal_lines(text: str) -> str:
    """Multi-line ``text`` for a terminal: each line through :func:`terminal_text`, newlines kept."""
    return "\n".join(terminal_text(line) for line in text.split("\n"))


_DIRECTIVE = re.compile(r":(?=[\w+/-]*[:\[])")
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
_MD_ALL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&])")
_MD_CELL = re.compile(r"([\\`*<|~$&])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|\](?=[(\[])")
_LINE_START = re.compile(r"^([ \t]*)([>\[]|[#+\-=](?=[\s#+\-=]|$)|\d+[.)](?=\s|$))", re.MULTILINE)
_CELL_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)
_WJ = "\u2060"


def _inert_words(text: str) -> str:
    """U+2060 after a directive colon (``:smile:``, ``:red[``) and inside link triggers (``://``, ``www.``, ``@``)."""
    return _DIRECTIVE.sub(":" + _WJ, _AUTOLINK.sub(_WJ, text))


def markdown_text(text: object) -> str:
    """``text`` for any Markdown-rendering element, shown verbatim on one line (see the module docstring).

    ``"[evil](https://x)"`` -> ``"\\[evil\\]\\(https:\u2060//x\\)"``; ``":smile:"`` -> ``":\u2060smile:"``.
    """
    flat = terminal_text(" ".join(str(text).split()))
    return _MD_ALL.sub(r"\\\1", _inert_words(flat))


def _line_start(m: re.Match[str]) -> str:
    mark = m.group(2)
    return m.group(1) + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark)


def markdown_cell(value: object) -> object:
    """A table cell that shows verbatim in ``st.table``; anything not a string is returned unchanged.

    Leading spaces and tabs of a line are dropped (an indented line would be a code block). Only what
    Markdown would act on is escaped: ``\\ ` * < | ~ $ &``, an ``_`` not inside a word, a ``]``
    before ``(`` or ``[`` (a link), a line-start ``>`` or ``[``, a line-start ``#``, ``+``, ``-``, ``=`` or
    ``1.`` that would open a heading, a list or a rule; a
    directive colon and link triggers get U+2060; controls and bidi controls (not tab/newline) are
    shown as escapes. ``"el->en"``, ``"0.512 [0.45, 0.57] ★"`` and ``"snake_case"`` stay as they are.
    """
    if not isinstance(value, str):
        return value
    out = _inert_words(_CELL_UNSAFE.sub(_escape, _INDENT.sub("", value)))
    out = _MD_CELL.sub(lambda m: "\\" + m.group(0), out)
    return _LINE_START.sub(_line_start, out)


def markdown_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names pass through :func:`markdown_cell` (for ``st.table``)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(markdown_cell).astype(object)
    out.columns = [markdown_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def html_text(text: object, limit: int | None = None) -> str:
    """``text`` on one line, cut to ``limit`` characters (``…``), controls visible, HTML-escaped for Plotly."""
    flat = " ".join(str(text).split())
    if limit is not None and len(flat) > limit:
        flat = flat[: max(limit - 1, 0)] + "…"
    return html.escape(terminal_text(flat), quote=False)
