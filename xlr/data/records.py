"""Records of the corpus layer: documents, load issues, load reports, corpora, queries.

The loaders live in :mod:`xlr.data.loaders`; import everything from :mod:`xlr.data.corpus`.

A :class:`Corpus` is an ordered tuple of :class:`Document` records. Two documents in
different languages with the same ``id`` are translations of each other (the gold of a
retrieval query); an ``(id, lang)`` pair occurs at most once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "NotInCorpus",
    "Corpus",
    "CorpusError",
    "Document",
    "LoadIssue",
    "LoadReport",
    "Query",
    "QuerySet",
]

TEXT_FIELDS = ("text", "title+text")
SHOWN_REASONS = 3  # skipped lines whose reason a load summary gives; the rest are counted and numbered


@dataclass(frozen=True)
class Document:
    """One text in one language.

    ``id`` links translations across languages; ``title`` and ``url`` may be ``""``.
    No validation here: loaders validate their input (see :func:`xlr.data.loaders.load_jsonl`).
    """

    id: str
    lang: str
    title: str
    text: str
    url: str = ""


@dataclass(frozen=True)
class LoadIssue:
    """One problem in an input file.

    ``line`` is 1-based (``None`` when the problem concerns the whole file or a JSON
    structure without a line); ``field`` names the offending field (``None`` when the
    problem is not tied to one). ``str()`` gives one precise sentence, e.g.
    ``"data.jsonl, line 7, field 'text': empty value"``.
    """

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        located = self.line is not None or self.field is not None
        return f"{self.path}{', ' if located else ': '}{self.reason()}"

    def reason(self) -> str:
        """The issue without its file: ``"line 7, field 'id': expected a string, got a JSON number (1490)"``."""
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return f"{', '.join(parts)}: {self.message}" if parts else self.message


class CorpusError(ValueError):
    """An input cannot be loaded.

    ``issues`` holds every problem found (at least one); ``str()`` is the first issue's
    sentence, followed by ``"(and N more)"`` when there are others.
    """

    def __init__(self, issues: LoadIssue | Iterable[LoadIssue]) -> None:
        found = (issues,) if isinstance(issues, LoadIssue) else tuple(issues)
        if not found:
            raise ValueError("CorpusError needs at least one LoadIssue")
        self.issues: tuple[LoadIssue, ...] = found
        text = str(found[0])
        if len(found) > 1:
            text += f" (and {len(found) - 1} more)"
        super().__init__(text)

    def __reduce__(self):  # keep picklable despite the custom __init__
        return (type(self), (self.issues,))


class NotInCorpus(KeyError, ValueError):
    """An id or a language the corpus does not have (a ``KeyError`` for lookups, a ``ValueError``
    for callers that validate input); its ``str`` is the plain message."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class LoadReport:
    """What a loader saw.

    ``n_lines``: units read, named by ``unit`` (JSONL: every line, blank ones included;
    XQuAD: paragraphs, ``unit="paragraph"``; Tatoeba: lines of all files). ``skipped``:
    the lines dropped in lenient mode, one issue each. ``unlinked``: ``(id, lang)`` of
    documents whose id occurs in only one language (never a gold; reported, not an error).
    ``sha256``: ``(path, hex SHA-256)`` of every file read, computed from the very bytes
    that were parsed (a file replaced after loading does not change it).
    """

    path: str
    n_lines: int
    n_documents: int
    skipped: tuple[LoadIssue, ...] = ()
    unlinked: tuple[tuple[str, str], ...] = ()
    unit: str = "line"
    sha256: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def summary(self) -> str:
        """One sentence, e.g. ``"data.jsonl: 12 documents from 14 lines; 1 line skipped (line 7, field 'id':
        expected a string, got a JSON number (1490)); ..."``: the reasons of the first :data:`SHOWN_REASONS`
        skipped lines, then ``"and N more: lines ..."`` (the CLI note and the dashboard sidebar show this)."""

        def plural(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        text = f"{self.path}: {plural(self.n_documents, 'document')} from {plural(self.n_lines, self.unit)}"
        if self.skipped:
            shown = [i.reason() for i in self.skipped[:SHOWN_REASONS]]
            rest = self.skipped[SHOWN_REASONS:]
            if rest:
                lines = [str(i.line) for i in rest if i.line is not None]
                where = f": {'line' if len(lines) == 1 else 'lines'} {', '.join(lines)}" if lines else ""
                shown.append(f"and {len(rest)} more{where}")
            text += f"; {plural(len(self.skipped), 'line')} skipped ({'; '.join(shown)})"
        elif self.unit == "line":
            text += "; no line skipped"
        if self.unlinked:
            text += f"; {plural(len(self.unlinked), 'document')} whose id occurs in one language only"
        return text + "."


def unlinked_pairs(documents: Sequence[Document]) -> tuple[tuple[str, str], ...]:
    """``(id, lang)`` of the documents whose id occurs in a single language, in document order."""
    langs: dict[str, set[str]] = {}
    for doc in documents:
        langs.setdefault(doc.id, set()).add(doc.lang)
    return tuple((d.id, d.lang) for d in documents if len(langs[d.id]) == 1)


@dataclass(frozen=True)
class Corpus:
    """An ordered collection of documents in several languages.

    ``documents`` may be given as any sequence; it is stored as a tuple. A duplicate
    ``(id, lang)`` or a non-:class:`Document` item raises :class:`CorpusError`. Derived
    lookups (``languages``, ``ids``, positions per language) are computed once and are not
    part of equality or ``repr``.
    """

    name: str
    documents: tuple[Document, ...]
    report: LoadReport | None = None

    def __post_init__(self) -> None:
        docs = tuple(self.documents)
        object.__setattr__(self, "documents", docs)
        index: dict[tuple[str, str], int] = {}
        by_lang: dict[str, list[int]] = {}
        id_langs: dict[str, set[str]] = {}
        for pos, doc in enumerate(docs):
            if not isinstance(doc, Document):
                raise CorpusError(
                    LoadIssue(
                        self.name,
                        None,
                        None,
                        f"item {pos} is a {type(doc).__name__}, not a Document",
                    )
                )
            key = (doc.id, doc.lang)
            if key in index:
                raise CorpusError(
                    LoadIssue(
                        self.name,
                        None,
                        "id",
                        f"duplicate document: id {doc.id!r} in language {doc.lang!r} at positions {index[key]} and {pos}",
                    )
                )
            index[key] = pos
            by_lang.setdefault(doc.lang, []).append(pos)
            id_langs.setdefault(doc.id, set()).add(doc.lang)
        positions = {}
        for lang, pos_list in by_lang.items():
            arr = np.asarray(pos_list, dtype=np.int64)
            arr.setflags(write=False)
            positions[lang] = arr
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_positions", positions)
        object.__setattr__(self, "_id_langs", id_langs)
        object.__setattr__(self, "_languages", tuple(sorted(by_lang)))
        object.__setattr__(self, "_ids", tuple(id_langs))  # dicts keep first-appearance order

    def __reduce__(self):  # pickle the fields only; lookups are rebuilt on load
        return (type(self), (self.name, self.documents, self.report))

    @property
    def languages(self) -> tuple[str, ...]:
        """Language codes present, sorted."""
        return self._languages  # type: ignore[attr-defined]

    @property
    def ids(self) -> tuple[str, ...]:
        """Unique ids in order of first appearance."""
        return self._ids  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.documents)

    def _check_lang(self, lang: str) -> None:
        if lang not in self._positions:  # type: ignore[attr-defined]
            raise NotInCorpus(
                f"language {lang!r} is not in corpus {self.name!r} (languages: {', '.join(self.languages) or 'none'})"
            )

    def index(self, id: str, lang: str) -> int:
        """Position of document ``(id, lang)`` in ``documents``; ``NotInCorpus`` (a ``KeyError``) if absent."""
        try:
            return self._index[(id, lang)]  # type: ignore[attr-defined]
        except KeyError:
            raise NotInCorpus(f"no document with id {id!r} in language {lang!r} in corpus {self.name!r}") from None

    def positions(self, lang: str) -> np.ndarray:
        """Read-only int64 positions of the documents in ``lang``, in corpus order.

        ``NotInCorpus`` (a ``KeyError``) for a language the corpus does not have.
        """
        self._check_lang(lang)
        return self._positions[lang]  # type: ignore[attr-defined]

    def linked_ids(self, source: str, target: str, first: int | None = None) -> tuple[str, ...]:
        """Ids having a document in both ``source`` and ``target``, in first-appearance order.

        ``first`` keeps only the first N of those (``None``: all; 0: none; negative:
        ``ValueError``). ``NotInCorpus`` (a ``KeyError``) for a language the corpus does not have.
        """
        self._check_lang(source)
        self._check_lang(target)
        if first is not None and (isinstance(first, bool) or not isinstance(first, (int, np.integer)) or first < 0):
            raise ValueError(f"first must be a non-negative integer or None, got {first!r}")
        id_langs = self._id_langs  # type: ignore[attr-defined]
        linked = [i for i in self.ids if source in id_langs[i] and target in id_langs[i]]
        return tuple(linked if first is None else linked[: int(first)])

    def subset(
        self,
        ids: Iterable[str] | None = None,
        langs: Iterable[str] | None = None,
        name: str | None = None,
    ) -> Corpus:
        """A corpus of the documents whose id is in ``ids`` and language in ``langs``.

        ``None`` keeps all. Corpus order is kept (not the order of ``ids``). An id or a
        language the corpus does not have raises ``NotInCorpus`` (a ``KeyError``). The result has
        ``report=None`` (it is not what was loaded) and ``name`` defaults to this name.
        """
        keep_ids = None if ids is None else set(ids)
        keep_langs = None if langs is None else set(langs)
        if keep_langs is not None:
            for lang in sorted(keep_langs):
                self._check_lang(lang)
        if keep_ids is not None:
            missing = sorted(keep_ids - self._id_langs.keys())  # type: ignore[attr-defined]
            if missing:
                shown = ", ".join(repr(m) for m in missing[:5]) + (", ..." if len(missing) > 5 else "")
                raise NotInCorpus(f"{len(missing)} ids not in corpus {self.name!r}: {shown}")
        docs = tuple(
            d
            for d in self.documents
            if (keep_ids is None or d.id in keep_ids) and (keep_langs is None or d.lang in keep_langs)
        )
        return Corpus(self.name if name is None else name, docs)

    def texts(self, positions: Iterable[int] | np.ndarray, field: str = "text") -> list[str]:
        """Texts of the documents at ``positions``, in that order.

        ``field="text"``: the text; ``"title+text"``: ``f"{title}\\n{text}"``, or the text
        alone when the title is empty. A position outside ``[0, len)`` raises ``IndexError``;
        an unknown field ``ValueError``.
        """
        if field not in TEXT_FIELDS:
            raise ValueError(f"field must be one of {', '.join(TEXT_FIELDS)}, got {field!r}")
        pos = np.asarray(positions, dtype=np.int64).reshape(-1)
        n = len(self.documents)
        out: list[str] = []
        for raw in pos:
            p = int(raw)
            if not 0 <= p < n:
                raise IndexError(f"position {p} outside corpus {self.name!r} of {n} documents")
            doc = self.documents[p]
            out.append(f"{doc.title}\n{doc.text}" if field == "title+text" and doc.title else doc.text)
        return out


@dataclass(frozen=True)
class Query:
    """A question in one language whose answer is in the paragraph with id ``gold_id``."""

    qid: str
    lang: str
    text: str
    gold_id: str


@dataclass(frozen=True)
class QuerySet:
    """Queries of a data set (XQuAD questions); ``queries`` is stored as a tuple."""

    name: str
    queries: tuple[Query, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "queries", tuple(self.queries))

    @property
    def languages(self) -> tuple[str, ...]:
        """Language codes present, sorted."""
        return tuple(sorted({q.lang for q in self.queries}))

    def __len__(self) -> int:
        return len(self.queries)
