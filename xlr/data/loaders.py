"""JSONL loader (XQuAD: :mod:`xlr.data.xquad`, re-exported here; Tatoeba: :mod:`xlr.data.tatoeba`).

Import them from :mod:`xlr.data.corpus`. Every problem in an input becomes a
:class:`~xlr.data.records.LoadIssue` naming the file, the 1-based line and the field, including
what the JSON layer itself raises (see :func:`xlr.data.reading.parse_json`); strict loading
raises :class:`~xlr.data.records.CorpusError` with all the issues found (its message is the first).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from xlr.data.reading import (
    OversizedInt,
    files_label,
    json_type,
    parse_json,
    read_input_bytes,
    sha256_hex,
    split_lines,
    text_problem,
)
from xlr.data.records import (
    Corpus,
    CorpusError,
    Document,
    LoadIssue,
    LoadReport,
    unlinked_pairs,
)
from xlr.data.xquad import XQUAD_FILE, XQUAD_URL, load_xquad

__all__ = ["XQUAD_FILE", "XQUAD_URL", "files_label", "load_jsonl", "load_xquad", "read_input_bytes", "split_lines"]

PathLike = str | os.PathLike


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, OversizedInt) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_record(obj: Any, label: str, line: int) -> Document | LoadIssue:
    """Validate one parsed JSONL value; the first problem found becomes the issue."""
    if not isinstance(obj, dict):
        return LoadIssue(label, line, None, f"expected a JSON object, got a JSON {json_type(obj)}")
    values: dict[str, str] = {}
    for field in ("id", "lang", "text"):
        if field not in obj:
            return LoadIssue(label, line, field, "missing (required)")
        value = obj[field]
        if isinstance(value, OversizedInt):
            return LoadIssue(label, line, field, f"expected a string, got {value}")
        if value is None:
            return LoadIssue(label, line, field, "null value (a non-empty string is required)")
        if not isinstance(value, str):
            return LoadIssue(
                label,
                line,
                field,
                f"expected a string, got a JSON {json_type(value)} ({_short(value)})",
            )
        if not value.strip():
            return LoadIssue(label, line, field, "empty value")
        if (problem := text_problem(value)) is not None:
            return LoadIssue(label, line, field, problem)
        if field != "text" and value != value.strip():
            return LoadIssue(label, line, field, f"leading or trailing whitespace in {value!r}")
        values[field] = value
    for field in ("title", "url"):
        value = obj.get(field)
        if value is None:
            value = ""
        if not isinstance(value, str):
            return LoadIssue(
                label,
                line,
                field,
                f"expected a string, got a JSON {json_type(value)} ({_short(value)})",
            )
        if (problem := text_problem(value)) is not None:
            return LoadIssue(label, line, field, problem)
        values[field] = value
    return Document(values["id"], values["lang"], values["title"], values["text"], values["url"])


def load_jsonl(source: PathLike | bytes, *, name: str | None = None, lenient: bool = False) -> Corpus:
    """Load a JSONL corpus: one JSON object a line with ``id``, ``lang``, ``text``, ``title``, ``url``.

    ``source`` is a path or the bytes of an uploaded file. For bytes, ``name`` is the file
    name used in messages (default ``"<upload>"``). The corpus is named after the stem of
    ``name`` if given, else of the path (``sample-6lang.jsonl`` -> ``"sample-6lang"``).

    Rules: ``id``, ``lang``, ``text`` are required non-empty strings (a numeric ``id`` such as
    ``1490`` is refused: write ``"1490"``); ``id`` and ``lang`` must not have leading/trailing
    whitespace (``text`` is kept as given). ``title`` and ``url`` may be missing or null (then
    ``""``). Other keys are ignored. Blank lines are skipped silently; ``\\r\\n`` endings and a UTF-8 BOM are accepted. A repeated
    ``(id, lang)`` is an error naming the line where it first appeared.

    Strict mode (default) checks every line and raises :class:`CorpusError` holding all
    issues (one per bad line). ``lenient=True`` skips bad lines and records them in
    ``report.skipped``. A missing/empty/blank-only file, or (lenient) a file without a
    single valid line, raises in both modes. Ids found in one language only are listed
    in ``report.unlinked``, never an error.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "<upload>"
        data = bytes(source)
    else:
        path = Path(source)
        label = str(source)
        data = read_input_bytes(path, label)
    corpus_name = Path(name or label).stem or label

    lines = split_lines(data, label)
    documents: list[Document] = []
    issues: list[LoadIssue] = []
    first_line: dict[tuple[str, str], int] = {}
    n_blank = 0
    for no, text, issue in lines:
        if issue is None:
            if not text.strip():
                n_blank += 1
                continue
            try:
                obj = parse_json(text)
            except json.JSONDecodeError as exc:
                issue = LoadIssue(label, no, None, f"invalid JSON at column {exc.colno}: {exc.msg}")
            except ValueError as exc:
                issue = LoadIssue(label, no, None, str(exc))
            else:
                result = _check_record(obj, label, no)
                if isinstance(result, LoadIssue):
                    issue = result
                else:
                    key = (result.id, result.lang)
                    if key in first_line:
                        issue = LoadIssue(
                            label,
                            no,
                            "id",
                            f"duplicate document: id {result.id!r} in language "
                            f"{result.lang!r} already appeared on line {first_line[key]}",
                        )
                    else:
                        first_line[key] = no
                        documents.append(result)
        if issue is not None:
            issues.append(issue)

    if not lines:
        raise CorpusError(LoadIssue(label, None, None, "empty file: expected one JSON object per line"))
    if n_blank == len(lines):
        raise CorpusError(LoadIssue(label, None, None, f"no data: all {len(lines)} lines are blank"))
    if issues and not lenient:
        raise CorpusError(issues)
    if not documents:
        raise CorpusError(
            [
                LoadIssue(
                    label,
                    None,
                    None,
                    f"no valid document: all {len(issues)} non-blank lines have problems",
                )
            ]
            + issues
        )
    report = LoadReport(
        label,
        len(lines),
        len(documents),
        tuple(issues),
        unlinked_pairs(documents),
        sha256=((label, sha256_hex(data)),),
    )
    return Corpus(corpus_name, tuple(documents), report)
