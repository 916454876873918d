"""Loaders for JSONL corpora and XQuAD (Tatoeba: :mod:`xlr.corpus_tatoeba`). Import them from :mod:`xlr.corpus`.

Every problem in an input becomes a :class:`~xlr.corpus_types.LoadIssue` naming the file,
the 1-based line and the field; strict loading raises :class:`~xlr.corpus_types.CorpusError`
with all the issues found (its message is the first one).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlr.data.records import (
    Corpus,
    CorpusError,
    Document,
    LoadIssue,
    LoadReport,
    Query,
    QuerySet,
    unlinked_pairs,
)

__all__ = ["load_jsonl", "load_xquad"]

PathLike = str | os.PathLike

XQUAD_URL = "https://github.com/google-deepmind/xquad/blob/master/xquad.{lang}.json"
XQUAD_FILE = re.compile(r"^xquad\.([A-Za-z][A-Za-z_-]*)\.json$")

_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_input_bytes(path: Path, label: str, what: str = "file") -> bytes:
    """Bytes of ``path``; a missing path, a folder or an unreadable file raises CorpusError."""
    if not path.exists():
        raise CorpusError(LoadIssue(label, None, None, f"{what} not found"))
    if path.is_dir():
        raise CorpusError(LoadIssue(label, None, None, f"is a folder, expected a {what}"))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(LoadIssue(label, None, None, f"cannot read: {exc.strerror or exc}")) from None


def files_label(files: Sequence[Path]) -> str:
    """How a list of files is named in messages: their common folder, else the paths joined."""
    parents = {p.parent for p in files}
    return str(parents.pop()) if len(parents) == 1 else ", ".join(str(p) for p in files) or "<no files>"


def split_lines(data: bytes, label: str) -> list[tuple[int, str, LoadIssue | None]]:
    """Split into ``(line_no, text, issue_or_None)`` (text ``""`` with an issue); ``\\n``/``\\r\\n`` endings.

    A UTF-8 BOM at the start is dropped. A line that is not UTF-8 gives an issue naming
    the byte offset in the file and in the line. A final newline does not start a line.
    """
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


def _check_record(obj: Any, label: str, line: int) -> Document | LoadIssue:
    """Validate one parsed JSONL value; the first problem found becomes the issue."""
    if not isinstance(obj, dict):
        return LoadIssue(label, line, None, f"expected a JSON object, got a JSON {_json_type(obj)}")
    values: dict[str, str] = {}
    for field in ("id", "lang", "text"):
        if field not in obj:
            return LoadIssue(label, line, field, "missing (required)")
        value = obj[field]
        if field == "id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # numeric ids (e.g. Wikidata numbers) are read as their decimal text
        if value is None:
            return LoadIssue(label, line, field, "null value (a non-empty string is required)")
        if not isinstance(value, str):
            return LoadIssue(
                label,
                line,
                field,
                f"expected a string, got a JSON {_json_type(value)} ({_short(value)})",
            )
        if not value.strip():
            return LoadIssue(label, line, field, "empty value")
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
                f"expected a string, got a JSON {_json_type(value)} ({_short(value)})",
            )
        values[field] = value
    return Document(values["id"], values["lang"], values["title"], values["text"], values["url"])


def load_jsonl(source: PathLike | bytes, *, name: str | None = None, lenient: bool = False) -> Corpus:
    """Load a JSONL corpus: one JSON object a line with ``id``, ``lang``, ``text``, ``title``, ``url``.

    ``source`` is a path or the bytes of an uploaded file. For bytes, ``name`` is the file
    name used in messages (default ``"<upload>"``). The corpus is named after the stem of
    ``name`` if given, else of the path (``sample-6lang.jsonl`` -> ``"sample-6lang"``).

    Rules: ``id``, ``lang``, ``text`` are required non-empty strings (an integer ``id`` is
    read as its decimal text); ``id`` and ``lang``
    must not have leading/trailing whitespace (``text`` is kept as given). ``title`` and
    ``url`` may be missing or null (then ``""``). Other keys are ignored. Blank lines are
    skipped silently; ``\\r\\n`` endings and a UTF-8 BOM are accepted. A repeated
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
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                issue = LoadIssue(label, no, None, f"invalid JSON at column {exc.colno}: {exc.msg}")
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
    report = LoadReport(label, len(lines), len(documents), tuple(issues), unlinked_pairs(documents))
    return Corpus(corpus_name, tuple(documents), report)


# ---------------------------------------------------------------------------- XQuAD


def _parse_json_file(path: Path) -> Any:
    label = str(path)
    data = read_input_bytes(path, label)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(
            LoadIssue(
                label,
                line,
                None,
                f"not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start} of the file",
            )
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorpusError(
            LoadIssue(
                label,
                exc.lineno,
                None,
                f"invalid JSON at column {exc.colno}: {exc.msg}",
            )
        ) from None


def _get(
    container: Any,
    key: str,
    kind: type,
    label: str,
    where: str,
    non_empty: bool = False,
) -> Any:
    """``container[key]`` checked to be a ``kind`` (non-empty if asked); ``where`` is its JSON path."""
    field = f"{where}.{key}" if where else key
    if not isinstance(container, dict):
        raise CorpusError(
            LoadIssue(
                label,
                None,
                where or "(top level)",
                f"expected a JSON object, got a JSON {_json_type(container)}",
            )
        )
    if key not in container:
        raise CorpusError(LoadIssue(label, None, field, "missing (required)"))
    value = container[key]
    if not isinstance(value, kind):
        raise CorpusError(
            LoadIssue(
                label,
                None,
                field,
                f"expected a JSON {_json_type(kind())}, got a JSON {_json_type(value)}",
            )
        )
    if non_empty and not (value.strip() if isinstance(value, str) else value):
        raise CorpusError(LoadIssue(label, None, field, "empty value"))
    return value


def _xquad_files(source: PathLike | Sequence[PathLike]) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        folder = Path(source)
        if not folder.exists():
            raise CorpusError(LoadIssue(str(source), None, None, "folder not found"))
        if folder.is_file():
            return [folder]
        files = sorted(p for p in folder.iterdir() if XQUAD_FILE.match(p.name) and p.is_file())
        if not files:
            raise CorpusError(
                LoadIssue(
                    str(source),
                    None,
                    None,
                    "no XQuAD file (xquad.<lang>.json) in this folder",
                )
            )
        return files
    files = [Path(p) for p in source]
    if not files:
        raise CorpusError(LoadIssue("<no files>", None, None, "no XQuAD file given"))
    return files


def load_xquad(source: PathLike | Sequence[PathLike]) -> tuple[Corpus, QuerySet]:
    """Load XQuAD (SQuAD v1.1 layout): paragraphs as documents, questions as queries.

    ``source`` is a folder (every ``xquad.<lang>.json`` in it), one such file, or a list
    of them; the language comes from the file name (two files of one language: error).

    Paragraph ``n`` (0-based) of the article titled ``t`` becomes the document with
    ``id=f"{t}#{n}"``, ``title=t.replace("_", " ").lower()``, ``text=context.strip()``,
    ``url`` = the file's address in google-deepmind/xquad: exactly the records of
    ``xquad-7lang.jsonl``. Article titles are the same (English) in every XQuAD file, so
    paragraphs link by id. Documents come file by file (languages sorted), in file order.

    Each question becomes ``Query(qid=f"{question id}/{lang}", lang, question.strip(),
    gold_id=paragraph id)``. Structural problems raise :class:`CorpusError` naming the
    file and the JSON path (e.g. ``data[3].paragraphs[1].context``).
    """
    files = _xquad_files(source)
    by_lang: dict[str, Path] = {}
    for path in files:
        match = XQUAD_FILE.match(path.name)
        if not match:
            raise CorpusError(LoadIssue(str(path), None, None, "file name must be xquad.<lang>.json"))
        lang = match.group(1)
        if lang in by_lang:
            raise CorpusError(
                LoadIssue(
                    str(path),
                    None,
                    None,
                    f"second file for language {lang!r} (first: {by_lang[lang]})",
                )
            )
        by_lang[lang] = path

    documents: list[Document] = []
    queries: list[Query] = []
    n_paragraphs = 0
    for lang in sorted(by_lang):
        path = by_lang[lang]
        label = str(path)
        root = _parse_json_file(path)
        articles = _get(root, "data", list, label, "")
        seen_ids: dict[str, str] = {}
        seen_qids: dict[str, str] = {}
        for a, article in enumerate(articles):
            where_a = f"data[{a}]"
            title = _get(article, "title", str, label, where_a, non_empty=True)
            paragraphs = _get(article, "paragraphs", list, label, where_a)
            for n, para in enumerate(paragraphs):
                where_p = f"{where_a}.paragraphs[{n}]"
                context = _get(para, "context", str, label, where_p, non_empty=True)
                doc_id = f"{title}#{n}"
                if doc_id in seen_ids:
                    raise CorpusError(
                        LoadIssue(
                            label,
                            None,
                            f"{where_a}.title",
                            f"duplicate paragraph id {doc_id!r} "
                            f"(also {seen_ids[doc_id]}): two articles share the title {title!r}",
                        )
                    )
                seen_ids[doc_id] = where_p
                n_paragraphs += 1
                documents.append(
                    Document(
                        doc_id,
                        lang,
                        title.replace("_", " ").lower(),
                        context.strip(),
                        XQUAD_URL.format(lang=lang),
                    )
                )
                for q, qa in enumerate(_get(para, "qas", list, label, where_p)):
                    where_q = f"{where_p}.qas[{q}]"
                    qid = _get(qa, "id", str, label, where_q, non_empty=True)
                    question = _get(qa, "question", str, label, where_q, non_empty=True)
                    if qid in seen_qids:
                        raise CorpusError(
                            LoadIssue(
                                label,
                                None,
                                f"{where_q}.id",
                                f"duplicate question id {qid!r} (also {seen_qids[qid]})",
                            )
                        )
                    seen_qids[qid] = where_q
                    queries.append(Query(f"{qid}/{lang}", lang, question.strip(), doc_id))

    label = str(source) if isinstance(source, (str, os.PathLike)) else files_label(files)
    name = Path(source).name if isinstance(source, (str, os.PathLike)) and Path(source).is_dir() else "xquad"
    report = LoadReport(
        label,
        n_paragraphs,
        len(documents),
        (),
        unlinked_pairs(documents),
        unit="paragraph",
    )
    return Corpus(name, tuple(documents), report), QuerySet(name, tuple(queries))
