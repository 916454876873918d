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
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["FORMULA_START", "csv_safe", "spreadsheet_cell", "terminal_frame", "terminal_lines", "terminal_text"]

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
