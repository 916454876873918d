"""Pure analysis behind the dashboard pages: selections, failed queries, hubs, consistency.

Everything here works on a :class:`~xlr.data.records.Corpus`, the per-query record
:class:`~xlr.retrieval.evaluate.DirectionResult` and L2-normalised embedding rows; scores
are cosines (the dashboard evaluates with cosine scoring). No streamlit.

Conventions: ``queries`` are the vectors of ``result.query_positions`` (same
order), ``pool`` those of ``result.pool_positions``; ``result.gold[i]`` indexes
``pool``.  A query *fails at k* when its gold rank is beyond ``k``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from xlr.data.records import Corpus
from xlr.retrieval.directions import Direction
from xlr.retrieval.evaluate import DirectionResult
from xlr.retrieval.ranks import top_k

__all__ = [
    "candidates",
    "consistency",
    "documents_of",
    "failed_queries",
    "find_documents",
    "hub_counts",
    "hubness_skew",
    "selected_ids",
    "similarity_window",
    "snippet",
    "with_translations",
]

NO_ANSWER = "(no answer: translate-test used the original)"

FAILED_COLUMNS = [
    "query",
    "id",
    "query_text",
    "gold_rank",
    "gold_score",
    "top1_id",
    "top1_text",
    "top1_score",
    "gap",
]


def snippet(text: str, limit: int = 80) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters with ``…``."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


def selected_ids(corpus: Corpus, directions: Iterable[Direction], first: int | None = None) -> tuple[str, ...]:
    """Ids taking part in at least one direction (first ``first`` linked ids each), in corpus order.

    For Tatoeba, where every language pair has its own ids, this is the union of each
    pair's first ``first`` ids. An empty ``directions`` gives ``()``.
    """
    keep: set[str] = set()
    for d in directions:
        keep.update(corpus.linked_ids(d.source, d.target, first=first))
    return tuple(i for i in corpus.ids if i in keep)


def documents_of(corpus: Corpus, ids: Iterable[str], langs: Iterable[str]) -> np.ndarray:
    """Positions (int64, corpus order) of the documents whose id is in ``ids`` and language in ``langs``.

    A language the corpus lacks raises ``NotInCorpus`` (a ``KeyError``); unknown ids are simply not matched.
    """
    keep = set(ids)
    pos = [corpus.positions(lang) for lang in sorted(set(langs))]
    if not pos:
        return np.zeros(0, dtype=np.int64)
    cand = np.sort(np.concatenate(pos))
    return np.asarray([p for p in cand if corpus.documents[int(p)].id in keep], dtype=np.int64)


def find_documents(corpus: Corpus, positions: np.ndarray, text: str) -> np.ndarray:
    """Boolean mask over ``positions``: documents whose id, title or text contains ``text``.

    Case-insensitive (``str.casefold``); surrounding whitespace of ``text`` is ignored; an
    empty ``text`` matches nothing.
    """
    needle = text.strip().casefold()
    positions = np.asarray(positions, dtype=np.int64)
    if not needle:
        return np.zeros(positions.size, dtype=bool)
    docs = corpus.documents
    return np.fromiter(
        (
            needle in docs[int(p)].id.casefold()
            or needle in docs[int(p)].title.casefold()
            or needle in docs[int(p)].text.casefold()
            for p in positions
        ),
        dtype=bool,
        count=positions.size,
    )


def _check_vectors(result: DirectionResult, queries: np.ndarray, pool: np.ndarray) -> None:
    if queries.ndim != 2 or queries.shape[0] != result.n_queries:
        raise ValueError(
            f"queries must have shape ({result.n_queries}, dim) for {result.direction.label}, got {queries.shape}"
        )
    if pool.ndim != 2 or pool.shape[0] != result.pool_positions.size or pool.shape[1] != queries.shape[1]:
        raise ValueError(f"pool must have shape ({result.pool_positions.size}, {queries.shape[1]}), got {pool.shape}")


def failed_queries(
    result: DirectionResult,
    queries: np.ndarray,
    pool: np.ndarray,
    k: int,
    corpus: Corpus,
) -> pd.DataFrame:
    """One row per query whose gold rank is beyond ``k``, in query order.

    Columns: ``query`` (index into the result's queries), ``id``, ``query_text``,
    ``gold_rank``, ``gold_score`` (cosine with the gold), ``top1_id``, ``top1_text``,
    ``top1_score`` and ``gap`` = ``top1_score - gold_score`` (>= 0; 0 when the gold ties with
    the top document and loses by the pessimistic tie rule). Texts are one-line snippets.
    No failure gives an empty frame with these columns.
    """
    k = _check_k(k)
    _check_vectors(result, queries, pool)
    idx = np.flatnonzero(result.ranks > k)
    if idx.size == 0:
        return pd.DataFrame({c: [] for c in FAILED_COLUMNS})
    best, best_score = top_k(queries[idx], pool, 1)
    gold = result.gold[idx]
    gold_score = np.einsum("ij,ij->i", queries[idx], pool[gold])
    docs = corpus.documents
    top_docs = [docs[int(result.pool_positions[j])] for j in best[:, 0]]
    return pd.DataFrame(
        {
            "query": idx.astype(np.int64),
            "id": [result.query_ids[i] for i in idx],
            "query_text": [snippet(docs[int(result.query_positions[i])].text) for i in idx],
            "gold_rank": result.ranks[idx].astype(np.int64),
            "gold_score": gold_score.astype(np.float64),
            "top1_id": [d.id for d in top_docs],
            "top1_text": [snippet(d.text) for d in top_docs],
            "top1_score": best_score[:, 0].astype(np.float64),
            "gap": (best_score[:, 0] - gold_score).astype(np.float64),
        },
        columns=FAILED_COLUMNS,
    )


def with_translations(failed: pd.DataFrame, translations: Mapping[str, str]) -> pd.DataFrame:
    """``failed`` (:func:`failed_queries`) with a ``translation`` column after ``query_text``.

    ``translations``: query id -> translation (:class:`xlr.report.translations.Translation`'s text).
    A row's cell is the translation as a one-line :func:`snippet`, :data:`NO_ANSWER` when it is
    empty, ``None`` when the id was not translated. The frame is a copy; its rows are unchanged.
    """
    cells = [
        None if (t := translations.get(str(i))) is None else (snippet(t) if t.strip() else NO_ANSWER)
        for i in failed["id"]
    ]
    out = failed.copy()
    out.insert(
        list(out.columns).index("query_text") + 1, "translation", pd.Series(cells, index=out.index, dtype=object)
    )
    return out


def candidates(
    result: DirectionResult,
    query: int,
    queries: np.ndarray,
    pool: np.ndarray,
    k: int,
    corpus: Corpus,
) -> pd.DataFrame:
    """The top-``k`` pool documents of query ``query`` (an index into the result's queries).

    Columns ``rank`` (1-based, score descending then pool order), ``score``, ``gold``
    (bool), ``id``, ``lang``, ``title``, ``text`` (full text). The gold may be absent when its
    rank is beyond ``k``: its rank is ``result.ranks[query]``.
    """
    k = _check_k(k)
    _check_vectors(result, queries, pool)
    if not 0 <= query < result.n_queries:
        raise ValueError(f"query index {query} outside 0..{result.n_queries - 1}")
    best, scores = top_k(queries[query : query + 1], pool, k)
    docs = [corpus.documents[int(result.pool_positions[j])] for j in best[0]]
    return pd.DataFrame(
        {
            "rank": np.arange(1, best.shape[1] + 1),
            "score": scores[0].astype(np.float64),
            "gold": best[0] == result.gold[query],
            "id": [d.id for d in docs],
            "lang": [d.lang for d in docs],
            "title": [d.title for d in docs],
            "text": [d.text for d in docs],
        }
    )


def consistency(results: Sequence[DirectionResult], k: int) -> pd.DataFrame:
    """Does an id fail (gold rank > ``k``) in every source language or only in some?

    ``results`` are directions of one model into one target language. Returns one row per
    id (first appearance order) with one column of gold ranks per source language (``NaN``
    where the id is not evaluated from that source), then ``evaluated`` (sources with a
    rank), ``failing`` (sources with rank > k) and ``pattern``: ``"every source"`` (fails in
    all of at least two sources), ``"some sources"``, ``"only source"`` (fails in its single
    evaluated source) or ``"none"``. Mixed models or targets raise ``ValueError``.
    """
    k = _check_k(k)
    if not results:
        raise ValueError("no direction results to compare")
    models = {r.model for r in results}
    targets = {r.direction.target for r in results}
    if len(models) > 1 or len(targets) > 1:
        raise ValueError(
            f"consistency compares one model into one target; got models {sorted(models)} and targets {sorted(targets)}"
        )
    sources = [r.direction.source for r in results]
    if len(set(sources)) != len(sources):
        raise ValueError(f"source languages repeat: {sources}")
    ranks: dict[str, dict[str, int]] = {}
    for r in results:
        for qid, rank in zip(r.query_ids, r.ranks):
            ranks.setdefault(qid, {})[r.direction.source] = int(rank)
    table = pd.DataFrame.from_dict(ranks, orient="index", columns=sources, dtype=float)
    table.index.name = "id"
    evaluated = table.notna().sum(axis=1).astype(int)
    failing = (table > k).sum(axis=1).astype(int)
    pattern = np.select(
        [failing == 0, (failing == evaluated) & (evaluated >= 2), failing == evaluated],
        ["none", "every source", "only source"],
        default="some sources",
    )
    return table.assign(evaluated=evaluated, failing=failing, pattern=pattern).reset_index()


def hub_counts(top1: np.ndarray, n_pool: int) -> np.ndarray:
    """How many queries have each pool document as their top-1 (the 1-occurrence N_1).

    ``top1``: (n,) integer pool indices in ``[0, n_pool)``. Returns (n_pool,) int64.
    """
    top1 = np.asarray(top1).reshape(-1)
    if n_pool < 1:
        raise ValueError(f"n_pool must be >= 1, got {n_pool}")
    if top1.size and (not np.issubdtype(top1.dtype, np.integer) or top1.min() < 0 or top1.max() >= n_pool):
        raise ValueError(f"top1 must hold integer indices in [0, {n_pool})")
    return np.bincount(top1.astype(np.int64), minlength=n_pool).astype(np.int64)


def hubness_skew(counts: np.ndarray) -> float:
    """Skewness of the k-occurrence distribution (Radovanović et al. 2010); 0 when all counts are equal.

    Large positive values mean a few documents are the nearest neighbour of many queries.
    """
    c = np.asarray(counts, dtype=np.float64).reshape(-1)
    if c.size == 0:
        raise ValueError("counts is empty")
    sd = c.std()
    return 0.0 if sd == 0 else float(np.mean((c - c.mean()) ** 3) / sd**3)


def similarity_window(queries: np.ndarray, pool: np.ndarray, start: int, size: int) -> np.ndarray:
    """Cosine block of linked pairs ``start .. start+size-1`` in gold order.

    ``queries[i]`` and ``pool[i]`` must be a linked pair (as in a direction with
    ``gold = arange``), so the diagonal holds the gold scores. The window is cut at the
    end: shape ``(m, m)`` with ``m = min(size, n - start)``. ``start`` outside ``[0, n)``
    or ``size < 1`` raise ``ValueError``.
    """
    n = queries.shape[0]
    if pool.shape[0] != n:
        raise ValueError(f"queries and pool must be linked pairs of equal length, got {n} and {pool.shape[0]}")
    if not 0 <= start < n:
        raise ValueError(f"window start {start} outside 0..{n - 1}")
    if size < 1:
        raise ValueError(f"window size must be >= 1, got {size}")
    stop = min(start + size, n)
    return queries[start:stop] @ pool[start:stop].T
