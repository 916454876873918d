"""Directions (``de->en``: queries in one language, the pool in another): parsing and choosing them,
sampling the linked ids (``first`` N, or a seeded random sample), and the positions of each
direction's queries and pool documents in a corpus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xlr.data.languages import pick
from xlr.data.records import Corpus
from xlr.data.unique import unique


@dataclass(frozen=True, order=True)
class Direction:
    """Queries in ``source``, pool in ``target``."""

    source: str
    target: str

    def __post_init__(self) -> None:
        if not self.source or not self.target:
            raise ValueError("a direction needs a source and a target language")
        if self.source == self.target:
            raise ValueError(f"direction {self.source}->{self.target}: source and target are the same language")

    @property
    def label(self) -> str:
        return f"{self.source}->{self.target}"

    @classmethod
    def parse(cls, text: str) -> Direction:
        """``"ar-en"``, ``"ar->en"`` or ``"ar:en"``."""
        t = text.strip()
        for sep in ("->", ":", "-"):
            if sep in t:
                src, _, tgt = t.partition(sep)
                if src.strip() and tgt.strip() and sep not in tgt:
                    return cls(src.strip(), tgt.strip())
        raise ValueError(f"cannot read direction {text!r}: write it as source-target, e.g. ar-en")


@dataclass(frozen=True, order=True)
class QueryDirection(Direction):
    """A question set's direction: questions in ``source``, pool ``target`` (a language, or ``"all"``
    for every language); unlike a corpus direction, source may equal target (the monolingual reference)."""

    def __post_init__(self) -> None:
        if not self.source or not self.target:
            raise ValueError("a direction needs a source and a target language")


def parse_directions(text: str | Sequence[str], corpus: Corpus | None = None) -> tuple[Direction, ...]:
    """Comma-separated (or listed) directions, checked against the corpus' languages.

    A repeated direction is kept once (first appearance); callers that want to tell the
    user use :func:`xlr.data.unique.unique` on the same input.
    """
    parts = text.split(",") if isinstance(text, str) else list(text)
    dirs, _ = unique(Direction.parse(p) for p in parts if p.strip())
    if not dirs:
        raise ValueError("no direction given")
    if corpus is not None:
        resolved = []
        for d in dirs:
            src, tgt = (_corpus_language(corpus, lang, d.label) for lang in (d.source, d.target))
            resolved.append(Direction(src, tgt))
        dirs, _ = unique(resolved)
    return dirs


def _corpus_language(corpus: Corpus, lang: str, label: str) -> str:
    """``lang`` as the corpus writes it (:func:`xlr.data.languages.pick`: ``sw`` finds ``swa``), or ``ValueError``."""
    found = pick(lang, corpus.languages)
    if found is None:
        raise ValueError(
            f"direction {label}: language {lang!r} is not in corpus {corpus.name!r} "
            f"(languages: {', '.join(corpus.languages)})"
        )
    return found


def choose_directions(corpus: Corpus, text: str | None = None, *, every_pair: bool = False) -> tuple[Direction, ...]:
    """The directions a command evaluates: ``text`` (e.g. ``"ar-en,zh-en"``) when given, else every
    ordered pair (``every_pair``), else every language -> en (the default of every command)."""
    if text:
        return parse_directions(text, corpus)
    return all_directions(corpus) if every_pair else default_directions(corpus)


def default_directions(corpus: Corpus, target: str = "en") -> tuple[Direction, ...]:
    """Every other language -> ``target`` (the seed notebook's set-up); ``en`` finds ``eng``/``eng_Latn``
    (:func:`xlr.data.languages.pick`)."""
    found = pick(target, corpus.languages)
    if found is None:
        raise ValueError(
            f"corpus {corpus.name!r} has no {target!r} documents; name directions explicitly "
            f"(languages: {', '.join(corpus.languages)})"
        )
    target = found
    return tuple(Direction(s, target) for s in corpus.languages if s != target and corpus.linked_ids(s, target))


def all_directions(corpus: Corpus) -> tuple[Direction, ...]:
    """Every ordered pair of distinct languages that share at least one id."""
    return tuple(
        Direction(s, t) for s in corpus.languages for t in corpus.languages if s != t and corpus.linked_ids(s, t)
    )


def sample_ids(ids: Sequence[str], n: int | None, random_state: int | None = None) -> tuple[str, ...]:
    """``n`` of ``ids``: the first ``n`` (``random_state=None``) or ``n`` drawn without replacement with
    ``numpy.random.default_rng(random_state)``, kept in their original order.

    ``n=None`` or ``n >= len(ids)``: all of them (a random sample of everything is everything).  The draw
    depends only on ``len(ids)``, ``n`` and the seed, so directions linking the same ids (a multi-way
    corpus) get the same sample, and so does every encoder.

    >>> sample_ids(("a", "b", "c", "d"), 2), sample_ids(("a", "b", "c", "d"), 2, random_state=0)
    (('a', 'b'), ('c', 'd'))
    """
    if n is None or n >= len(ids):
        return tuple(ids)
    if n < 0:
        raise ValueError(f"a sample size must be a non-negative integer, got {n}")
    if random_state is None:
        return tuple(ids[:n])
    keep = np.sort(np.random.default_rng(random_state).choice(len(ids), size=n, replace=False))
    return tuple(ids[int(i)] for i in keep)


def sampling_label(n: int | None, random_state: int | None = None) -> str:
    """How the ids of each direction were chosen, for table captions and manifests.

    >>> sampling_label(None), sampling_label(100), sampling_label(100, 7)
    ('all linked ids', 'first 100 linked ids', '100 linked ids drawn at random (seed 7)')
    """
    if n is None:
        return "all linked ids"
    if random_state is None:
        return f"first {n} linked ids"
    return f"{n} linked ids drawn at random (seed {random_state})"


def direction_positions(
    corpus: Corpus, direction: Direction, first: int | None = None, *, random_state: int | None = None
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``(ids, query_positions, pool_positions)`` of a direction under the protocol.

    The ids linked in both languages (``first`` of them, see :func:`sample_ids`: the first N, or N at random
    with ``random_state``; ``None``: all), and the positions of their source and target documents in
    ``corpus.documents`` (int64, aligned: the gold of query i is pool document i).  ``NotInCorpus`` (a
    ``KeyError`` and a ``ValueError``) for an absent language.
    """
    if random_state is None:
        ids = corpus.linked_ids(direction.source, direction.target, first=first)
    else:
        ids = sample_ids(corpus.linked_ids(direction.source, direction.target), first, random_state)
    return (ids, *id_positions(corpus, direction, ids))


def id_positions(corpus: Corpus, direction: Direction, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``corpus.documents`` of the source and target documents of ``ids`` (int64, aligned)."""
    q_pos = np.fromiter((corpus.index(i, direction.source) for i in ids), dtype=np.int64, count=len(ids))
    p_pos = np.fromiter((corpus.index(i, direction.target) for i in ids), dtype=np.int64, count=len(ids))
    return q_pos, p_pos


def n_dropped(corpus: Corpus, d: Direction) -> int:
    """Source documents left out because their id has no document in the target language."""
    return int(corpus.positions(d.source).size) - len(corpus.linked_ids(d.source, d.target))
