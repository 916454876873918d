"""Reading input files safely: bytes, lines, JSON, Unicode checks, hashes of the bytes read.

Every loader goes through :func:`parse_json`, so deep nesting, oversized integers and any
other parser failure become one-line messages the loaders turn into file/line/field issues.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlr.data.records import CorpusError, LoadIssue
from xlr.paths import InputFileError, read_bounded

__all__ = [
    "MAX_CORPUS_BYTES",
    "MAX_INT_DIGITS",
    "OversizedInt",
    "files_label",
    "json_type",
    "parse_json",
    "read_input_bytes",
    "sha256_hex",
    "split_lines",
    "text_problem",
]

MAX_CORPUS_BYTES = 1 << 30
"""1 GiB: a corpus is held in memory whole (with its vectors); larger files are refused by their size"""
MAX_INT_DIGITS = 4300  # Python's own limit for int <-> str conversion (sys.get_int_max_str_digits)
_SURROGATE = re.compile("[\ud800-\udfff]")


class OversizedInt:
    """A JSON integer with more than :data:`MAX_INT_DIGITS` digits, kept as its length only."""

    def __init__(self, digits: str) -> None:
        self.n_digits = len(digits.lstrip("-"))

    def __str__(self) -> str:
        return f"an integer of {self.n_digits} digits"


def _parse_int(digits: str) -> int | OversizedInt:
    return int(digits) if len(digits.lstrip("-")) <= MAX_INT_DIGITS else OversizedInt(digits)


def parse_json(text: str) -> Any:
    """``json.loads`` whose every failure is a ``ValueError`` with a short message; no other exception.

    ``json.JSONDecodeError`` is re-raised as is (it has line and column); nesting deeper than
    Python's recursion limit and other parser errors become ``ValueError("JSON ...")``.
    Integers of more than :data:`MAX_INT_DIGITS` digits parse to a placeholder that every
    field check refuses (``"expected a string, got an integer of 5000 digits"``).
    """
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise ValueError(
            "JSON nested too deeply (arrays or objects inside each other beyond the parser's limit)"
        ) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"invalid JSON ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})") from None


def text_problem(value: str) -> str | None:
    """Why ``value`` is not valid Unicode text (a lone surrogate, which UTF-8 cannot encode), else ``None``."""
    match = _SURROGATE.search(value)
    if match is None:
        return None
    return f"lone surrogate \\u{ord(match.group()):04x} at character {match.start() + 1} (not valid Unicode text)"


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of bytes already read (manifests hash what was parsed, never a second read)."""
    return hashlib.sha256(data).hexdigest()


_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def read_input_bytes(path: Path, label: str, what: str = "file", cap: int = MAX_CORPUS_BYTES) -> bytes:
    """Bytes of ``path``; a missing path, a folder, a FIFO or device, a file over ``cap`` bytes
    (:data:`MAX_CORPUS_BYTES`: refused by its size, unread) or an unreadable file raises CorpusError."""
    if not path.exists():
        raise CorpusError(LoadIssue(label, None, None, f"{what} not found"))
    if path.is_dir():
        raise CorpusError(LoadIssue(label, None, None, f"is a folder, expected a {what}"))
    try:
        return read_bounded(path, cap, "a corpus", label="")
    except InputFileError as exc:
        raise CorpusError(LoadIssue(label, None, None, str(exc).removeprefix(": "))) from None


def files_label(files: Sequence[Path]) -> str:
    """How a list of files is named in messages: their common folder, else the paths joined."""
    parents = {p.parent for p in files}
    return str(parents.pop()) if len(parents) == 1 else ", ".join(str(p) for p in files) or "<no files>"


def split_lines(data: bytes, label: str) -> list[tuple[int, str, LoadIssue | None]]:
    """Split into ``(line_no, text, issue_or_None)`` (text ``""`` with an issue); ``\\n``/``\\r\\n`` endings.

    CR-only line endings (a file with ``\\r`` and no ``\\n``) raise :class:`CorpusError` naming the cause.

    A UTF-8 BOM at the start is dropped. A line that is not UTF-8 gives an issue naming
    the byte offset in the file and in the line. A final newline does not start a line.
    """
    if b"\r" in data and b"\n" not in data:
        raise CorpusError(
            LoadIssue(
                label, None, None, "lines end in CR only (old Mac line endings); save it with LF or CRLF line endings"
            )
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data, offset = data[3:], 3
    else:
        offset = 0
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    out: list[tuple[int, str, LoadIssue | None]] = []
    for no, raw in enumerate(raw_lines, start=1):
        try:
            out.append((no, raw.decode("utf-8").removesuffix("\r"), None))
        except UnicodeDecodeError as exc:
            bad = raw[exc.start]
            out.append(
                (
                    no,
                    "",
                    LoadIssue(
                        label,
                        no,
                        None,
                        f"not valid UTF-8: byte 0x{bad:02x} at byte offset {offset + exc.start} of the file "
                        f"(byte {exc.start + 1} of the line)",
                    ),
                )
            )
        offset += len(raw) + 1
    return out
