"""generate-title's matching of a generated title against the pool's titles: a full ranking.

Both the answer and every pool title are normalised (:func:`normalise_title`: Unicode NFKC,
case-folded, punctuation and symbols -> space, whitespace collapsed).  Score of pool document j:

* 2 when the normalised answer equals its normalised title (the exact match wins);
* else, with the ``trigram`` match (the default), the Jaccard similarity ``|A ∩ T_j| / |A ∪ T_j|``
  of the sets of character trigrams of ``" " + normalised + " "``, in [0, 1];
* else, with the ``encoder`` match, the cosine of the chosen encoder's vectors of the answer (role
  ``query``) and of the title (role ``document``), in [-1, 1], embedded through the embedding cache
  (:func:`encoder_title_cosines`);
* an empty (normalised) answer or title scores the match's least value (0 trigram, -1 encoder).

Every pool document gets a score, so recall@k and MRR are defined; the gold rank counts every pool
document scoring at least the gold's (pessimistic ties: an empty answer ranks the gold last).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np

from xlr.encoders.base import Encoder
from xlr.encoders.cache import CacheStats, EmbeddingCache
from xlr.retrieval.ranks import tiled_cosines

__all__ = ["TITLE_MATCHES", "encoder_title_cosines", "normalise_title", "title_ranks"]

TITLE_MATCHES = ("trigram", "encoder")


def normalise_title(text: str) -> str:
    """NFKC, case-folded, punctuation/symbols/controls -> space, whitespace collapsed.

    >>> normalise_title("  **Ａthens**, Greece! ")
    'athens greece'
    """
    t = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in t).split())


def _grams(norm: str) -> set[str]:
    if not norm:
        return set()
    s = f" {norm} "
    return {s[i : i + 3] for i in range(len(s) - 2)}


def encoder_title_cosines(
    encoder: Encoder,
    answers: Sequence[str],
    titles: Sequence[str],
    *,
    cache: EmbeddingCache,
    batch_size: int | None = None,
) -> tuple[np.ndarray, CacheStats]:
    """``(n, m)`` float32 cosines of the answers (role ``query``) and the titles (role ``document``), and the
    cache stats; only texts whose normalised form is not empty are embedded (the others' rows/columns are 0,
    :func:`title_ranks` floors them)."""
    ia = [i for i, a in enumerate(answers) if normalise_title(a)]
    it = [j for j, t in enumerate(titles) if normalise_title(t)]
    out = np.zeros((len(answers), len(titles)), dtype=np.float32)
    stats = CacheStats(0, 0)
    if ia and it:
        qv, s1 = cache.embed(encoder, [answers[i].strip() for i in ia], role="query", batch_size=batch_size)
        tv, s2 = cache.embed(encoder, [titles[j].strip() for j in it], role="document", batch_size=batch_size)
        out[np.ix_(ia, it)] = tiled_cosines(qv, tv)
        stats = s1 + s2
    return out, stats


def title_ranks(
    answers: Sequence[str], titles: Sequence[str], gold: np.ndarray, *, cosines: np.ndarray | None = None
) -> np.ndarray:
    """1-based gold rank of each answer among ``titles`` (the module docstring's score; pessimistic ties).

    Shapes: ``answers`` (n,), ``titles`` (m,), ``gold`` (n,) indices into ``titles``; ``cosines``: the
    ``encoder`` match's (n, m) scores (:func:`encoder_title_cosines`), ``None`` for the trigram match.
    Returns (n,) int64 in ``[1, m]``.
    """
    m = len(titles)
    if cosines is not None and np.shape(cosines) != (len(answers), m):
        raise ValueError(f"cosines must have shape ({len(answers)}, {m}), got {np.shape(cosines)}")
    norm = [normalise_title(t) for t in titles]
    floor = 0.0 if cosines is None else -1.0
    no_title = np.array([not t for t in norm], dtype=bool)
    sizes = np.array([len(_grams(t)) for t in norm], dtype=np.float64)
    index: dict[str, list[int]] = {}
    exact: dict[str, list[int]] = {}
    for j, t in enumerate(norm):
        for g in _grams(t) if cosines is None else ():
            index.setdefault(g, []).append(j)
        if t:
            exact.setdefault(t, []).append(j)
    out = np.empty(len(answers), dtype=np.int64)
    for i, (answer, g) in enumerate(zip(answers, np.asarray(gold, dtype=np.int64))):
        a = normalise_title(answer)
        if cosines is None:
            grams = _grams(a)
            inter = np.zeros(m)
            for x in grams:
                if x in index:
                    inter[index[x]] += 1
            union = len(grams) + sizes - inter
            score = np.divide(inter, union, out=np.zeros(m), where=union > 0)
        else:
            score = np.clip(np.asarray(cosines[i], dtype=np.float64), -1.0, 1.0)
            score[no_title] = floor
            if not a:
                score[:] = floor
        if a in exact:
            score[exact[a]] = 2.0
        out[i] = int(np.sum(score >= score[g]))  # the gold counts itself once: ties go against it
    return out
