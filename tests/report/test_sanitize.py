"""Terminal escaping and spreadsheet-safe CSV cells."""

from __future__ import annotations

import io

import pandas as pd

from xlr.report.results import results_csv
from xlr.report.sanitize import csv_safe, spreadsheet_cell, terminal_frame, terminal_text


def test_terminal_text_shows_controls_as_escapes() -> None:
    hostile = "a\x1b[31mred\x1b]0;owned\x07\u202eevil\u2066x\x85\x00\t\n\r\x7f\ud800 é 中"
    shown = terminal_text(hostile)
    assert shown == ("a\\x1b[31mred\\x1b]0;owned\\x07\\u202eevil\\u2066x\\x85\\x00\\x09\\x0a\\x0d\\x7f\\ud800 é 中")
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in "\u202e\u2066" for ch in shown)
    assert terminal_text("plain text, accents é, 中文, back\\slash") == "plain text, accents é, 中文, back\\slash"
    shown.encode("utf-8")  # printable: no lone surrogate left


def test_spreadsheet_cells_start_with_an_apostrophe() -> None:
    for cell in ('=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert spreadsheet_cell(cell) == "'" + cell
    for cell in ("en", "de->en", "a=b", 3, -1.5, None):
        assert spreadsheet_cell(cell) == cell


def test_results_csv_neutralises_text_cells_only() -> None:
    table = pd.DataFrame(
        {
            "model": ["e5-small"],
            "source": ['=HYPERLINK("http://evil.example","x")'],
            "target": ["en"],
            "metric": ["recall@1"],
            "value": [-0.5],
            "n_queries": [3],
        }
    )
    text = results_csv(table)
    back = pd.read_csv(io.StringIO(text))
    assert back.loc[0, "source"] == '\'=HYPERLINK("http://evil.example","x")'
    assert back.loc[0, "value"] == -0.5 and back.loc[0, "target"] == "en"
    assert table.loc[0, "source"].startswith("=")  # the caller's frame is unchanged
    assert list(csv_safe(pd.DataFrame({"=a": [1]})).columns) == ["'=a"]
    assert (
        terminal_frame(pd.DataFrame({"x\x1b": ["\x1b[2J"]})).to_string()
        == pd.DataFrame({"x\\x1b": ["\\x1b[2J"]}).to_string()
    )


def test_terminal_lines_keeps_newlines_only() -> None:
    from xlr.report.sanitize import terminal_lines

    assert terminal_lines("model  ar\x1b[8m->en\nrow\u202e 1\t2\n") == "model  ar\\x1b[8m->en\nrow\\u202e 1\\x092\n"
