"""Query-set evaluation: questions (XQuAD) against paragraphs across languages (LAReQA-style).

A query set holds questions; question q (language s) has ``gold_id``, the id of
the paragraph that answers it.  Per question language s:

* **pool** ``"<lang>"`` (e.g. ``"en"``): the pool is every paragraph of that
  language; the one relevant document is the paragraph with id ``gold_id``
  (direction label ``s->en``; ``en->en`` is the monolingual reference).
* **pool** ``"all"``: the pool is every paragraph of every language
  (LAReQA's multilingual pool); *every* paragraph with id ``gold_id`` is
  relevant, in whatever language (label ``s->all``).

A question whose gold id has no paragraph in the pool is dropped (counted in
``n_dropped``).  With ``R`` relevant documents of pessimistic ranks
``r_1 <= ... <= r_R`` (the one ranking kernel, :func:`xlr.retrieval.ranks.relevant_ranks`: a document tied
with a relevant one counts as above it):

    positions  p_1 < ... < p_R                (:func:`xlr.retrieval.metrics.relevant_positions`: relevant
                                              documents tied with each other do not count against each other)
    rank(q)    = p_1                          (first relevant document; what ``ranks`` holds)
    success@k  = mean_q [p_1 <= k]            (hit rate: some relevant document in the top k)
    recall@k   = mean_q #{i: p_i <= k} / R    (share of the relevant documents in the top k)
    MRR        = mean_q 1 / p_1
    mAP@n      = mean_q (1/min(R, n)) sum_{i: p_i <= n} i / p_i    (:func:`xlr.retrieval.metrics.average_precision`)

With one relevant document (a language pool) success@k = recall@k; the ``all`` pool lists both.

With one relevant document, mAP@n equals MRR truncated at n.  Questions are
encoded in the ``query`` role, paragraphs in the ``document`` role, through
the embedding cache.  CSLS/margin take r_S from the questions of the same
language (the evaluated queries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlr.data.records import Corpus, QuerySet
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.directions import QueryDirection
from xlr.retrieval.evaluate import TABLE_COLUMNS
from xlr.retrieval.metrics import metric_names, per_query, relevant_positions
from xlr.retrieval.ranks import relevant_ranks
from xlr.retrieval.scoring import ScoringSpec

__all__ = [
    "QueryDirection",
    "QueryResult",
    "QuerySpec",
    "evaluate_queries",
    "queries_table",
    "query_pools",
]

CHUNK = 256


@dataclass(frozen=True)
class QuerySpec:
    """What to evaluate: pool (a language or ``"all"``), question languages (default: all), k values, mAP@n."""

    pool: str = "en"
    query_langs: tuple[str, ...] | None = None
    ks: tuple[int, ...] = (1, 5, 10)
    map_n: int = 20
    scoring: ScoringSpec = field(default_factory=ScoringSpec)
    text_field: str = "text"

    def __post_init__(self) -> None:
        if not isinstance(self.pool, str) or not self.pool.strip():
            raise ValueError("pool must be a language code or 'all'")
        metric_names(self.ks)
        if isinstance(self.map_n, bool) or not isinstance(self.map_n, int) or self.map_n < 1:
            raise ValueError(f"map_n must be a positive integer, got {self.map_n!r}")
        if self.query_langs is not None:
            object.__setattr__(self, "query_langs", tuple(self.query_langs))
            if not self.query_langs:
                raise ValueError("query_langs is empty: name at least one question language (or None for all)")
        if self.text_field not in ("text", "title+text"):
            raise ValueError(f"text_field must be 'text' or 'title+text', got {self.text_field!r}")

    def metrics(self) -> list[str]:
        """``recall@k`` per k, ``success@k`` per k (the ``all`` pool only: several relevant documents),
        ``mrr``, ``map@n``."""
        names = metric_names(self.ks)
        success = [f"success@{k}" for k in sorted(set(self.ks))] if self.pool == "all" else []
        return names[:-1] + success + ["mrr", f"map@{self.map_n}"]


@dataclass(frozen=True, eq=False)
class QueryResult:
    """One question language against the pool.

    ``query_ids``: question ids (``qid/lang``); ``ranks[i]``: rank of the first relevant
    paragraph; ``relevant_ranks[i]``: ranks of every relevant paragraph, ascending;
    ``pool_positions``: corpus positions of the pool; ``n_dropped``: questions without
    a relevant paragraph in the pool.
    """

    model: str
    direction: QueryDirection
    query_ids: tuple[str, ...]
    gold_ids: tuple[str, ...]
    pool_positions: np.ndarray
    ranks: np.ndarray
    relevant_ranks: tuple[np.ndarray, ...]
    n_dropped: int

    @property
    def n_queries(self) -> int:
        return int(self.ranks.size)

    def value(self, metric: str) -> float:
        """Mean of ``recall@k``, ``success@k``, ``mrr`` or ``map@n`` over the questions."""
        return float(per_query(self.ranks, metric, self.relevant_ranks).mean())


def query_pools(corpus: Corpus) -> tuple[str, ...]:
    """The pools a query set can be evaluated against on ``corpus``: each language, then ``"all"``."""
    return tuple(corpus.languages) + ("all",)


def evaluate_queries(
    corpus: Corpus,
    queries: QuerySet,
    embeddings: CorpusEmbeddings,
    spec: QuerySpec,
    *,
    model: str | None = None,
    batch_size: int | None = None,
) -> list[QueryResult]:
    """One :class:`QueryResult` per question language (``spec.query_langs``, default all, sorted).

    ``embeddings`` supplies the paragraph vectors (its text field must be ``spec.text_field``)
    and the encoder + cache used for the questions.  ``ValueError`` for an unknown pool or
    question language, an empty query set, or a language whose every question is dropped.
    """
    if len(queries) == 0:
        raise ValueError(f"query set {queries.name!r} is empty")
    corpus = embeddings.check_corpus(corpus, spec.text_field)
    if spec.pool not in query_pools(corpus):
        raise ValueError(
            f"pool {spec.pool!r} is not a language of corpus {corpus.name!r} nor 'all' "
            f"(languages: {', '.join(corpus.languages)})"
        )
    langs = spec.query_langs or queries.languages
    for lang in langs:
        if lang not in queries.languages:
            raise ValueError(
                f"no question in language {lang!r} in query set {queries.name!r} "
                f"(languages: {', '.join(queries.languages)})"
            )
    pool_langs = corpus.languages if spec.pool == "all" else (spec.pool,)
    pool_pos = np.concatenate([corpus.positions(lang) for lang in pool_langs])
    by_id: dict[str, list[int]] = {}
    for j, p in enumerate(pool_pos):
        by_id.setdefault(corpus.documents[int(p)].id, []).append(j)
    pool = embeddings.vectors(pool_pos, "document")
    encoder, label = embeddings.encoder, model or embeddings.encoder.identity.name
    if spec.scoring.method != "cosine":
        label += "+" + spec.scoring.label
    results = []
    for lang in langs:
        qs = [q for q in queries.queries if q.lang == lang]
        kept = [q for q in qs if q.gold_id in by_id]
        if not kept:
            raise ValueError(f"questions in {lang!r}: none has its paragraph in the {spec.pool!r} pool")
        vecs, _ = embeddings.cache.embed(
            encoder,
            [q.text for q in kept],
            role="query",
            batch_size=batch_size,
            progress=embeddings.progress,
        )
        width = max(len(by_id[q.gold_id]) for q in kept)
        relevant = np.full((len(kept), width), -1, dtype=np.int64)
        for i, q in enumerate(kept):
            relevant[i, : len(by_id[q.gold_id])] = by_id[q.gold_id]
        rel_ranks = relevant_ranks(vecs, pool, relevant, scoring=spec.scoring, chunk_size=CHUNK)
        per_q = tuple(relevant_positions(r[r > 0]) for r in rel_ranks)
        results.append(
            QueryResult(
                label,
                QueryDirection(lang, spec.pool),
                tuple(q.qid for q in kept),
                tuple(q.gold_id for q in kept),
                pool_pos,
                np.array([r[0] for r in per_q]),
                per_q,
                len(qs) - len(kept),
            )
        )
    return results


def queries_table(results: Sequence[QueryResult], spec: QuerySpec) -> pd.DataFrame:
    """Tidy table like :func:`xlr.retrieval.evaluate.results_table`: one row per (model, source, target, metric).

    Metrics: ``recall@k`` for each k of ``spec``, ``mrr``, ``map@<spec.map_n>``; ``target``
    is the pool (a language or ``"all"``).
    """
    rows = [
        {
            "model": r.model,
            "source": r.direction.source,
            "target": r.direction.target,
            "metric": m,
            "value": r.value(m),
            "n_queries": r.n_queries,
        }
        for r in results
        for m in spec.metrics()
    ]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)
