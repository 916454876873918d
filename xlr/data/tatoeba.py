"""Tatoeba loader (LASER test-set layout). Import it from :mod:`xlr.data.corpus`."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from xlr.data.languages import describe
from xlr.data.loaders import PathLike
from xlr.data.reading import files_label, read_input_bytes, sha256_hex, split_lines
from xlr.data.records import (
    Corpus,
    CorpusError,
    Document,
    LoadIssue,
    LoadReport,
    unlinked_pairs,
)

__all__ = ["TATOEBA_FILE", "TATOEBA_URL", "corpus_codes", "load_tatoeba"]

TATOEBA_URL = "https://raw.githubusercontent.com/facebookresearch/LASER/main/data/tatoeba/v1/{name}"
TATOEBA_FILE = re.compile(r"^tatoeba\.([A-Za-z_]+)-eng\.([A-Za-z_]+)$")


def corpus_codes(upstream: Sequence[str]) -> dict[str, str]:
    """The corpus language of each upstream Tatoeba code: its canonical BCP-47 tag (:mod:`xlr.data.languages`:
    ``ara`` -> ``ar``, ``cmn`` -> ``zh``, ``swh`` -> ``sw``, ``eng`` -> ``en``), kept as upstream writes it
    when the tables do not know it or when two upstream codes would become one (``kzj`` and ``dtp``).

    >>> corpus_codes(["ara", "cmn", "kzj", "dtp", "eng"])
    {'ara': 'ar', 'cmn': 'zh', 'kzj': 'kzj', 'dtp': 'dtp', 'eng': 'en'}
    """
    tags = {c: describe(c).tag if describe(c).known else c for c in upstream}
    counts = Counter(tags.values())
    return {c: t if counts[t] == 1 else c for c, t in tags.items()}


def _tatoeba_pairs(
    source: PathLike | Sequence[PathLike],
) -> tuple[str, dict[str, dict[str, Path]]]:
    """``(label, {xxx: {"xxx": path, "eng": path}})`` from a folder or a list of files."""
    if isinstance(source, (str, os.PathLike)):
        folder = Path(source)
        label = str(source)
        if not folder.is_dir():
            raise CorpusError(
                LoadIssue(
                    label,
                    None,
                    None,
                    "folder not found"
                    if not folder.exists()
                    else "is a file, expected a folder of tatoeba.<xxx>-eng.<xxx|eng> files",
                )
            )
        files = sorted(p for p in folder.iterdir() if TATOEBA_FILE.match(p.name) and p.is_file())
    else:
        files = [Path(p) for p in source]
        label = files_label(files)
    pairs: dict[str, dict[str, Path]] = {}
    for path in files:
        match = TATOEBA_FILE.match(path.name)
        if not match or match.group(2) not in (match.group(1), "eng") or match.group(1) == "eng":
            raise CorpusError(
                LoadIssue(
                    str(path),
                    None,
                    None,
                    "file name must be tatoeba.<xxx>-eng.<xxx> or tatoeba.<xxx>-eng.eng",
                )
            )
        pairs.setdefault(match.group(1), {})[match.group(2)] = path
    if not pairs:
        raise CorpusError(LoadIssue(label, None, None, "no Tatoeba file (tatoeba.<xxx>-eng.<xxx|eng>)"))
    for code, sides in pairs.items():
        for side in (code, "eng"):
            if side not in sides:
                other = next(iter(sides.values()))
                raise CorpusError(
                    LoadIssue(
                        str(other.with_name(f"tatoeba.{code}-eng.{side}")),
                        None,
                        None,
                        f"file not found: {other.name} needs its partner",
                    )
                )
    return label, dict(sorted(pairs.items()))


def _read_lines(path: Path, hashes: dict[str, str]) -> list[str]:
    label = str(path)
    lines: list[str] = []
    data = read_input_bytes(path, label)
    hashes[label] = sha256_hex(data)
    for no, text, issue in split_lines(data, label):
        if issue is not None:
            raise CorpusError(issue)
        if not text.strip():
            raise CorpusError(LoadIssue(label, no, None, "empty line (every line must hold a sentence)"))
        lines.append(text)
    if not lines:
        raise CorpusError(LoadIssue(label, None, None, "empty file"))
    return lines


def load_tatoeba(source: PathLike | Sequence[PathLike]) -> Corpus:
    """Load Tatoeba pairs (LASER layout): ``tatoeba.<xxx>-eng.<xxx>`` + ``tatoeba.<xxx>-eng.eng``.

    ``source`` is a folder (every pair in it; other files ignored) or a list of files.
    Line ``i`` (0-based) of both files of pair ``xxx`` becomes two documents with
    ``id=f"{xxx}-eng:{i}"``; the English side differs per pair, so every pair has its own
    English documents. Codes become their canonical tags (:func:`corpus_codes`: ``ara``->``ar``,
    ``cmn``->``zh``, ``eng``->``en``, ...; unknown or colliding codes kept as upstream writes them). ``title=""``, ``url`` = the upstream file
    address. Documents come pair by pair (codes sorted): the ``xxx`` side, then English.
    Text is the line without its line ending. A missing partner file, an empty line, an
    empty file, non-UTF-8 bytes or different line counts raise :class:`CorpusError`.
    """
    label, pairs = _tatoeba_pairs(source)
    documents: list[Document] = []
    n_lines = 0
    hashes: dict[str, str] = {}
    codes = corpus_codes([*pairs, "eng"])
    for code, sides in pairs.items():
        xxx, eng = _read_lines(sides[code], hashes), _read_lines(sides["eng"], hashes)
        if len(xxx) != len(eng):
            raise CorpusError(
                LoadIssue(
                    str(sides[code]),
                    None,
                    None,
                    f"{sides[code].name} has {len(xxx)} lines but {sides['eng'].name} has "
                    f"{len(eng)} (line i of one must translate line i of the other)",
                )
            )
        n_lines += len(xxx) + len(eng)
        for side, lines in ((code, xxx), ("eng", eng)):
            lang = codes[side]
            url = TATOEBA_URL.format(name=sides[side].name)
            documents.extend(Document(f"{code}-eng:{i}", lang, "", text, url) for i, text in enumerate(lines))
    name = Path(source).name if isinstance(source, (str, os.PathLike)) else "tatoeba"
    report = LoadReport(label, n_lines, len(documents), (), unlinked_pairs(documents), sha256=tuple(hashes.items()))
    return Corpus(name, tuple(documents), report)
