"""The evaluated/fit split of the linked ids (see :mod:`xlr.strategies.runner`).

The *evaluated* ids of a direction ``s->t`` are its first N linked ids in corpus
order (``Split(first=N)``), or its linked ids among a given list
(``Split(ids=...)``), or all of them (``Split()``).  The *fit* ids are every corpus
id outside the union of the evaluated ids of all directions: centering means,
Procrustes maps and fine-tuning pairs come from them only, so no evaluated
document leaks into a fit.  Tatoeba (ids per language pair, 1000 each):
``Split(first=500)`` evaluates lines 0-499 of each pair and fits on lines
500-999.  XQuAD (ids ``<article>#<paragraph>``, file order): the first N
paragraphs are evaluated and the remaining articles fit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xlr.data.reading import split_lines
from xlr.data.records import Corpus, CorpusError
from xlr.paths import read_bounded
from xlr.retrieval.directions import Direction, id_positions

__all__ = ["Split", "SplitPlan", "plan_split"]


@dataclass(frozen=True)
class Split:
    """Which linked ids are evaluated: the first ``first`` of each direction, or those in ``ids``.

    Neither: every linked id is evaluated (nothing is left to fit on).
    """

    first: int | None = None
    ids: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.first is not None and self.ids is not None:
            raise ValueError("give either the first N ids or a list of ids to evaluate, not both")
        if self.first is not None and (
            isinstance(self.first, bool) or not isinstance(self.first, (int, np.integer)) or self.first < 1
        ):
            raise ValueError(f"the number of evaluated ids must be a positive integer, got {self.first!r}")
        if self.ids is not None:
            object.__setattr__(self, "ids", tuple(self.ids))
            if not self.ids:
                raise ValueError("the list of evaluated ids is empty")

    @classmethod
    def choose(
        cls,
        corpus: Corpus,
        directions: Sequence[Direction],
        *,
        ids_file: str | os.PathLike[str] | None = None,
        first: int | None = None,
        evaluate_all: bool = False,
        fits: bool = True,
    ) -> Split:
        """The split a run asks for: the ids listed in ``ids_file`` (one a line), the ``first`` N, every id
        (``evaluate_all``, or when nothing is fitted), else half of the smallest direction (:meth:`half`)."""
        if ids_file is not None:
            return cls(ids=read_ids_file(ids_file))
        if first is not None:
            return cls(first=first)
        if evaluate_all or not fits:
            return cls()
        return cls.half(corpus, directions)

    @classmethod
    def half(cls, corpus: Corpus, directions: Sequence[Direction]) -> Split:
        """Evaluate the first half of the smallest direction's linked ids (Tatoeba: 500 of 1000)."""
        sizes = [len(corpus.linked_ids(d.source, d.target)) for d in directions]
        if not sizes or min(sizes) < 2:
            raise ValueError("a direction has fewer than 2 linked ids: nothing to split")
        return cls(first=min(sizes) // 2)


MAX_IDS_BYTES = 64 << 20
"""64 MiB: an ids file larger than this is refused by its size, unread"""


def read_ids_file(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """The ids listed in ``path``, one a line (blank lines and surrounding spaces ignored).

    A regular UTF-8 file of at most :data:`MAX_IDS_BYTES`; anything else (a FIFO, ``/dev/zero``, a
    bigger file, CR-only line endings, a byte that is not UTF-8) is one ``ValueError`` sentence
    naming the file (and line).
    """
    label = str(path)
    data = read_bounded(path, MAX_IDS_BYTES, "an ids file")
    ids = []
    for _no, text, issue in split_lines(data, label):
        if issue is not None:
            raise CorpusError(issue)
        if text.strip():
            ids.append(text.strip())
    return tuple(ids)


@dataclass(frozen=True)
class SplitPlan:
    """A :class:`Split` resolved on a corpus: evaluated ids per direction, the fit ids, one sentence."""

    split: Split
    directions: tuple[Direction, ...]
    evaluated: tuple[tuple[str, ...], ...]
    """evaluated ids of ``directions[i]``, in corpus order"""
    fit_ids: frozenset[str]
    description: str

    def positions(self, corpus: Corpus, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Corpus positions of the query and pool documents of direction ``i``."""
        return id_positions(corpus, self.directions[i], self.evaluated[i])


def plan_split(corpus: Corpus, directions: Sequence[Direction], split: Split) -> SplitPlan:
    """Resolve ``split`` on ``corpus``; ``ValueError`` for an unknown id or a direction left empty."""
    directions = tuple(directions)
    if not directions:
        raise ValueError("no directions to evaluate")
    if split.ids is not None:
        known = set(corpus.ids)
        unknown = [i for i in dict.fromkeys(split.ids) if i not in known]
        if unknown:
            raise ValueError(
                f"{len(unknown)} evaluated ids are not in corpus {corpus.name!r}: "
                f"{', '.join(map(repr, unknown[:5]))}{', ...' if len(unknown) > 5 else ''}"
            )
        wanted = set(split.ids)
    evaluated, parts = [], []
    for d in directions:
        linked = corpus.linked_ids(d.source, d.target)
        ids = (
            linked[: split.first]
            if split.first
            else (tuple(i for i in linked if i in wanted) if split.ids is not None else linked)
        )
        if not ids:
            raise ValueError(f"direction {d.label}: no evaluated id has a document in both languages")
        evaluated.append(ids)
        parts.append(f"{d.label} {len(ids)}/{len(linked)}")
    union = set().union(*evaluated)
    fit = frozenset(i for i in corpus.ids if i not in union)
    what = (
        f"the first {split.first} linked ids of each direction"
        if split.first
        else f"the linked ids among {len(set(split.ids))} given ids"
        if split.ids is not None
        else "every linked id of each direction"
    )
    fitted = (
        (
            f"fit ids (centering, Procrustes, fine-tuning): the other {len(fit)} ids of the corpus, "
            "disjoint from every evaluated id"
        )
        if fit
        else "no id is left to fit on"
    )
    return SplitPlan(
        split,
        directions,
        tuple(evaluated),
        fit,
        f"evaluated: {what} ({', '.join(parts)}); {fitted}",
    )
