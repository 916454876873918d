"""Bitext mining scores as MTEB computes them: accuracy, precision, recall and F1 of top-1 cosine mining.

Mirrors ``mteb/evaluation/evaluators/BitextMiningEvaluator.py`` (embeddings-benchmark/mteb; the same
computation in every 1.x release): each query ``i`` of ``sentence1`` is matched to its nearest
``sentence2`` document by cosine, ``pred_i``; its label is the gold ``g_i``; then scikit-learn's
``precision_score``, ``recall_score`` and ``f1_score`` with ``average="weighted", zero_division=0`` and
``accuracy_score`` over the ``(g_i, pred_i)`` pairs.  With classes ``c`` (pool indices), support
``s_c = #{i: g_i = c}``, predictions ``p_c = #{i: pred_i = c}`` and hits ``t_c = #{i: g_i = pred_i = c}``::

    precision = sum_c s_c * (t_c / p_c) / N        (t_c / p_c := 0 when p_c = 0)
    recall    = sum_c s_c * (t_c / s_c) / N = accuracy = #{i: pred_i = g_i} / N
    F1        = sum_c s_c * 2 t_c / (s_c + p_c) / N
    N         = number of queries

So a document predicted for several queries lowers precision (and F1) below accuracy: F1 is MTEB's
headline bitext score, accuracy equals xlr's recall@1 of the same direction.

Direction convention: MTEB's pair ``"ara-eng"`` has ``sentence1`` = Arabic as the queries and
``sentence2`` = English as the pool, i.e. xlr's direction ``ar->en`` (:mod:`xlr.report.mteb_results` matches
pairs to directions this way, language by language).

Ties: ``ties="pessimistic"`` (xlr's rule, the default) predicts the gold only when no other document
scores as high (a document tied with the gold wins, the lowest-indexed of them); ``ties="first"`` takes the
lowest-indexed document among the maxima, what ``torch.topk(k=1)`` returns on CPU in MTEB's runs. They
differ only on exact float ties (duplicate sentences in a pool).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlr.data.records import Corpus
from xlr.encoders.base import Role
from xlr.retrieval.directions import Direction, direction_positions
from xlr.retrieval.ranks import tiled_cosines

__all__ = ["BITEXT_METRICS", "BitextScores", "bitext_scores", "bitext_table", "mining_predictions"]

BITEXT_METRICS = ("bitext_accuracy", "bitext_precision", "bitext_recall", "bitext_f1")
TIES = ("pessimistic", "first")


@dataclass(frozen=True)
class BitextScores:
    """MTEB's four bitext-mining scores of one direction (see the module docstring)."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    n_queries: int

    def as_dict(self) -> dict[str, float]:
        return {
            "bitext_accuracy": self.accuracy,
            "bitext_precision": self.precision,
            "bitext_recall": self.recall,
            "bitext_f1": self.f1,
        }


def mining_predictions(
    queries: np.ndarray, pool: np.ndarray, gold: np.ndarray, *, ties: str = "pessimistic", chunk: int = 1024
) -> np.ndarray:
    """The pool index each query is matched to (top-1 by dot product of L2-normalised rows = cosine).

    ``queries`` ``(n, d)``, ``pool`` ``(m, d)``, ``gold`` ``(n,)`` pool indices; returns ``(n,)`` int64.
    Scores come from :func:`~xlr.retrieval.ranks.tiled_cosines` one chunk of queries at a time.
    """
    if ties not in TIES:
        raise ValueError(f"ties must be one of {', '.join(TIES)}, got {ties!r}")
    n = queries.shape[0]
    gold = np.asarray(gold, dtype=np.int64)
    if gold.shape != (n,):
        raise ValueError(f"gold must have one pool index per query: shape {gold.shape}, {n} queries")
    out = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        s = tiled_cosines(queries[start : start + chunk], pool)
        rows = np.arange(s.shape[0])
        first = np.argmax(s, axis=1)  # lowest index among the maxima
        if ties == "first":
            out[start : start + s.shape[0]] = first
            continue
        g = gold[start : start + chunk]
        g_score = s[rows, g].copy()
        s[rows, g] = -np.inf
        other = np.argmax(s, axis=1)
        beaten = s[rows, other] >= g_score  # another document scores at least as high as the gold
        out[start : start + s.shape[0]] = np.where(beaten, other, g)
    return out


def bitext_scores(gold: np.ndarray, predictions: np.ndarray) -> BitextScores:
    """Accuracy and weighted precision/recall/F1 of ``(gold, predictions)`` exactly as scikit-learn averages
    them in MTEB (formulas in the module docstring); both ``(n,)`` non-negative integer arrays, ``n >= 1``."""
    g = np.asarray(gold, dtype=np.int64)
    p = np.asarray(predictions, dtype=np.int64)
    if g.shape != p.shape or g.ndim != 1 or g.size == 0:
        raise ValueError(f"gold and predictions must be equal-length 1-D arrays, got {g.shape} and {p.shape}")
    size = int(max(g.max(), p.max())) + 1
    support = np.bincount(g, minlength=size).astype(np.float64)
    predicted = np.bincount(p, minlength=size).astype(np.float64)
    hits = np.bincount(g[g == p], minlength=size).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision_c = np.where(predicted > 0, hits / predicted, 0.0)
        f1_c = np.where(support + predicted > 0, 2 * hits / (support + predicted), 0.0)
    n = float(g.size)
    return BitextScores(
        accuracy=float(hits.sum() / n),
        precision=float((support * precision_c).sum() / n),
        recall=float(hits.sum() / n),
        f1=float((support * f1_c).sum() / n),
        n_queries=int(g.size),
    )


VectorFn = Callable[[np.ndarray, Role], np.ndarray]


def bitext_table(
    corpus: Corpus,
    vectors: VectorFn,
    directions: Sequence[Direction],
    model: str,
    *,
    first: int | None = None,
    random_state: int | None = None,
    ties: str = "pessimistic",
) -> pd.DataFrame:
    """Tidy rows ``model, source, target, metric, value, n_queries`` of :data:`BITEXT_METRICS` per direction.

    The ids of a direction are chosen as for recall@k (``first``, ``random_state``); ``vectors(positions,
    role)`` gives L2-normalised rows (queries in the ``"query"`` role, the pool in ``"document"``).
    """
    rows: list[dict[str, object]] = []
    for d in directions:
        ids, q_pos, p_pos = direction_positions(corpus, d, first, random_state=random_state)
        gold = np.arange(len(ids), dtype=np.int64)
        pred = mining_predictions(vectors(q_pos, "query"), vectors(p_pos, "document"), gold, ties=ties)
        scores = bitext_scores(gold, pred)
        rows.extend(
            {"model": model, "source": d.source, "target": d.target, "metric": m, "value": v, "n_queries": len(ids)}
            for m, v in scores.as_dict().items()
        )
    return pd.DataFrame(rows, columns=["model", "source", "target", "metric", "value", "n_queries"])
