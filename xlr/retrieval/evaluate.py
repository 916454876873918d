"""Directions, corpus embeddings and the evaluation of a corpus in one call.

Protocol (``s->t``): the queries are the documents of language ``s``, the pool
is the documents of language ``t``, and the gold of a query is the pool
document with the same id.  Only ids present in both languages take part, so
the pool holds exactly the linked documents (``n_dropped`` counts the source
documents left out for lack of a counterpart).  ``first=N`` keeps the first N
such ids in corpus order (the seed notebook's protocol is ``x->en``, N = 1000).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import pandas as pd

from xlr.data.records import Corpus
from xlr.encoders.base import Role, runtime_info
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.code_cache import CodeCache
from xlr.retrieval.directions import Direction, direction_positions, n_dropped, sampling_label
from xlr.retrieval.metrics import metric_names, summarize
from xlr.retrieval.pairwise import PairBuffer, pair_gold_ranks
from xlr.retrieval.quantized import Calibration, VectorSpec, calibrate, quantized_ranker
from xlr.retrieval.ranks import gold_ranks
from xlr.retrieval.results import TABLE_COLUMNS, EvalResults, long_table, run_manifest, wide_table
from xlr.retrieval.scoring import ScoringSpec

__all__ = [
    "TABLE_COLUMNS",
    "DirectionResult",
    "EvalResults",
    "EvalSpec",
    "evaluate",
    "evaluate_vectors",
    "results_table",
    "vector_calibration",
    "wide_table",
]


@dataclass(frozen=True)
class EvalSpec:
    """What to evaluate: directions, k values, which ids (first N or a seeded random N), scoring, text field.

    ``first`` is the number of linked ids per direction (``None``: all); ``seed=None`` keeps the first
    ``first`` of them (the seed notebook's protocol), an integer draws ``first`` at random with that seed
    (:func:`~xlr.retrieval.directions.sample_ids`: the first Tatoeba lines are near-duplicates, so first-N
    is not a fair sample).  :attr:`sampling` says which, for captions and manifests.
    """

    directions: tuple[Direction, ...]
    ks: tuple[int, ...] = (1, 5, 10)
    first: int | None = None
    scoring: ScoringSpec = field(default_factory=ScoringSpec)
    text_field: str = "text"
    vectors: VectorSpec = field(default_factory=VectorSpec)
    """How the vectors are stored and ranked (float32, int8, ubinary; :mod:`xlr.retrieval.quantized`)."""
    seed: int | None = None

    def __post_init__(self) -> None:
        if not self.directions:
            raise ValueError("no directions to evaluate")
        metric_names(self.ks)  # validates k values
        if self.first is not None and self.first < 1:
            raise ValueError(f"first must be a positive number of ids, got {self.first}")
        if self.text_field not in ("text", "title+text"):
            raise ValueError(f"text_field must be 'text' or 'title+text', got {self.text_field!r}")
        if self.seed is not None and self.first is None:
            raise ValueError("a random sample needs its size: give first=N with seed")

    @property
    def sampling(self) -> str:
        """``"first 100 linked ids"``, ``"100 linked ids drawn at random (seed 7)"`` or ``"all linked ids"``."""
        return sampling_label(self.first, self.seed)


@dataclass(frozen=True)
class DirectionResult:
    """Per-query outcome of one direction: the record the failed-query page reads.

    ``query_positions[i]`` and ``pool_positions`` index ``corpus.documents``;
    ``gold[i]`` indexes ``pool_positions``; ``ranks[i]`` is the gold rank.
    """

    model: str
    direction: Direction
    query_ids: tuple[str, ...]
    query_positions: np.ndarray
    pool_positions: np.ndarray
    gold: np.ndarray
    ranks: np.ndarray
    n_dropped: int

    @property
    def n_queries(self) -> int:
        return int(self.ranks.size)

    def summary(self, ks: Iterable[int]) -> dict[str, float]:
        """``{"recall@k": ..., "mrr": ...}``: :func:`~xlr.retrieval.metrics.summarize` of the ranks (the one mean)."""
        return summarize(self.ranks, ks)


VectorFn = Callable[[np.ndarray, Role], np.ndarray]
RankFn = Callable[..., np.ndarray]
"""``ranker(queries, pool, gold, *, scoring) -> ranks``: :func:`~xlr.retrieval.ranks.gold_ranks` or an
engine's equivalent that returns the same ranks (e.g. sharded over a Ray cluster)."""


def evaluate_vectors(
    corpus: Corpus,
    vectors: VectorFn,
    spec: EvalSpec,
    model: str,
    *,
    ranker: RankFn = gold_ranks,
    pairwise: bool = False,
) -> list[DirectionResult]:
    """Gold ranks for every direction of ``spec`` from a ``vectors(positions, role)`` function.

    The function form lets strategies (centering, alignment, fusion) supply
    transformed vectors while the protocol stays in one place; ``ranker``
    computes the ranks of one direction (default the local kernel).
    ``pairwise``: when both ``s->t`` and ``t->s`` are asked for, scoring is cosine, the
    ranker is the local kernel and query vectors equal document vectors (a symmetric
    encoder), one product serves both (:func:`~xlr.retrieval.pairwise.pair_gold_ranks`:
    ``s->t`` bit-identical, ``t->s`` identical up to near-ties within BLAS rounding).
    """
    plans = []
    for d in spec.directions:
        ids, q_pos, p_pos = direction_positions(corpus, d, spec.first, random_state=spec.seed)
        dropped = n_dropped(corpus, d)
        if not ids:
            raise ValueError(f"direction {d.label}: no id has a document in both {d.source} and {d.target}")
        plans.append((d, ids, q_pos, p_pos, dropped))
    paired: dict[Direction, np.ndarray] = {}
    if pairwise and spec.scoring.method == "cosine" and ranker is gold_ranks:
        paired = _pair_ranks(plans, vectors)
    results = []
    for d, ids, q_pos, p_pos, dropped in plans:
        gold = np.arange(len(ids), dtype=np.int64)
        if d in paired:
            ranks = paired.pop(d)
        else:
            ranks = ranker(vectors(q_pos, "query"), vectors(p_pos, "document"), gold, scoring=spec.scoring)
        results.append(DirectionResult(model, d, tuple(ids), q_pos, p_pos, gold, ranks, dropped))
    return results


def _pair_ranks(
    plans: Sequence[tuple[Direction, Any, np.ndarray, np.ndarray, int]], vectors: VectorFn
) -> dict[Direction, np.ndarray]:
    """Ranks of every direction whose reverse is planned too, one product per pair (symmetric vectors only)."""
    by_dir = {p[0]: p for p in plans}
    out: dict[Direction, np.ndarray] = {}
    buffer = PairBuffer()
    for d, ids, q_pos, p_pos, _ in plans:
        back = Direction(d.target, d.source)
        if back not in by_dir or d > back or by_dir[back][1] != ids:
            continue
        qa, qb = vectors(q_pos, "query"), vectors(p_pos, "query")
        if not (np.array_equal(qa, vectors(q_pos, "document")) and np.array_equal(qb, vectors(p_pos, "document"))):
            return out  # an asymmetric encoder: the per-direction kernel for every direction
        out[d], out[back] = pair_gold_ranks(qa, qb, buffer=buffer)
    return out


def model_label(encoder_name: str, spec: EvalSpec, strategy: str | None = None) -> str:
    """``e5-small``, ``e5-small+csls(k=10)``, ``e5-small+title+text``, ``e5-small+int8``, ..."""
    parts = [encoder_name]
    if spec.vectors.label:
        parts.append(spec.vectors.label)
    if spec.scoring.method != "cosine":
        parts.append(spec.scoring.label)
    if spec.text_field != "text":
        parts.append(spec.text_field)
    if strategy:
        parts.append(strategy)
    return "+".join(parts)


@overload
def evaluate(
    embeddings: CorpusEmbeddings,
    spec: EvalSpec,
    /,
    *,
    model: str | None = None,
    ranker: RankFn = gold_ranks,
    pairwise: bool = False,
) -> EvalResults: ...
@overload
def evaluate(
    corpus: Corpus,
    embeddings: CorpusEmbeddings,
    spec: EvalSpec,
    /,
    *,
    model: str | None = None,
    ranker: RankFn = gold_ranks,
    pairwise: bool = False,
) -> EvalResults: ...
def evaluate(*args: Any, model: str | None = None, ranker: RankFn = gold_ranks, pairwise: bool = False) -> EvalResults:
    """Evaluate every direction of ``spec``, encoding what is needed in one pass per role.

    Returns an :class:`~xlr.retrieval.results.EvalResults` (a sequence of direction results with the
    spec, the encoder's identity and a manifest).  ``evaluate(embeddings, spec)``: the corpus is ``embeddings.corpus``.  The older form
    ``evaluate(corpus, embeddings, spec)`` is accepted when ``corpus`` holds the same documents.
    ``ValueError`` (one sentence) for another corpus, or when ``spec.text_field`` is not the
    field the embeddings encode (the vectors would not be what the label says).

    With int8/ubinary ``spec.vectors`` both sides are quantized after encoding (int8 calibrated
    by :func:`vector_calibration`; the codes cached separately, :mod:`xlr.retrieval.code_cache`) and
    ranked by ``ranker`` only if it is the local kernel.
    ``pairwise``: one product per language pair (see :func:`evaluate_vectors`).
    """
    if len(args) == 2:
        embeddings, spec = args
        given = None
    elif len(args) == 3:
        given, embeddings, spec = args
    else:
        raise TypeError("evaluate(embeddings, spec) takes 2 positional arguments (or corpus, embeddings, spec)")
    corpus = embeddings.check_corpus(given, spec.text_field)
    q_all, p_all = [], []
    for d in spec.directions:
        _, q_pos, p_pos = direction_positions(corpus, d, spec.first, random_state=spec.seed)
        q_all.append(q_pos)
        p_all.append(p_pos)
    embeddings.ensure(np.concatenate(q_all), "query")
    embeddings.ensure(np.concatenate(p_all), "document")
    label = model or model_label(embeddings.encoder.identity.label, spec)
    if spec.vectors.precision != "float32":
        if ranker is not gold_ranks:
            raise ValueError("quantized vectors are ranked by the local kernel only; leave out --engine ray")
        calibration = vector_calibration(corpus, embeddings, spec)
        codes = CodeCache(embeddings.cache, embeddings.encoder, spec.vectors, calibration)  # cached separately
        ranker = quantized_ranker(spec.vectors, calibration, codes.quantize)
    results = evaluate_vectors(corpus, embeddings.vectors, spec, label, ranker=ranker, pairwise=pairwise)
    enc = embeddings.encoder
    stats = embeddings.stats
    entry = enc.identity.describe() | {"label": label} | runtime_info(enc)
    entry |= {"encoded": stats.encoded, "cached": stats.cached, "text_field": embeddings.text_field}
    return EvalResults(tuple(results), spec, (entry,), run_manifest(corpus))


def vector_calibration(corpus: Corpus, embeddings: CorpusEmbeddings, spec: EvalSpec) -> Calibration | None:
    """The int8 / cbinary calibration of an evaluation: min, max and mean per dimension over every pool
    document of every direction (document role, float32; each document once, in corpus order), as a
    vector store calibrates on the documents it indexes.  ``None`` unless ``spec.vectors`` is int8 or cbinary."""
    if spec.vectors.precision not in ("int8", "cbinary"):
        return None
    pools = [direction_positions(corpus, d, spec.first, random_state=spec.seed)[2] for d in spec.directions]
    return calibrate(embeddings.vectors(np.unique(np.concatenate(pools)), "document"))


def results_table(results: Sequence[DirectionResult], ks: Iterable[int]) -> pd.DataFrame:
    """Tidy table of any direction results (a thin wrapper of :func:`xlr.retrieval.results.long_table`;
    an :class:`EvalResults` says ``results.to_frame()``)."""
    return long_table(results, ks)
