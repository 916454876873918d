"""Line-aligned folders (Flores, NTREX, WMT test sets): one file per language, line i = the same sentence.

Import it from :mod:`xlr.data.corpus`.  The language of a file comes from its name:

* default: drop a trailing ``.txt``, ``.devtest``, ``.dev`` or ``.test``, then take the last dot-separated
  part, which must look like a language code (2-3 letters, then ``_``/``-`` subtags of 2-8 letters or
  digits): ``eng_Latn.devtest`` (Flores-200) -> ``eng_Latn``; ``newstest2019-ref.deu.txt`` (NTREX) -> ``deu``;
  ``newstest2019-ref.aze-Latn.txt`` -> ``aze-Latn``; ``wmt19.de-en.de`` -> ``de``.  Other files
  (``README``, ``LICENSE.md``, ``*.tsv``, ``*.json``, hidden files) are ignored.
* ``pattern``: a regular expression matched against the whole file name, with a group named ``lang``
  (or a first group) holding the code: ``r"newstest2019-ref\\.(?P<lang>.+)\\.txt"``.  Files it does not
  match are ignored.

Codes are kept as written (``eng_Latn``, ``zho-CN``): :mod:`xlr.data.languages` matches them to other forms.
Line ``i`` (1-based) of every file becomes the document with ``id=str(i)`` in that file's language, so
all languages link by id (a multi-way corpus: every direction).  Two files of one language, different line
counts, an empty line, an empty file or non-UTF-8 bytes raise :class:`CorpusError` naming the file and line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from xlr.data.reading import files_label, read_input_bytes, sha256_hex, split_lines
from xlr.data.records import Corpus, CorpusError, Document, LoadIssue, LoadReport, unlinked_pairs

__all__ = ["ALIGNED_SUFFIXES", "aligned_language", "aligned_files", "load_aligned"]

ALIGNED_SUFFIXES = (".txt", ".devtest", ".dev", ".test")
_IGNORED = {".md", ".tsv", ".csv", ".json", ".jsonl", ".py", ".sh", ".zip", ".gz", ".tar", ".bz2", ".xz", ".yaml"}
_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$")

PathLike = str | os.PathLike


def aligned_language(name: str, pattern: str | re.Pattern[str] | None = None) -> str | None:
    """The language code in file name ``name`` (see the module docstring), or ``None`` when it has none.

    >>> [aligned_language(n) for n in ("eng_Latn.devtest", "newstest2019-ref.aze-Latn.txt", "README", "x.tsv")]
    ['eng_Latn', 'aze-Latn', None, None]
    >>> aligned_language("newstest2019-ref-2.spa.txt", r"newstest2019-ref\\.(?P<lang>.+)\\.txt") is None
    True
    """
    if name.startswith("."):
        return None
    if pattern is not None:
        m = re.fullmatch(pattern, name)
        if m is None:
            return None
        code = m.groupdict().get("lang") or (m.group(1) if m.re.groups else None)
        return code or None
    stem = name
    for suffix in ALIGNED_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        if Path(name).suffix.lower() in _IGNORED:
            return None
    code = stem.rsplit(".", 1)[-1]
    return code if _CODE.match(code) else None


def aligned_files(
    source: PathLike | Sequence[PathLike], pattern: str | re.Pattern[str] | None = None
) -> tuple[str, dict[str, Path]]:
    """``(label, {language: file})`` of a folder (or a list of files), refusing two files of one language."""
    if isinstance(source, (str, os.PathLike)):
        folder = Path(source)
        label = str(source)
        if not folder.is_dir():
            what = "folder not found" if not folder.exists() else "is a file, expected a folder of line-aligned files"
            raise CorpusError(LoadIssue(label, None, None, what))
        files = sorted(p for p in folder.iterdir() if p.is_file())
    else:
        files = [Path(p) for p in source]
        label = files_label(files)
    by_lang: dict[str, Path] = {}
    for path in files:
        code = aligned_language(path.name, pattern)
        if code is None:
            continue
        if code in by_lang:
            raise CorpusError(
                LoadIssue(
                    str(path),
                    None,
                    None,
                    f"second file for language {code!r} (first: {by_lang[code].name}); "
                    "choose one with a file-name pattern (pattern=..., --pattern)",
                )
            )
        by_lang[code] = path
    if not by_lang:
        how = f"matching {pattern!r}" if pattern is not None else "named <anything>.<lang>[.txt|.devtest|.dev]"
        raise CorpusError(LoadIssue(label, None, None, f"no line-aligned file {how}"))
    return label, dict(sorted(by_lang.items()))


def _lines(path: Path, hashes: dict[str, str]) -> list[str]:
    label = str(path)
    data = read_input_bytes(path, label)
    hashes[label] = sha256_hex(data)
    lines = []
    for no, text, issue in split_lines(data, label):
        if issue is not None:
            raise CorpusError(issue)
        if not text.strip():
            raise CorpusError(LoadIssue(label, no, None, "empty line (line i of every file must hold sentence i)"))
        lines.append(text)
    if not lines:
        raise CorpusError(LoadIssue(label, None, None, "empty file"))
    return lines


def load_aligned(
    source: PathLike | Sequence[PathLike],
    *,
    pattern: str | re.Pattern[str] | None = None,
    languages: Sequence[str] | None = None,
    name: str | None = None,
    urls: Mapping[str, str] | None = None,
) -> Corpus:
    """Load a line-aligned folder (or list of files) as a multi-way corpus (see the module docstring).

    ``languages`` keeps only those codes (as the file names write them; ``None``: all); ``urls`` maps a file
    name to its upstream address (the documents' ``url``; default ``""``).  Documents come language by
    language (codes sorted), in line order.
    """
    label, by_lang = aligned_files(source, pattern)
    if languages is not None:
        unknown = [c for c in languages if c not in by_lang]
        if unknown:
            raise CorpusError(
                LoadIssue(label, None, None, f"no file for {', '.join(unknown)} (have: {', '.join(by_lang)})")
            )
        by_lang = {c: p for c, p in by_lang.items() if c in set(languages)}
    hashes: dict[str, str] = {}
    documents: list[Document] = []
    first: tuple[Path, int] | None = None
    for code, path in by_lang.items():
        lines = _lines(path, hashes)
        if first is None:
            first = (path, len(lines))
        elif len(lines) != first[1]:
            raise CorpusError(
                LoadIssue(
                    str(path),
                    None,
                    None,
                    f"{path.name} has {len(lines)} lines but {first[0].name} has {first[1]} "
                    "(line i of every file must be the same sentence)",
                )
            )
        url = (urls or {}).get(path.name, "")
        documents.extend(Document(str(i), code, "", text, url) for i, text in enumerate(lines, start=1))
    corpus_name = name or (Path(source).name if isinstance(source, (str, os.PathLike)) else "aligned")
    report = LoadReport(
        label, len(documents), len(documents), (), unlinked_pairs(documents), sha256=tuple(hashes.items())
    )
    return Corpus(corpus_name, tuple(documents), report)
