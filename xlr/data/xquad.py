"""XQuAD loader (SQuAD v1.1 layout). Import it from :mod:`xlr.data.corpus` (or :mod:`xlr.data.loaders`)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlr.data.reading import files_label, json_type, parse_json, read_input_bytes, sha256_hex, text_problem
from xlr.data.records import Corpus, CorpusError, Document, LoadIssue, LoadReport, Query, QuerySet, unlinked_pairs

__all__ = ["XQUAD_FILE", "XQUAD_URL", "load_xquad"]

PathLike = str | os.PathLike
XQUAD_URL = "https://github.com/google-deepmind/xquad/blob/master/xquad.{lang}.json"
XQUAD_FILE = re.compile(r"^xquad\.([A-Za-z][A-Za-z_-]*)\.json$")


def _parse_json_file(path: Path, hashes: dict[str, str]) -> Any:
    """The JSON value of a whole file; ``hashes[str(path)]`` gets the SHA-256 of the bytes parsed."""
    label = str(path)
    data = read_input_bytes(path, label)
    hashes[label] = sha256_hex(data)
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
        return parse_json(text)
    except json.JSONDecodeError as exc:
        raise CorpusError(
            LoadIssue(
                label,
                exc.lineno,
                None,
                f"invalid JSON at column {exc.colno}: {exc.msg}",
            )
        ) from None
    except ValueError as exc:
        raise CorpusError(LoadIssue(label, None, None, str(exc))) from None


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
                f"expected a JSON object, got a JSON {json_type(container)}",
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
                f"expected a JSON {json_type(kind())}, got a JSON {json_type(value)}",
            )
        )
    if non_empty and not (value.strip() if isinstance(value, str) else value):
        raise CorpusError(LoadIssue(label, None, field, "empty value"))
    if isinstance(value, str) and (problem := text_problem(value)) is not None:
        raise CorpusError(LoadIssue(label, None, field, problem))
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
    hashes: dict[str, str] = {}
    for lang in sorted(by_lang):
        path = by_lang[lang]
        label = str(path)
        root = _parse_json_file(path, hashes)
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
        sha256=tuple(hashes.items()),
    )
    return Corpus(name, tuple(documents), report), QuerySet(name, tuple(queries))
