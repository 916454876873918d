"""Mixed-language pools: a source language searched against every language's documents at once.

Protocol (``source``, ``target``, ``first``): the ids are the first ``first`` ids linked
between ``source`` and ``target`` (as in :func:`~xlr.retrieval.directions.direction_positions`);
the queries are their ``source`` documents (``query`` role); the pool is *every*
document of those ids in *every* language (``document`` role) except the query
itself, which is left out of its own ranking (its own-language twin would trivially
win). Gold:

* ``gold="target"``: the document of the same id in ``target`` (the question "does it
  find the English version when everything is in the pool?");
* ``gold="any"``: the best-ranked document of the same id in any language other than
  the query's own document (the question "does it find the same content at all?").

Ranks are pessimistic (ties count against the gold) and come from the one kernel,
:func:`xlr.retrieval.ranks.gold_ranks`; leaving the query out subtracts 1 from a rank
when the query's own document scores >= the gold (``q . self >= q . gold``, cosine).

**Same-language bias**: the share of queries whose top-1 (query left out) is in the query's
own language; **other-language rate**: the share whose top-1 is in neither the source nor
the target language; ``target_rate`` is the rest. They sum to 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlr.data.records import Corpus
from xlr.encoders.base import Role
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.directions import Direction, direction_positions
from xlr.retrieval.metrics import metric_names, per_query
from xlr.retrieval.ranks import gold_ranks, top_k

__all__ = ["GOLD_MODES", "MixedPoolResult", "evaluate_mixed", "mixed_pool", "mixed_pool_table"]

GOLD_MODES = ("target", "any")
VectorFn = Callable[[np.ndarray, Role], np.ndarray]


@dataclass(frozen=True)
class MixedPoolResult:
    """Outcome of one source language against the mixed pool.

    ``ranks[i]``: gold rank of query ``i`` (1-based, pool without the query); ``top1_langs[i]``:
    language of its top-1; ``pool_positions``: corpus positions of the pool (all languages).
    """

    model: str
    direction: Direction
    gold: str
    query_ids: tuple[str, ...]
    query_positions: np.ndarray
    pool_positions: np.ndarray
    ranks: np.ndarray
    top1_langs: tuple[str, ...]
    pool_languages: tuple[str, ...]

    @property
    def n_queries(self) -> int:
        return int(self.ranks.size)

    @property
    def same_language(self) -> float:
        """Share of queries whose top-1 is in their own (source) language."""
        return float(np.mean([lang == self.direction.source for lang in self.top1_langs]))

    @property
    def other_language(self) -> float:
        """Share of queries whose top-1 is in a language that is neither source nor target."""
        return float(np.mean([lang not in (self.direction.source, self.direction.target) for lang in self.top1_langs]))

    @property
    def target_rate(self) -> float:
        return 1.0 - self.same_language - self.other_language


def mixed_pool(
    corpus: Corpus,
    vectors: VectorFn,
    direction: Direction,
    *,
    first: int | None = None,
    gold: str = "target",
    model: str = "",
    random_state: int | None = None,
) -> MixedPoolResult:
    """Rank the mixed pool for every ``direction.source`` query (see the module docstring).

    ``vectors(positions, role)``: L2-normalised rows aligned with ``positions``; ``first`` and
    ``random_state`` choose the ids as in :func:`~xlr.retrieval.directions.sample_ids`. Raises
    ``ValueError`` for an unknown ``gold`` or a direction without linked ids.
    """
    if gold not in GOLD_MODES:
        raise ValueError(f"gold must be one of {', '.join(GOLD_MODES)}, got {gold!r}")
    ids, q_pos, _ = direction_positions(corpus, direction, first, random_state=random_state)
    if not ids:
        raise ValueError(f"direction {direction.label}: no id has a document in both languages")
    keep = set(ids)
    pool_pos = np.asarray([i for i, d in enumerate(corpus.documents) if d.id in keep], dtype=np.int64)
    where = {int(p): j for j, p in enumerate(pool_pos)}
    by_id: dict[str, list[int]] = {}
    for j, p in enumerate(pool_pos):
        by_id.setdefault(corpus.documents[int(p)].id, []).append(j)
    q = vectors(q_pos, "query")
    pool = vectors(pool_pos, "document")
    self_idx = np.asarray([where[int(p)] for p in q_pos], dtype=np.int64)
    self_score = np.einsum("ij,ij->i", q, pool[self_idx])
    target_idx = np.asarray(
        [next(j for j in by_id[i] if corpus.documents[int(pool_pos[j])].lang == direction.target) for i in ids],
        dtype=np.int64,
    )
    candidates = [target_idx]
    if gold == "any":
        width = max(len(v) for v in by_id.values())
        for slot in range(width):
            alt = [[j for j in by_id[i] if j != s] for i, s in zip(ids, self_idx)]
            candidates.append(np.asarray([a[slot] if slot < len(a) else t for a, t in zip(alt, target_idx)]))
    ranks = np.full(len(ids), pool_pos.size + 1, dtype=np.int64)
    for g in candidates:
        r = gold_ranks(q, pool, g) - (self_score >= np.einsum("ij,ij->i", q, pool[g])).astype(np.int64)
        ranks = np.minimum(ranks, r)
    idx, _ = top_k(q, pool, 2)
    top1 = np.where(idx[:, 0] == self_idx, idx[:, 1], idx[:, 0])
    langs = tuple(corpus.documents[int(pool_pos[j])].lang for j in top1)
    pool_langs = tuple(sorted({corpus.documents[int(p)].lang for p in pool_pos}))
    return MixedPoolResult(model, direction, gold, tuple(ids), q_pos, pool_pos, ranks, langs, pool_langs)


def mixed_pool_table(results: Iterable[MixedPoolResult], ks: Sequence[int] = (1, 10)) -> pd.DataFrame:
    """One row per (model, source): pool size and languages, recall@k / MRR, the bias rates."""
    rows = []
    for r in results:
        row = {
            "model": r.model,
            "source": r.direction.source,
            "gold": r.direction.target if r.gold == "target" else "any linked",
            "queries": r.n_queries,
            "pool": r.pool_positions.size,
            "pool languages": len(r.pool_languages),
        }
        row.update({m: float(per_query(r.ranks, m).mean()) for m in metric_names(ks)})
        row.update(
            {
                "top-1 own language": r.same_language,
                "top-1 other language": r.other_language,
                "top-1 target": r.target_rate,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def evaluate_mixed(
    corpus: Corpus,
    embeddings: CorpusEmbeddings,
    directions: Sequence[Direction],
    *,
    first: int | None = None,
    gold: str = "target",
    random_state: int | None = None,
) -> list[MixedPoolResult]:
    """:func:`mixed_pool` for every direction of ``directions`` with encoder ``embeddings`` (one result each).

    The pool of ``s->t`` holds every language's documents of the first ``first`` ids linked
    between ``s`` and ``t``; vectors come through the embeddings' cache.
    """
    model = embeddings.encoder.identity.name
    return [
        mixed_pool(corpus, embeddings.vectors, d, first=first, gold=gold, model=model, random_state=random_state)
        for d in directions
    ]
