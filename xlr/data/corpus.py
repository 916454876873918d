"""Corpus layer: records, errors and loaders (JSONL, XQuAD, Tatoeba, line-aligned) behind one import.

Formats
-------
* JSONL (``*.jsonl``): one JSON object a line with ``id``, ``lang``, ``title``, ``url``,
  ``text`` (the schema of ``sample-6lang.jsonl``), see :func:`load_jsonl`.
* XQuAD: a folder of ``xquad.<lang>.json`` (SQuAD v1.1 layout), see :func:`load_xquad`.
* Tatoeba: a folder of ``tatoeba.<xxx>-eng.<xxx|eng>`` pairs, see :func:`load_tatoeba`.
* Line-aligned (Flores, NTREX, WMT): one file per language, line i = the same sentence, see :func:`load_aligned`.

Every bad input raises :class:`CorpusError` (a ``ValueError``) whose message names the
file, the 1-based line and the field; ``error.issues`` lists every problem found.
"""

from __future__ import annotations

from pathlib import Path

from xlr.data.aligned import aligned_language, load_aligned
from xlr.data.loaders import XQUAD_FILE, PathLike, load_jsonl, load_xquad
from xlr.data.records import (
    Corpus,
    CorpusError,
    Document,
    LoadIssue,
    LoadReport,
    Query,
    QuerySet,
)
from xlr.data.tatoeba import TATOEBA_FILE, load_tatoeba

__all__ = [
    "Corpus",
    "CorpusError",
    "Document",
    "LoadIssue",
    "LoadReport",
    "Query",
    "QuerySet",
    "detect_format",
    "load_corpus",
    "load_aligned",
    "load_jsonl",
    "load_tatoeba",
    "load_xquad",
]

JSONL_SUFFIXES = (".jsonl", ".ndjson")


def detect_format(path: PathLike) -> str:
    """``"jsonl"``, ``"xquad"``, ``"tatoeba"`` or ``"aligned"`` for a path, else :class:`CorpusError`.

    A ``*.jsonl``/``*.ndjson`` file is JSONL; an ``xquad.<lang>.json`` file or a folder
    holding such files is XQuAD; a folder holding ``tatoeba.<xxx>-eng.*`` files is Tatoeba.
    A folder holding both kinds is ambiguous (error); a folder holding neither but files named
    ``<anything>.<lang>[.txt|.devtest|.dev|.test]`` is line-aligned (:mod:`xlr.data.aligned`).
    """
    p = Path(path)
    if not p.exists():
        raise CorpusError(LoadIssue(str(path), None, None, "no such file or folder"))
    if p.is_file():
        if p.suffix.lower() in JSONL_SUFFIXES:
            return "jsonl"
        if XQUAD_FILE.match(p.name):
            return "xquad"
        raise CorpusError(
            LoadIssue(
                str(path),
                None,
                None,
                "unsupported file: expected a .jsonl file or an xquad.<lang>.json file",
            )
        )
    names = [c.name for c in p.iterdir()]
    kinds = [
        k for k, pattern in (("xquad", XQUAD_FILE), ("tatoeba", TATOEBA_FILE)) if any(pattern.match(n) for n in names)
    ]
    if len(kinds) == 1:
        return kinds[0]
    if not kinds and any(aligned_language(n) for n in names if (p / n).is_file()):
        return "aligned"
    what = (
        "both XQuAD and Tatoeba files"
        if kinds
        else "no xquad.<lang>.json, tatoeba.<xxx>-eng.* or line-aligned <name>.<lang>[.txt|.devtest] file"
    )
    raise CorpusError(LoadIssue(str(path), None, None, f"cannot tell the data set kind: folder holds {what}"))


def load_corpus(path: PathLike, *, lenient: bool = False) -> Corpus:
    """Load a corpus whatever its format (see :func:`detect_format`); ``lenient`` applies to JSONL.

    XQuAD questions are dropped here: use :func:`load_xquad` to get them.
    """
    kind = detect_format(path)
    if kind == "jsonl":
        return load_jsonl(path, lenient=lenient)
    if kind == "xquad":
        return load_xquad(path)[0]
    if kind == "aligned":
        return load_aligned(path)
    return load_tatoeba(path)
