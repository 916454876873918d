"""Is the first-N selection a fair sample? Name duplicate-heavy heads.

The first N linked ids of a direction are the seed notebook's protocol, but a corpus can open
with near-duplicates: Tatoeba's first Arabic lines are "Sami … money" sentences (ar->en on the
first 50 ids: 0.540 beside 0.796 on all 1000 ids; issue 19). A head is *skewed* when one word
(3+ letters, lower-cased) occurs in at least ``min_share`` of its source texts and in at least
``min_ratio`` times that share over all the direction's linked source texts. XQuAD's heads stay
below 2.5x; Tatoeba's ar/de/fr heads at N = 50 reach 10-20x (measured on ../shared/data).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from xlr.data.records import Corpus
from xlr.retrieval.directions import Direction

__all__ = ["HeadSkew", "skewed_heads"]


@dataclass(frozen=True)
class HeadSkew:
    """``word`` is in ``share`` of the first ``n`` source texts of ``direction``, ``ratio`` x its share overall."""

    direction: str
    n: int
    word: str
    share: float
    ratio: float

    def sentence(self) -> str:
        return (
            f"{self.direction}: the first {self.n} ids are near-duplicates ('{self.word}' in {self.share:.0%} of them, "
            f"{self.ratio:.0f}x its share in all ids): not a fair sample"
        )


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) >= 3}


def skewed_heads(
    corpus: Corpus,
    directions: Sequence[Direction],
    first: int | None,
    *,
    seed: int | None = None,
    min_share: float = 0.25,
    min_ratio: float = 4.0,
) -> list[HeadSkew]:
    """The directions whose first ``first`` linked ids are duplicate-heavy (``[]`` for all ids or a random
    sample: ``seed`` set). Each direction is judged on its source-language texts."""
    if first is None or seed is not None:
        return []
    out = []
    for d in directions:
        ids = corpus.linked_ids(d.source, d.target)
        if len(ids) <= first:
            continue
        texts = [_words(corpus.documents[corpus.index(i, d.source)].text) for i in ids]
        head, every = Counter(w for t in texts[:first] for w in t), Counter(w for t in texts for w in t)
        best = None
        for word, n in sorted(head.items()):  # ties: the first word alphabetically (reproducible)
            share = n / first
            ratio = share / (every[word] / len(texts))
            if share >= min_share and ratio >= min_ratio and (best is None or ratio > best.ratio):
                best = HeadSkew(d.label, first, word, share, ratio)
        if best is not None:
            out.append(best)
    return out
